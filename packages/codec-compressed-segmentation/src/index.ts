import type { CodecPlugin } from "@cloudvolume/core";
import { CODEC_NAME, PACKAGE_NAME } from "./format.js";

export { compressedSegmentationCodec } from "./codec.js";
export { decodeCompressedSegmentation } from "./decode.js";
export { encodeCompressedSegmentation } from "./encode.js";
export { labels, contains, readVoxel, remap } from "./query.js";

/**
 * Plugin descriptor for the Precomputed `compressed_segmentation` encoding. `load()`
 * imports the codec lazily (loaders.gl's pattern); a bundle that also imports the
 * helpers above directly just shares the modules.
 */
export function compressedSegmentation(): CodecPlugin {
  return {
    kind: "codec",
    names: [CODEC_NAME],
    package: PACKAGE_NAME,
    load: async () => (await import("./codec.js")).compressedSegmentationCodec,
  };
}
