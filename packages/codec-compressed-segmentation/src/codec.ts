import type { ArrayCodec } from "@cloudvolume/core";
import { decodeCompressedSegmentation } from "./decode.js";
import { encodeCompressedSegmentation } from "./encode.js";
import { CODEC_NAME } from "./format.js";

/**
 * The Precomputed `compressed_segmentation` encoding as an ArrayCodec. The block size
 * comes from `chunk.params.compressed_segmentation_block_size` (the scale's field);
 * voxels are uint32 or uint64, Fortran order (x, y, z, channel), little-endian.
 */
export const compressedSegmentationCodec: ArrayCodec = {
  name: CODEC_NAME,
  decode: decodeCompressedSegmentation,
  encode: encodeCompressedSegmentation,
};
