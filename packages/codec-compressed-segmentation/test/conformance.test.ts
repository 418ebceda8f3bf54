import type { Vec3 } from "@cloudvolume/core";
import { describeArrayCodec } from "@cloudvolume/testing";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import { allCsegChunks } from "./fixtures.js";
import { blockyVoxels } from "./helpers.js";

/**
 * The shared ArrayCodec conformance suite, per block size, twice: with the suite's
 * full-range random voxels (every voxel a new label: 8- and 16-bit widths, big tables)
 * and with segmentation-like voxels (few labels per block: 0-, 1-, 2- and 4-bit widths,
 * shared tables). Shapes include edge chunks that leave partial blocks on every axis.
 * The CloudVolume fixtures ride along as golden vectors (each carries its own block size).
 */
const BLOCK_SIZES: Vec3[] = [
  [8, 8, 8],
  [8, 4, 2],
  [3, 5, 7],
  [1, 1, 1],
];
const SHAPES: Vec3[] = [
  [1, 1, 1],
  [2, 2, 1],
  [5, 7, 3],
  [13, 9, 17],
  [32, 32, 16],
];

const golden = allCsegChunks();

for (const block of BLOCK_SIZES) {
  const params = { compressed_segmentation_block_size: block };
  const load = () => compressedSegmentation().load();
  describeArrayCodec(`compressed_segmentation block ${block.join("x")}, random labels`, load, {
    dtypes: ["uint32", "uint64"],
    channels: [1, 2, 3],
    shapes: SHAPES,
    params,
    golden: block[0] === 8 && block[2] === 8 ? golden : undefined,
  });
  describeArrayCodec(`compressed_segmentation block ${block.join("x")}, segmentation-like labels`, load, {
    dtypes: ["uint32", "uint64"],
    channels: [1, 3],
    shapes: SHAPES,
    params,
    makeVoxels: blockyVoxels,
  });
}
