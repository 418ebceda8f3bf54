import type { CompressionPlugin } from "@cloudvolume/core";
import { BLOSC_NAME, BLOSC_PACKAGE } from "./blosc.js";

export { bloscCodec, bloscCompress, bloscDecompress, bloscSettings, readBloscHeader, BLOSC_CNAMES, BLOSC_SUFFIX, type BloscHeader, type BloscParams, type BloscCname } from "./blosc.js";
export { byteShuffle, byteUnshuffle, bitShuffle, bitUnshuffle } from "./shuffle.js";
export { blosclzDecode, blosclzEncode } from "./blosclz.js";

/** Plugin descriptor for blosc (the `blosc` compressor of zarr v2 and n5). */
export function blosc(): CompressionPlugin {
  return {
    kind: "compression",
    names: [BLOSC_NAME],
    package: BLOSC_PACKAGE,
    load: async () => (await import("./blosc.js")).bloscCodec,
  };
}

export default [blosc()];
