import type { CompressionPlugin } from "@cloudvolume/core";
import { LZ4_NAME, LZ4_PACKAGE } from "./lz4.js";

export { lz4Codec, lz4Compress, lz4CompressBlock, lz4Decompress, lz4Acceleration, LZ4_SUFFIX, DEFAULT_LZ4_ACCELERATION } from "./lz4.js";
export { lz4DecodeBlock, Lz4FormatError } from "./block.js";

/** Plugin descriptor for numcodecs-framed LZ4 (the `lz4` compressor of zarr and n5). */
export function lz4(): CompressionPlugin {
  return {
    kind: "compression",
    names: [LZ4_NAME],
    package: LZ4_PACKAGE,
    load: async () => (await import("./lz4.js")).lz4Codec,
  };
}

export default [lz4()];
