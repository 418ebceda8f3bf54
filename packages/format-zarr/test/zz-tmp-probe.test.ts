import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { it } from "vitest";
import { Context } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { layerInfoFor, tempDir } from "@cloudvolume/testing";
import { fileStorage } from "@cloudvolume/storage-file";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";
it("probe", async () => {
  const dir = tempDir("probe-");
  const ctx = new Context({ plugins: [zarr(), fileStorage(), ...compressionPlugins()] });
  const info = layerInfoFor({ dtype: "uint8", channels: 4, size: [10, 11, 12], chunkSize: [4, 4, 4], voxelOffset: [1, 2, 3] });
  const v = await ChunkedVolume.open(ctx, `zarr3://file://${dir}/l`, { info, shards: [8, 8, 8] });
  await v.commitInfo();
  await v.upload(v.bounds(0), new Uint8Array(10 * 11 * 12 * 4).fill(7));
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => statSync(join(d, f)).isDirectory() ? walk(join(d, f)).map((x) => `${f}/${x}`) : [f]);
  console.log(walk(dir), v.chunkKey(v.bounds(0), 0));
});
