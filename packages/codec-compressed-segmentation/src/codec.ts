import type { ArrayCodec } from "@cloudvolume/core";
import { decodeCompressedSegmentation } from "./decode.js";
import { encodeCompressedSegmentation } from "./encode.js";
import { CODEC_NAME } from "./format.js";
import { contains, labels, readVoxel } from "./query.js";

/**
 * The Precomputed `compressed_segmentation` encoding as an ArrayCodec. The block size
 * comes from `chunk.params.compressed_segmentation_block_size` (the scale's field);
 * voxels are uint32 or uint64, Fortran order (x, y, z, channel), little-endian.
 * `labels`, `contains` and `readVoxel` answer from the block headers and lookup tables
 * without decoding the chunk (query.ts), which volume operations such as unique and
 * scattered point reads use.
 */
export const compressedSegmentationCodec: ArrayCodec = {
  name: CODEC_NAME,
  decode: decodeCompressedSegmentation,
  encode: encodeCompressedSegmentation,
  labels,
  contains,
  readVoxel,
};
