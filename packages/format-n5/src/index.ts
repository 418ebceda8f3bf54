import type { FormatDriver, FormatPlugin, Plugin } from "@cloudvolume/core";

export { N5Layer, n5Driver, FORMAT_NAME, type N5Layout } from "./driver.js";
export { n5BlockCodec, parseBlockHeader, blockHeaderBytes, n5Dims, MODE_DEFAULT, MODE_VARLENGTH, MODE_OBJECT, type BlockHeader, type BlockCompression } from "./block.js";
export { resolveCompression, pluginNameOf, COMPRESSION_PACKAGES } from "./compression.js";
export {
  ATTRIBUTES, N5_VERSION, VOXEL_OFFSET_KEY, COMPRESSION_ENCODINGS, defaultCompression, parseAttributes, parseDataset, parseCompression, planScales,
  type N5Compression, type N5Dataset,
} from "./metadata.js";
export { decodeLz4BlockStream, encodeLz4BlockStream, lz4DecodeBlock, lz4EncodeBlock, xxhash32, lz4BlockChecksum, isLz4BlockStream } from "./lz4.js";

export const PACKAGE_NAME = "@cloudvolume/format-n5";

/**
 * The format plugin for `n5://<storage url>` (`n5://file:///abs/x.n5/dataset`,
 * `n5://mem://bucket/x`). The descriptor is tiny; load() imports the driver. Block
 * compression comes from the Context's compression plugins (gzip, zlib, bzip2, xz, blosc,
 * zstd; n5-java's lz4 framing is built in).
 */
export function n5(): FormatPlugin<FormatDriver> {
  return {
    kind: "format",
    names: ["n5"],
    package: PACKAGE_NAME,
    load: async () => (await import("./driver.js")).n5Driver,
  };
}

/** What `--plugin` and CLOUDVOLUME_PLUGINS load: the default export is a Plugin or an array of them. */
const plugins: Plugin[] = [n5()];
export default plugins;
