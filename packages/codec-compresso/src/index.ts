import type { CodecPlugin } from "@cloudvolume/core";
import { CODEC_NAME, PACKAGE_NAME } from "./format.js";

export { compressoCodec } from "./codec.js";
export { decodeCompresso, decodeBoundaries, components } from "./decode.js";
export { encodeCompresso } from "./encode.js";
export { compressoLabels } from "./labels.js";
export { compressoBackend, nativeCompresso, type NativeCompresso } from "./native.js";
export { readHeader, windowWidth, zindexWidth, type CompressoHeader } from "./format.js";

/** Plugin descriptor for the Precomputed `compresso` encoding (loaded lazily). */
export function compresso(): CodecPlugin {
  return {
    kind: "codec",
    names: [CODEC_NAME],
    package: PACKAGE_NAME,
    load: async () => (await import("./codec.js")).compressoCodec,
  };
}

export default [compresso()];
