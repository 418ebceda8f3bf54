import type { FormatDriver, FormatPlugin, Plugin } from "@cloudvolume/core";

export { ZarrLayer, zarrDriver, DEFAULT_COMPRESSOR, FORMAT_NAMES, type ZarrDriverOptions } from "./layer.js";
export { parseZarray, parseMultiscales, type ZarrArrayMeta, type NgffMultiscale, type DimensionSeparator } from "./metadata.js";
export { parseZarr3Array, parseChain, chunkKeyV3, type Zarr3ArrayMeta, type V3Chain, type V3Sharding } from "./v3-metadata.js";
export { ZarrShards } from "./v3-shards.js";
export { crc32c } from "./v3-codec.js";
export { defaultShardShape } from "./layout-v3.js";
export { ZARR3_SHARDING, type ZarrAttachment } from "./present.js";
export { parseDtype, dtypeText, type ZarrDtype } from "./dtype.js";
export { axisMap, type AxisMap, type AxisOptions } from "./axes.js";

export const PACKAGE_NAME = "@cloudvolume/format-zarr";

/**
 * The zarr format plugin: `zarr://<storage url>` (v2 from .zarray / .zgroup / .zattrs, v3
 * from zarr.json), `zarr2://` and `zarr3://` (that version only; new layers are created
 * in it; zarr:// creates v2). Chunks are read and written by the chunk engine; zarr v3's
 * sharding_indexed arrays are sharded mips. The compressors come from the Context's
 * compression plugins (@cloudvolume/codec-gzip's gzip and zlib, -zstd, -blosc, -bzip2,
 * -lz4); crc32c is built in.
 */
export function zarr(): FormatPlugin<FormatDriver> {
  return {
    kind: "format",
    names: ["zarr", "zarr2", "zarr3"],
    package: PACKAGE_NAME,
    load: async () => (await import("./layer.js")).zarrDriver,
  };
}

const plugins: Plugin[] = [zarr()];
export default plugins;
