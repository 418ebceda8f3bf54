import type { ChunkSpec } from "@cloudvolume/core";
import {
  ALLOWED_BITS,
  channelBases,
  channelEnd,
  corrupt,
  cvError,
  encodedWords,
  geometry,
  isAllowedBits,
  wordsOf,
  type Geometry,
} from "./format.js";

/**
 * Questions answered from the block headers and lookup tables alone, without
 * decoding the voxels: which labels a chunk holds, whether it holds one, one voxel's
 * label, and relabelling by rewriting the tables.
 *
 * The format stores no table lengths (Format specification: a header holds only the
 * table's offset). Like seung-lab compressed-segmentation's own `labels`, we take a
 * table to run from its offset up to the next offset any header points at (a table or
 * a block's encoded values) or the end of the channel, capped at the 2^bits entries its
 * blocks can address. That is exact for the layout every known writer produces
 * (neuroglancer's C++ and TypeScript encoders, seung-lab's, ours): each block's packed
 * indices followed by its table if new, every table entry used by some voxel inside
 * the chunk. Tables that overlap or share a tail are fine too (each word is read, and
 * rewritten, once). Only words that no header points at sitting right after a table
 * (a writer that pads, or leaves unused entries in a table) would be taken for labels:
 * `labels` would list them, `contains` could say yes to them, and `remap` would rewrite
 * them (or, without preserveMissing, reject them as unmapped). `decode` and `readVoxel`
 * do not depend on this and are exact for every valid stream.
 *
 * The last table before the end of a channel is the one a truncated file loses
 * entries from, so for it we check, by reading the packed indices of the blocks that
 * use it, that every index they use is inside what is left; a cut file fails with
 * DECODE_FAILED rather than quietly missing labels.
 */

/** A lookup table: absolute word offset and entry count. */
interface Table {
  at: number;
  entries: number;
}

interface Layout {
  g: Geometry;
  w: Uint32Array;
  tables: Table[];
}

const MAX_U64 = (1n << 64n) - 1n;

/** Table-start codes: 1 + position of encodedBits in ALLOWED_BITS order, so larger = wider. */
const BITS_CODE: Record<number, number> = { 0: 1, 1: 2, 2: 3, 4: 4, 8: 5, 16: 6, 32: 7 };
const IS_BOUND = 0x80;

/**
 * Validate every header and find each distinct table's extent, in O(blocks + channel
 * words): one byte per word of the channel's data marks where regions start (bit 7)
 * and, for table starts, the widest encodedBits of the blocks using the table (low
 * bits); a table then runs to the next mark. No sorting: sorting the offsets (V8's
 * typed-array sort runs at ~70 ns an element) cost 5x the rest of `labels`.
 */
function layout(bytes: Uint8Array, chunk: ChunkSpec): Layout {
  const g = geometry(chunk);
  const w = wordsOf(bytes, g);
  const n = w.length;
  const bases = channelBases(w, g);
  const wpv = g.wpv;
  const tables: Table[] = [];
  // Channels normally own disjoint regions; this only guards odd headers (two channels
  // at one offset) from listing, and so remapping, a table twice.
  const listed = g.channels > 1 ? new Set<number>() : undefined;
  for (let c = 0; c < g.channels; c++) {
    const base = bases[c];
    const end = channelEnd(bases, c, n);
    const headerEnd = base + 2 * g.blocks;
    // marks[i] describes word base + i; the channel end is always a bound.
    const span = end - base;
    const marks = new Uint8Array(span + 1);
    marks[span] = IS_BOUND;
    const starts: number[] = [];
    for (let b = 0; b < g.blocks; b++) {
      const h0 = w[base + 2 * b];
      const bits = h0 >>> 24;
      const t = base + (h0 & 0xffffff);
      const v = base + w[base + 2 * b + 1];
      if (!isAllowedBits(bits)) throw corrupt(g, `block ${b} of channel ${c} has encodedBits ${bits}; the format allows 0, 1, 2, 4, 8, 16 or 32`);
      if (t < headerEnd || t + wpv > end) throw corrupt(g, `block ${b} of channel ${c} points at a lookup table at word ${t}, outside the channel's data (words ${headerEnd}..${end})`);
      if (bits > 0 && v + encodedWords(bits, g.blockVoxels) > end) {
        throw corrupt(g, `block ${b} of channel ${c} has encoded values at words ${v}..${v + encodedWords(bits, g.blockVoxels)}, past the channel's data (ends at ${end})`);
      }
      // (A 0-bit block's encoded-values offset is unused; writers set it to where its data would go.)
      if (v < end) marks[v - base] |= IS_BOUND;
      const ti = t - base;
      const m = marks[ti];
      const code = BITS_CODE[bits];
      if ((m & 0x7f) === 0) starts.push(t);
      if ((m & 0x7f) < code) marks[ti] = IS_BOUND | code;
      else marks[ti] = m | IS_BOUND;
    }
    for (const t of starts) {
      if (listed) {
        if (listed.has(t)) continue;
        listed.add(t);
      }
      const bits = ALLOWED_BITS[(marks[t - base] & 0x7f) - 1];
      const cap = bits === 0 ? 1 : 2 ** bits;
      let next = t - base + 1;
      const stop = Math.min(span, t - base + cap * wpv);
      while (next < stop && (marks[next] & IS_BOUND) === 0) next++;
      const entries = Math.min(Math.floor((next - (t - base)) / wpv), cap);
      if (entries < 1) throw corrupt(g, `the lookup table at word ${t} of channel ${c} has no room for a single value`);
      if (next === span) checkLastTable(w, g, base, c, t, entries);
      tables.push({ at: t, entries });
    }
  }
  return { g, w, tables };
}

/** Every index used (inside the chunk) by the blocks of channel `c` that use table `t` is below `entries`. */
function checkLastTable(w: Uint32Array, g: Geometry, base: number, c: number, t: number, entries: number): void {
  let b = 0;
  for (let kz = 0; kz < g.gz; kz++) {
    const az = Math.min(g.bz, g.sz - kz * g.bz);
    for (let ky = 0; ky < g.gy; ky++) {
      const ay = Math.min(g.by, g.sy - ky * g.by);
      for (let kx = 0; kx < g.gx; kx++, b++) {
        const h0 = w[base + 2 * b];
        const bits = h0 >>> 24;
        if (base + (h0 & 0xffffff) !== t || bits === 0 || 2 ** bits <= entries) continue;
        const ax = Math.min(g.bx, g.sx - kx * g.bx);
        const v = base + w[base + 2 * b + 1];
        for (let z = 0; z < az; z++) {
          for (let y = 0; y < ay; y++) {
            for (let x = 0, bit = g.bx * (y + g.by * z) * bits; x < ax; x++, bit += bits) {
              if (blockIndex(w, v, bit, bits) >= entries) {
                throw corrupt(g, `block ${b} of channel ${c} uses a lookup-table entry past the end of its table at word ${t}`);
              }
            }
          }
        }
      }
    }
  }
}

/** The packed index at `bit` of the encoded values starting at word `v`. */
function blockIndex(w: Uint32Array, v: number, bit: number, bits: number): number {
  const word = w[v + Math.floor(bit / 32)];
  return bits === 32 ? word : (word >>> (bit % 32)) & ((1 << bits) - 1);
}

/**
 * The distinct labels of the chunk (all channels), ascending: a BigUint64Array for
 * uint64, a Uint32Array for uint32. Read from the lookup tables, no voxel decode.
 */
export function labels(bytes: Uint8Array, chunk: ChunkSpec): BigUint64Array | Uint32Array {
  const { g, w, tables } = layout(bytes, chunk);
  const wpv = g.wpv;
  let total = 0;
  for (const t of tables) total += t.entries;
  // Tables repeat labels (every block touching a segment lists it), so drop duplicates
  // with a hash set first and sort only the distinct ones: typed-array sort is slow.
  let cap = 16;
  while (cap < 2 * total) cap *= 2;
  const mask = cap - 1;
  const used = new Uint8Array(cap);
  const keyLo = new Uint32Array(cap);
  const keyHi = new Uint32Array(cap);
  const uniq = new Uint32Array(wpv * total);
  let u = 0;
  for (const t of tables) {
    for (let i = 0, e = t.at; i < t.entries; i++, e += wpv) {
      const lo = w[e];
      const hi = wpv === 2 ? w[e + 1] : 0;
      let slot = (Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1) >>> 7) & mask;
      for (;;) {
        if (used[slot] === 0) {
          used[slot] = 1;
          keyLo[slot] = lo;
          keyHi[slot] = hi;
          uniq[wpv * u] = lo;
          if (wpv === 2) uniq[2 * u + 1] = hi;
          u++;
          break;
        }
        if (keyLo[slot] === lo && keyHi[slot] === hi) break;
        slot = (slot + 1) & mask;
      }
    }
  }
  // Native numeric sort; for uint64 the (low, high) pairs read as little-endian uint64.
  if (wpv === 1) return uniq.slice(0, u).sort();
  return new BigUint64Array(uniq.buffer.slice(0, 8 * u)).sort();
}

/** A label as (low, high) uint32 words; throws INVALID_ARGUMENT for what is not a uint64. */
function splitLabel(value: number | bigint, g: Geometry, what: string): [number, number] {
  if (typeof value === "bigint") {
    if (value < 0n || value > MAX_U64) throw cvError("INVALID_ARGUMENT", g, `${what} ${value} is not a uint64`);
    return [Number(value & 0xffffffffn), Number(value >> 32n)];
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw cvError("INVALID_ARGUMENT", g, `${what} ${String(value)} is not a non-negative integer (pass a bigint for labels above 2^53)`);
  }
  return [value % 0x100000000, Math.floor(value / 0x100000000)];
}

/** True when some voxel of the chunk (any channel) has label `value`. Reads the lookup tables only. */
export function contains(bytes: Uint8Array, chunk: ChunkSpec, value: number | bigint): boolean {
  const { g, w, tables } = layout(bytes, chunk);
  const [lo, hi] = splitLabel(value, g, "label");
  if (g.wpv === 1) {
    if (hi !== 0) return false;
    for (const t of tables) for (let i = t.at, end = t.at + t.entries; i < end; i++) if (w[i] === lo) return true;
    return false;
  }
  for (const t of tables) {
    for (let i = t.at, end = t.at + 2 * t.entries; i < end; i += 2) if (w[i] === lo && w[i + 1] === hi) return true;
  }
  return false;
}

/**
 * The label of one voxel (chunk-relative x, y, z, channel c), decoding only its block
 * header, one packed index and one table entry. A number for uint32, a bigint for uint64.
 * Reads words through a DataView, so an input at any byte offset costs no copy.
 */
export function readVoxel(bytes: Uint8Array, chunk: ChunkSpec, x: number, y: number, z: number, c = 0): number | bigint {
  const g = geometry(chunk);
  const inside = (v: number, size: number) => Number.isInteger(v) && v >= 0 && v < size;
  if (!inside(x, g.sx) || !inside(y, g.sy) || !inside(z, g.sz) || !inside(c, g.channels)) {
    throw cvError("OUT_OF_BOUNDS", g, `voxel (${x}, ${y}, ${z}, channel ${c}) is outside the chunk (${g.sx}x${g.sy}x${g.sz}, ${g.channels} channel(s))`);
  }
  if (bytes.byteLength % 4 !== 0) throw corrupt(g, `length ${bytes.byteLength} bytes is not a whole number of uint32 words`);
  const n = bytes.byteLength / 4;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (i: number): number => dv.getUint32(4 * i, true);
  // The same channel-table checks as channelBases, for the one channel we read.
  if (n < g.channels) throw corrupt(g, `${n * 4} bytes cannot hold the ${g.channels}-channel offset table`);
  if (word(0) !== g.channels) throw corrupt(g, `first channel offset is ${word(0)}, the format requires it to equal num_channels (${g.channels})`);
  const base = word(c);
  if (base < g.channels || base + 2 * g.blocks > n) throw corrupt(g, `channel ${c} starts at word ${base}, but its block headers need words up to ${base + 2 * g.blocks} of ${n}`);
  const kx = Math.floor(x / g.bx);
  const ky = Math.floor(y / g.by);
  const kz = Math.floor(z / g.bz);
  const b = kx + g.gx * (ky + g.gy * kz);
  const h0 = word(base + 2 * b);
  const bits = h0 >>> 24;
  const t = base + (h0 & 0xffffff);
  if (!isAllowedBits(bits)) throw corrupt(g, `block ${b} has encodedBits ${bits}; the format allows 0, 1, 2, 4, 8, 16 or 32`);
  let idx = 0;
  if (bits > 0) {
    const v = base + word(base + 2 * b + 1);
    if (v + encodedWords(bits, g.blockVoxels) > n) throw corrupt(g, `block ${b}'s encoded values run past the end of the input`);
    // Position inside the block, x fastest (Format specification, encoded values).
    const bit = (x - kx * g.bx + g.bx * (y - ky * g.by + g.by * (z - kz * g.bz))) * bits;
    const packed = word(v + Math.floor(bit / 32));
    idx = bits === 32 ? packed : (packed >>> (bit % 32)) & ((1 << bits) - 1);
  }
  const e = t + idx * g.wpv;
  if (e + g.wpv > n) throw corrupt(g, `block ${b}'s lookup-table entry ${idx} (word ${e}) is past the end of the input (${n} words)`);
  if (g.wpv === 1) return word(e);
  return BigInt(word(e)) | (BigInt(word(e + 1)) << 32n);
}

/**
 * Relabel a chunk without decoding it: a copy of `bytes` whose lookup-table entries are
 * replaced through `mapping` (keys and values may be numbers or bigints; a number key
 * matches the same bigint label and vice versa). Labels missing from `mapping` are kept
 * when `preserveMissing` is true and are an INVALID_ARGUMENT error otherwise (like
 * fastremap's preserve_missing_labels=False).
 *
 * What the result is: a valid compressed_segmentation stream that every decoder reads
 * as the mapping applied to every voxel (decoders only index tables), so decode, labels,
 * contains and readVoxel all see the new labels, and a shared table stays shared (one
 * rewrite serves all its blocks). What it is not: canonical. A table may become
 * unsorted or hold the same label twice (when two labels map to one), bit widths stay
 * those of the old tables, and blocks whose tables became equal are not merged; so its
 * bytes generally differ from `encode(mapped voxels)`, which a reference encoder would
 * produce. Re-encode if byte-identical output matters; for reading it does not.
 */
export function remap(
  bytes: Uint8Array,
  chunk: ChunkSpec,
  mapping: Map<bigint | number, bigint | number>,
  preserveMissing = false,
): Uint8Array {
  const { g, w, tables } = layout(bytes, chunk);
  const copy = new Uint32Array(w); // fresh, aligned copy of the input words
  const wpv = g.wpv;
  const memo = new Map<bigint | number, [number, number]>();
  const lookup = (lo: number, hi: number): [number, number] => {
    const key: bigint | number = wpv === 1 ? lo : hi === 0 ? lo : BigInt(lo) | (BigInt(hi) << 32n);
    let r = memo.get(key);
    if (r !== undefined) return r;
    let mapped = mapping.get(key);
    if (mapped === undefined) {
      // The caller may have used the other numeric type for the key.
      const alt = typeof key === "number" ? BigInt(key) : key <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(key) : undefined;
      if (alt !== undefined) mapped = mapping.get(alt);
    }
    if (mapped === undefined) {
      if (!preserveMissing) {
        throw cvError("INVALID_ARGUMENT", g, `label ${key} is not in the mapping; add it, or pass preserveMissing = true to keep unmapped labels`);
      }
      r = [lo, hi];
    } else {
      r = splitLabel(mapped, g, `mapping value for label ${key}:`);
      if (wpv === 1 && r[1] !== 0) throw cvError("INVALID_ARGUMENT", g, `label ${key} maps to ${mapped}, which does not fit this chunk's uint32`);
    }
    memo.set(key, r);
    return r;
  };
  for (const t of tables) {
    for (let i = 0, e = t.at; i < t.entries; i++, e += wpv) {
      const [lo, hi] = lookup(copy[e], wpv === 2 ? copy[e + 1] : 0);
      copy[e] = lo;
      if (wpv === 2) copy[e + 1] = hi;
    }
  }
  return new Uint8Array(copy.buffer);
}
