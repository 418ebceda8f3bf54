import { CloudVolumeError, dtypeInfo, gridShape, type Vec3 } from "@cloudvolume/core";
import { lowBitsPerAxis, mortonBits } from "./morton.js";
import { SHARDED_TYPE, type ShardingSpecJson } from "./spec.js";

/**
 * Choosing sharding parameters the way CloudVolume 12.14.4 does
 * (cloudvolume/datasource/precomputed/sharding.py: compute_shard_params_for_image, used
 * by `vol.image.to_sharded()` and `transfer_to(..., sharded=True)`;
 * compute_shard_params_for_hashed; image_shard_shape_from_spec). The rules are restated
 * here; see each function.
 */

/** Smallest k with 2^k >= x (x > 0). Exact, unlike ceil(Math.log2(x)) near powers of two. */
export function ceilLog2(x: number): number {
  if (!(x > 0)) throw new CloudVolumeError("INVALID_ARGUMENT", `log2 of ${x}`);
  let k = Math.ceil(Math.log2(x));
  while (2 ** k < x) k++;
  while (k > -1074 && 2 ** (k - 1) >= x) k--;
  return k + 0;
}

/** Largest k with 2^k <= x (x > 0). */
export function floorLog2(x: number): number {
  if (!(x > 0)) throw new CloudVolumeError("INVALID_ARGUMENT", `log2 of ${x}`);
  let k = Math.floor(Math.log2(x));
  while (2 ** k > x) k--;
  while (2 ** (k + 1) <= x) k++;
  return k + 0;
}

export interface ImageShardParamsOptions {
  /** Voxels of the scale. */
  size: Vec3;
  chunkSize: Vec3;
  encoding: string;
  /** The data type (its byte width counts; channels do not, as in CloudVolume), or a byte width. */
  dtype: string | number;
  /** Target uncompressed bytes per shard (default 3.5e9). */
  uncompressedShardBytes?: number;
  maxShardIndexBytes?: number;
  maxMinishardIndexBytes?: number;
  maxLabelsPerMinishard?: number;
  minishardIndexEncoding?: "raw" | "gzip";
  dataEncoding?: "raw" | "gzip";
}

/** Encodings that are already compressed: CloudVolume stores their shard data raw. */
const PRECOMPRESSED = new Set(["jpeg", "png", "kempressed", "fpzip", "zfpc"]);

/**
 * A sharding specification for an image scale (CloudVolume's
 * compute_shard_params_for_image). Identity hash over compressed Morton codes:
 *
 * 1. chunks per shard = the largest power of two <= ceil(budget / (chunk voxels x
 *    bytes per voxel)), or the next power of two >= the chunk count if that is smaller;
 * 2. shard_bits = ceil(log2(chunks / chunks per shard)); preshift_bits =
 *    min(log2(chunks per shard), morton bits - shard_bits);
 * 3. minishards: halve the labels per minishard (one more minishard bit) while there are
 *    more than maxLabelsPerMinishard (4000); a bit that would make the shard index exceed
 *    maxShardIndexBytes (8192), or a minishard index exceed maxMinishardIndexBytes
 *    (40000) while minishard_bits > preshift_bits, is taken back and doubles the shards;
 * 4. preshift_bits -= minishard_bits (preshift + minishard bits address a shard's chunks);
 * 5. when the volume is one chunk deep in z, CloudVolume adds floor(preshift_bits / 3)
 *    more preshift bits (skipping multiples of three), raising the bit total with them;
 * 6. shard_bits = max(morton bits - preshift_bits - minishard_bits, 0), so no Morton
 *    bit is left over and every shard is one brick of chunks.
 * data_encoding is raw for jpeg, png, kempressed, fpzip and zfpc, else as given (gzip).
 * (Igneous' create_sharded_image_info is the same without step 5 and the clamp in 6.)
 */
export function computeShardParamsForImage(o: ImageShardParamsOptions): ShardingSpecJson {
  const byteWidth = typeof o.dtype === "number" ? o.dtype : dtypeInfo(o.dtype).bytes;
  const budget = o.uncompressedShardBytes ?? 3.5e9;
  const maxShardIndexBytes = o.maxShardIndexBytes ?? 8192;
  const maxMinishardIndexBytes = o.maxMinishardIndexBytes ?? 40000;
  const maxLabelsPerMinishard = o.maxLabelsPerMinishard ?? 4000;
  const grid = gridShape(o.size, o.chunkSize);
  const numChunks = grid[0] * grid[1] * grid[2];
  if (!(numChunks >= 1)) throw new CloudVolumeError("INVALID_ARGUMENT", `cannot shard an empty volume (size ${o.size.join("x")})`);
  const chunkVoxels = o.chunkSize[0] * o.chunkSize[1] * o.chunkSize[2];
  const b = mortonBits(grid);
  let maxBits = b[0] + b[1] + b[2];

  let chunksPerShard = 2 ** floorLog2(Math.ceil(budget / (chunkVoxels * byteWidth)));
  if (numChunks < chunksPerShard) chunksPerShard = 2 ** ceilLog2(numChunks);
  let numShards = numChunks / chunksPerShard;
  let shardBits = 0;
  let preshiftBits = 0;
  const updateBits = () => {
    shardBits = ceilLog2(numShards);
    preshiftBits = Math.min(ceilLog2(chunksPerShard), maxBits - shardBits);
  };
  updateBits();

  // Each chunk is one Morton code, so chunks per shard = labels per shard.
  let labelsPerMinishard = chunksPerShard;
  let minishardBits = 0;
  while (labelsPerMinishard > maxLabelsPerMinishard) {
    labelsPerMinishard /= 2;
    minishardBits++;
    const minishardIndexBytes = 3 * 8 * labelsPerMinishard;
    const shardIndexBytes = 2 * 8 * 2 ** minishardBits;
    const minishardTooBig = minishardIndexBytes > maxMinishardIndexBytes && minishardBits > preshiftBits;
    if (minishardTooBig || shardIndexBytes > maxShardIndexBytes) {
      minishardBits--;
      numShards *= 2;
      updateBits();
    }
  }

  preshiftBits -= minishardBits;
  if (o.size[2] === o.chunkSize[2]) {
    const additional = Math.floor(preshiftBits / 3);
    for (let i = 0; i < additional; ) {
      maxBits++;
      preshiftBits++;
      if (preshiftBits % 3 !== 0) i++;
    }
  }
  shardBits = Math.max(maxBits - preshiftBits - minishardBits, 0);

  if (maxBits > 64) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${maxBits} bits, more than a 64-bit chunk id, would be needed for the chunk positions of a ${o.size.join("x")} volume in ${o.chunkSize.join("x")} chunks; use larger chunks`);
  }
  if (preshiftBits < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `preshift_bits would be negative (${preshiftBits}); reduce the number of minishards`);
  if (preshiftBits + shardBits + minishardBits > maxBits) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${preshiftBits} preshift + ${shardBits} shard + ${minishardBits} minishard bits exceed the ${maxBits} bits of the chunk ids; reduce the number of minishards`);
  }
  return {
    "@type": SHARDED_TYPE,
    data_encoding: PRECOMPRESSED.has(o.encoding) ? "raw" : (o.dataEncoding ?? "gzip"),
    hash: "identity",
    minishard_bits: minishardBits,
    minishard_index_encoding: o.minishardIndexEncoding ?? "gzip",
    preshift_bits: preshiftBits,
    shard_bits: shardBits,
  };
}

/**
 * The voxel shape of one image shard (CloudVolume's image_shard_shape_from_spec): the
 * brick of chunks addressed by the lowest preshift_bits + minishard_bits Morton bits,
 * i.e. 2^(bits owned by each axis) chunks along it. May extend past the volume.
 */
export function imageShardShape(spec: { preshift_bits: number; minishard_bits: number }, size: Vec3, chunkSize: Vec3): Vec3 {
  const low = spec.preshift_bits + spec.minishard_bits;
  if (low >= 64) throw new CloudVolumeError("INVALID_ARGUMENT", `preshift_bits + minishard_bits must be < 64, got ${low}`);
  const owned = lowBitsPerAxis(gridShape(size, chunkSize), low);
  return [chunkSize[0] * 2 ** owned[0], chunkSize[1] * 2 ** owned[1], chunkSize[2] * 2 ** owned[2]];
}

export interface HashedShardParams {
  shardBits: number;
  minishardBits: number;
  preshiftBits: number;
}

/**
 * Shard parameters for randomly hashed keys (meshes, skeletons, murmurhash), as
 * CloudVolume's compute_shard_params_for_hashed: with N minishards per shard =
 * shardIndexBytes / 16 and L labels per minishard = minishardIndexBytes / 24,
 * - N x L labels or more: minishard_bits = ceil(log2 N), shard_bits = ceil(log2(labels / (L 2^minishard_bits)));
 * - L labels or more: minishard_bits = ceil(log2(labels / L)), shard_bits = 0;
 * - fewer: both 0;
 * then one shard bit fewer when the shards would be at most 55% full, never below 0;
 * and at least round(log2(minShards)) shard bits, taken from the minishard bits.
 * preshift_bits is always 0 (it does not help random keys).
 */
export function computeShardParamsForHashed(
  numLabels: number, opts: { shardIndexBytes?: number; minishardIndexBytes?: number; minShards?: number } = {},
): HashedShardParams {
  const shardIndexBytes = opts.shardIndexBytes ?? 2 ** 13;
  const minishardIndexBytes = opts.minishardIndexBytes ?? 2 ** 15;
  const minShards = opts.minShards ?? 1;
  if (!(minShards >= 1)) throw new CloudVolumeError("INVALID_ARGUMENT", `minShards must be >= 1, got ${minShards}`);
  if (!(numLabels > 0)) return { shardBits: 0, minishardBits: 0, preshiftBits: 0 };
  const minishardsPerShard = shardIndexBytes / 2 / 8;
  const labelsPerMinishard = minishardIndexBytes / 3 / 8;
  const labelsPerShard = minishardsPerShard * labelsPerMinishard;
  let minishardBits = 0;
  let shardBits = 0;
  if (numLabels >= labelsPerShard) {
    minishardBits = ceilLog2(minishardsPerShard);
    shardBits = ceilLog2(numLabels / (labelsPerMinishard * 2 ** minishardBits));
  } else if (numLabels >= labelsPerMinishard) {
    minishardBits = ceilLog2(numLabels / labelsPerMinishard);
  }
  const capacity = labelsPerShard * 2 ** shardBits;
  if (numLabels / capacity <= 0.55) shardBits -= 1;
  shardBits = Math.max(shardBits, 0);
  const minShardBits = Math.round(Math.log2(minShards));
  const delta = Math.max(minShardBits - shardBits, 0);
  shardBits += delta;
  minishardBits -= delta;
  return { shardBits: Math.max(shardBits, minShardBits), minishardBits: Math.max(minishardBits, 0), preshiftBits: 0 };
}
