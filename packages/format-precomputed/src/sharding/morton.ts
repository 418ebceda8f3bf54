import { CloudVolumeError, type Vec3 } from "@cloudvolume/core";

/**
 * Compressed Morton codes (neuroglancer volume.md, "Compressed morton code"): the chunk
 * id of a grid cell in a sharded image. Bit i of each coordinate is interleaved x, y, z
 * for i = 0, 1, ...; an axis stops contributing once 2^i >= grid[axis], so no bit is
 * spent on positions the grid cannot have. Grid coordinates count from voxel_offset.
 */

/** Bits each axis contributes: the number of i with 2^i < grid[d], i.e. ceil(log2(grid[d])). */
export function mortonBits(grid: Vec3): Vec3 {
  const count = (n: number) => {
    let b = 0;
    while (2 ** b < n) b++;
    return b;
  };
  return [count(grid[0]), count(grid[1]), count(grid[2])];
}

function checkBits(bits: Vec3, grid: Vec3): void {
  const total = bits[0] + bits[1] + bits[2];
  if (total > 64) {
    throw new CloudVolumeError(
      "INVALID_METADATA",
      `a chunk grid of ${grid.join("x")} needs ${total} bits of compressed Morton code, more than the 64 a sharded chunk id has; use larger chunks`,
    );
  }
}

/** Bit i of a non-negative integer that may exceed 2^32. */
const bitOf = (v: number, i: number): number => (i < 31 ? (v >>> i) & 1 : Math.floor(v / 2 ** i) % 2);

/** The compressed Morton code of grid position `g` (0 <= g < grid). */
export function compressedMortonCode(g: Vec3, grid: Vec3): bigint {
  const bits = mortonBits(grid);
  checkBits(bits, grid);
  for (let d = 0; d < 3; d++) {
    if (!Number.isInteger(g[d]) || g[d] < 0 || g[d] >= grid[d]) {
      throw new CloudVolumeError("OUT_OF_BOUNDS", `grid position ${g.join(",")} is outside the ${grid.join("x")} chunk grid`);
    }
  }
  const n = Math.max(bits[0], bits[1], bits[2]);
  let lo = 0;
  let hi = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < 3; d++) {
      if (i >= bits[d]) continue;
      if (bitOf(g[d], i)) {
        if (j < 32) lo |= 1 << j;
        else hi |= 1 << (j - 32);
      }
      j++;
    }
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Inverse of compressedMortonCode: the grid position of a chunk id (may lie past the grid for ids no chunk has). */
export function decodeCompressedMorton(code: bigint, grid: Vec3): Vec3 {
  const bits = mortonBits(grid);
  checkBits(bits, grid);
  const n = Math.max(bits[0], bits[1], bits[2]);
  const lo = Number(code & 0xffffffffn);
  const hi = Number((code >> 32n) & 0xffffffffn);
  const g = [0, 0, 0];
  let j = 0;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < 3; d++) {
      if (i >= bits[d]) continue;
      const bit = j < 32 ? (lo >>> j) & 1 : (hi >>> (j - 32)) & 1;
      if (bit) g[d] += 2 ** i;
      j++;
    }
  }
  return [g[0], g[1], g[2]];
}

/**
 * How many of the lowest `lowBits` Morton bits each axis owns: the brick of grid cells
 * that share all higher bits is 2^owned[d] cells along axis d. With lowBits =
 * preshift_bits + minishard_bits this is the shard shape in chunks (CloudVolume's
 * image_shard_shape_from_spec computes the same brick).
 */
export function lowBitsPerAxis(grid: Vec3, lowBits: number): Vec3 {
  const bits = mortonBits(grid);
  const owned = [0, 0, 0];
  let j = 0;
  const n = Math.max(bits[0], bits[1], bits[2]);
  for (let i = 0; i < n && j < lowBits; i++) {
    for (let d = 0; d < 3 && j < lowBits; d++) {
      if (i >= bits[d]) continue;
      owned[d]++;
      j++;
    }
  }
  return [owned[0], owned[1], owned[2]];
}
