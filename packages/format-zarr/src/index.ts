import type { FormatDriver, FormatPlugin, Plugin } from "@cloudvolume/core";

export { ZarrLayer, zarrDriver, DEFAULT_COMPRESSOR, FORMAT_NAMES, type ZarrDriverOptions } from "./layer.js";
export { parseZarray, parseMultiscales, type ZarrArrayMeta, type NgffMultiscale, type DimensionSeparator } from "./metadata.js";
export { parseDtype, dtypeText, type ZarrDtype } from "./dtype.js";
export { axisMap, type AxisMap, type AxisOptions } from "./axes.js";

export const PACKAGE_NAME = "@cloudvolume/format-zarr";

/**
 * The zarr format plugin: `zarr://<storage url>` (zarr v2 detected from .zarray / .zgroup;
 * a zarr v3 layer, zarr.json, is refused as not implemented yet), `zarr2://` and
 * `zarr3://` (not implemented yet). Chunks are read and written by the chunk engine; the
 * compressors come from the Context's compression plugins (@cloudvolume/codec-gzip's
 * gzip and zlib, -zstd, -blosc, -bzip2, -lz4).
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
