import { CloudVolumeError, HOST_IS_LITTLE_ENDIAN, type ChunkSpec, type ErrorCode } from "@cloudvolume/core";

/**
 * Shared facts and checks for the Neuroglancer `compressed_segmentation` encoding.
 * Section names in comments refer to google/neuroglancer
 * `src/sliceview/compressed_segmentation/README.md` ("Format specification",
 * "Multi-channel format"); it is the only normative description of the bytes.
 *
 * Layout, in uint32 words (everything in this format is a little-endian uint32):
 *
 *   [channel offsets: one word per channel, from the start of the file]
 *   per channel, at its offset `base`:
 *     [block headers: 2 words per block, blocks in x-fastest grid order]
 *     [encoded values and lookup tables, in any order, referenced from the headers]
 *
 * Header word 0 = lookupTableOffset (low 24 bits) | encodedBits << 24; word 1 =
 * encodedValuesOffset. Both offsets count words from `base` (the channel start,
 * which the format description calls "the start of the compressed data").
 */

export const CODEC_NAME = "compressed_segmentation";
export const PACKAGE_NAME = "@cloudvolume/codec-compressed-segmentation";

/** "Must be 0, 1, 2, 4, 8, 16, or 32" (Format specification, encodedBits). */
export const ALLOWED_BITS: readonly number[] = [0, 1, 2, 4, 8, 16, 32];

/** Lookup-table offsets are 24-bit fields: a channel's tables must start below 2^24 words. */
export const MAX_TABLE_OFFSET = 0xffffff;

/** True for the widths in ALLOWED_BITS, without searching an array in the per-block path. */
export function isAllowedBits(bits: number): boolean {
  return bits === 0 || bits === 1 || bits === 2 || bits === 4 || bits === 8 || bits === 16 || bits === 32;
}

/** Words of packed indices a block of `blockVoxels` takes at `bits`: the whole block, padding included. */
export function encodedWords(bits: number, blockVoxels: number): number {
  return Math.ceil((bits * blockVoxels) / 32);
}

/** Everything the encoder, decoder and queries need about one chunk, checked once. */
export interface Geometry {
  /** Chunk shape in voxels. */
  sx: number;
  sy: number;
  sz: number;
  channels: number;
  /** Block size. */
  bx: number;
  by: number;
  bz: number;
  /** Grid of blocks covering the chunk (the last block on an axis may be partial). */
  gx: number;
  gy: number;
  gz: number;
  blocks: number;
  blockVoxels: number;
  /** uint32 words per value: 1 for uint32, 2 for uint64 (low word first). */
  wpv: 1 | 2;
  /** Voxels per channel. */
  channelVoxels: number;
  key: string | undefined;
}

function keyCtx(chunk: ChunkSpec): { key?: string } {
  return chunk.key === undefined ? {} : { key: chunk.key };
}

export function cvError(code: ErrorCode, chunk: ChunkSpec | Geometry, message: string): CloudVolumeError {
  const key = chunk.key;
  return new CloudVolumeError(code, `compressed_segmentation chunk ${key ?? "(no key)"}: ${message}`, key === undefined ? {} : { key });
}

/** The one way bad bytes fail: DECODE_FAILED naming the chunk. */
export function corrupt(g: Geometry, message: string): CloudVolumeError {
  return cvError("DECODE_FAILED", g, `${message}; the file is corrupt or truncated, or info's chunk size, block size, data_type or num_channels does not match it`);
}

/** Validate the chunk spec and the scale's `compressed_segmentation_block_size`. */
export function geometry(chunk: ChunkSpec): Geometry {
  if (!HOST_IS_LITTLE_ENDIAN) {
    // Every JS engine in use is little-endian; the word views below assume it.
    throw new CloudVolumeError("UNAVAILABLE", "compressed_segmentation needs a little-endian host", keyCtx(chunk));
  }
  let wpv: 1 | 2;
  if (chunk.dtype === "uint32") wpv = 1;
  else if (chunk.dtype === "uint64") wpv = 2;
  else {
    throw cvError(
      "INVALID_METADATA",
      chunk,
      `data_type ${chunk.dtype} cannot use compressed_segmentation, which stores uint32 or uint64 labels only; use a segmentation layer of uint32/uint64 or another encoding`,
    );
  }
  const bs = chunk.params?.compressed_segmentation_block_size;
  if (!Array.isArray(bs) || bs.length !== 3 || !bs.every((v) => Number.isSafeInteger(v) && (v as number) > 0)) {
    throw cvError(
      "INVALID_METADATA",
      chunk,
      `the scale's compressed_segmentation_block_size is ${JSON.stringify(bs)}; it must be three positive integers (e.g. [8, 8, 8])`,
    );
  }
  const [bx, by, bz] = bs as number[];
  const [sx, sy, sz] = chunk.shape;
  const channels = chunk.channels;
  if (![sx, sy, sz].every((v) => Number.isSafeInteger(v) && v >= 0) || !Number.isSafeInteger(channels) || channels < 1) {
    throw cvError("INVALID_ARGUMENT", chunk, `shape ${chunk.shape.join("x")} with ${channels} channel(s) is not a valid chunk`);
  }
  const gx = Math.ceil(sx / bx);
  const gy = Math.ceil(sy / by);
  const gz = Math.ceil(sz / bz);
  const blockVoxels = bx * by * bz;
  // Bit positions inside a block (voxel index * up to 32 bits) are handled as uint32
  // in the hot loops, so a block may hold at most 2^27 voxels (real ones hold ~512).
  if (blockVoxels > 1 << 27) {
    throw cvError("INVALID_METADATA", chunk, `block size ${bx}x${by}x${bz} is too large`);
  }
  return {
    sx, sy, sz, channels, bx, by, bz, gx, gy, gz,
    blocks: gx * gy * gz,
    blockVoxels,
    wpv,
    channelVoxels: sx * sy * sz,
    key: chunk.key,
  };
}

/** Bytes of decoded voxels for this chunk. */
export function decodedByteLength(g: Geometry): number {
  return g.channelVoxels * g.channels * g.wpv * 4;
}

/**
 * The input as uint32 words. A subarray of a shard can start at any byte, and a
 * Uint32Array needs 4-byte alignment, so an unaligned input is copied once.
 */
export function wordsOf(bytes: Uint8Array, g: Geometry): Uint32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw corrupt(g, `length ${bytes.byteLength} bytes is not a whole number of uint32 words`);
  }
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Uint32Array(copy.buffer, 0, copy.byteLength >>> 2);
}

/**
 * Channel start offsets (Multi-channel format): `channels` words, each the word offset
 * at which that channel's block headers start. "The offset specified in the header for
 * the first channel must be equal to num_channels"; every channel's header table must
 * lie inside the input.
 */
export function channelBases(w: Uint32Array, g: Geometry): number[] {
  const n = w.length;
  if (n < g.channels) throw corrupt(g, `${n * 4} bytes cannot hold the ${g.channels}-channel offset table`);
  const bases: number[] = [];
  const headerWords = 2 * g.blocks;
  for (let c = 0; c < g.channels; c++) {
    const base = w[c];
    if (c === 0 && base !== g.channels) {
      throw corrupt(g, `first channel offset is ${base}, the format requires it to equal num_channels (${g.channels})`);
    }
    if (base < g.channels || base + headerWords > n) {
      throw corrupt(g, `channel ${c} starts at word ${base}, but its ${g.blocks} block headers need words up to ${base + headerWords} of ${n}`);
    }
    bases.push(base);
  }
  return bases;
}

/** Words available to channel `c`'s data: up to the next channel's start (they are packed in order), else the end. */
export function channelEnd(bases: number[], c: number, n: number): number {
  let end = n;
  const base = bases[c];
  for (let k = 0; k < bases.length; k++) if (bases[k] > base && bases[k] < end) end = bases[k];
  return end;
}
