import { ChunkedVolume } from "@cloudvolume/chunks";
import { Context } from "@cloudvolume/core";
import { gzip } from "@cloudvolume/codec-gzip";
import { raw } from "@cloudvolume/codec-raw";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { describeFormat, type FormatUnderTest } from "@cloudvolume/testing";
import { n5 } from "../src/index.js";

/*
 * The Format contract's conformance suite over every dtype, twice: as layers are created by
 * default (encoding "raw" = CloudVolume's gzip default, so gzip-compressed N5 blocks) and
 * with N5 raw compression (the open hook gives each new layer's scales {"type": "raw"}).
 */
let i = 0;
describeFormat("n5", async () => ({
  plugins: [n5(), memoryStorage(), gzip(), raw()],
  newLayerUrl: () => `n5://mem://n5conf/l${i++}`,
}));

let j = 0;
describeFormat("n5 (raw compression)", async (): Promise<FormatUnderTest> => {
  const plugins = [n5(), memoryStorage(), gzip(), raw()];
  return {
    plugins,
    newLayerUrl: () => `n5://mem://n5conf-raw/l${j++}`,
    open: (url, opts) => {
      const info = opts.info as { scales: Record<string, unknown>[] } | undefined;
      if (info) for (const s of info.scales) s.compression = { type: "raw" };
      return ChunkedVolume.open(new Context({ plugins }), url, opts);
    },
  };
});
