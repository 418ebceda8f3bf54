import type { CompressionPlugin } from "@cloudvolume/core";
import { ZSTD_NAME, ZSTD_PACKAGE } from "./zstd.js";

export { zstdCodec, zstdCompress, zstdDecompress, zstdLevel, ZSTD_SUFFIX, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL } from "./zstd.js";

/**
 * Plugin descriptor for zstd: Precomputed transfer compression (`compress: "zstd"`,
 * CloudFiles' `.zstd` files, Content-Encoding zstd) and the `zstd` compressor of zarr
 * and n5. The WebAssembly module loads on first use.
 */
export function zstd(): CompressionPlugin {
  return {
    kind: "compression",
    names: [ZSTD_NAME],
    package: ZSTD_PACKAGE,
    load: async () => (await import("./zstd.js")).zstdCodec,
  };
}

export default [zstd()];
