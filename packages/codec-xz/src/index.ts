import type { CompressionPlugin, Plugin } from "@cloudvolume/core";

export const XZ_NAME = "xz";
export const XZ_SUFFIX = ".xz";
export const XZ_PACKAGE = "@cloudvolume/codec-xz";

export { xzCodec } from "./xz.js";

/**
 * Plugin descriptor for xz decompression (`.xz` streams: N5's "xz" compression, numcodecs'
 * LZMA in its default xz format). Decode only: encode fails with UNSUPPORTED.
 */
export function xz(): CompressionPlugin {
  return {
    kind: "compression",
    names: [XZ_NAME],
    package: XZ_PACKAGE,
    load: async () => (await import("./xz.js")).xzCodec,
  };
}

/** What `--plugin` and CLOUDVOLUME_PLUGINS load. */
const plugins: Plugin[] = [xz()];
export default plugins;
