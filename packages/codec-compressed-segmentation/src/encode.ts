import { CloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { cvError, decodedByteLength, encodedWords, geometry, MAX_TABLE_OFFSET, type Geometry } from "./format.js";

/**
 * Encoder producing the same bytes as the reference encoders: neuroglancer's C++
 * `compress_segmentation.cc` and seung-lab `compressed-segmentation` (which CloudVolume
 * uses; the fixtures' _crosscheck_cseg_neuroglancer.json shows the two agree byte for
 * byte). The choices the format leaves open, and what the reference does:
 *
 *  - order: per channel, all block headers first, then for each block in x-fastest
 *    grid order its packed indices followed (if new) by its lookup table;
 *  - table: the distinct values of the block's voxels inside the chunk, ascending
 *    (uint64 compared as unsigned (high, low) word pairs, never as JS numbers);
 *  - width: the smallest allowed width with 2^bits >= table size (0 for one value);
 *  - padding: the block is stored whole (ceil(bits * blockVoxels / 32) words) even at
 *    the chunk edge; voxels outside the chunk keep index 0, i.e. the block's smallest
 *    value (the format allows any value of the block there);
 *  - sharing: a table identical to one already written in the same channel is not
 *    written again; the header points at the first copy. Tables are keyed by their full
 *    content, so only blocks with exactly the same value set share;
 *  - offsets: table offsets are 24-bit; a table that would start at or past 2^24 words
 *    from its channel start cannot be addressed, and the reference fails (seung-lab
 *    raises OverflowError). We fail with ENCODE_FAILED.
 */
export function encodeCompressedSegmentation(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
  const g = geometry(chunk);
  const size = decodedByteLength(g);
  if (voxels.byteLength !== size) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `compressed_segmentation encode of ${chunk.key ?? "a chunk"}: got ${voxels.byteLength} bytes of voxels, expected ${size} ` +
        `(${chunk.shape.join("x")} voxels x ${g.channels} channel(s) x ${g.wpv * 4} bytes of ${chunk.dtype})`,
      chunk.key === undefined ? {} : { key: chunk.key },
    );
  }
  let v: Uint32Array;
  if (voxels.byteOffset % 4 === 0) v = new Uint32Array(voxels.buffer, voxels.byteOffset, size >>> 2);
  else v = new Uint32Array(voxels.slice().buffer, 0, size >>> 2);
  return new Encoder(g, v).run();
}

/** Scratch space sized for one block, reused for every block of the chunk. */
class Encoder {
  private readonly g: Geometry;
  private readonly v: Uint32Array;
  private out: Uint32Array;
  private len = 0;

  /** Per block position: the block-local id of its value (first-seen order). */
  private readonly ids: Uint32Array;
  /** Distinct values of the block, in first-seen order. */
  private readonly dLo: Uint32Array;
  private readonly dHi: Uint32Array;
  /** rank[id] = position of value `id` in the sorted table. */
  private readonly rank: Uint32Array;
  /** order[i] = id of the i-th smallest value. */
  private readonly order: Uint32Array;
  /** Open-addressing set of the block's values; a slot is live when its stamp equals `gen`, so no clearing between blocks. */
  private readonly hLo: Uint32Array;
  private readonly hHi: Uint32Array;
  private readonly hId: Uint32Array;
  private readonly hGen: Uint32Array;
  private readonly hMask: number;
  private gen = 0;
  private n = 0;
  /** Tables written in the current channel: content hash -> [absolute word offset, entries] pairs, flattened. */
  private cache = new Map<number, number[]>();

  constructor(g: Geometry, v: Uint32Array) {
    this.g = g;
    this.v = v;
    const bv = g.blockVoxels;
    this.ids = new Uint32Array(bv);
    // A block holds at most min(block, chunk) voxels of the chunk, so at most that many labels.
    const most = Math.max(1, Math.min(bv, g.channelVoxels));
    this.dLo = new Uint32Array(most);
    this.dHi = new Uint32Array(most);
    this.rank = new Uint32Array(most);
    this.order = new Uint32Array(most);
    let cap = 16;
    while (cap < 2 * most) cap *= 2;
    this.hLo = new Uint32Array(cap);
    this.hHi = new Uint32Array(cap);
    this.hId = new Uint32Array(cap);
    this.hGen = new Uint32Array(cap);
    this.hMask = cap - 1;
    // Headers, plus a guess for the data that segmentation usually needs; grows by doubling.
    const guess = g.channels * (1 + 2 * g.blocks) + Math.ceil((g.channelVoxels * g.channels * g.wpv) / 8) + 64;
    this.out = new Uint32Array(guess);
  }

  run(): Uint8Array {
    const g = this.g;
    this.len = g.channels;
    for (let c = 0; c < g.channels; c++) {
      const base = this.len;
      this.out[c] = base;
      this.reserve(2 * g.blocks);
      this.len += 2 * g.blocks;
      this.cache = new Map();
      let block = 0;
      for (let kz = 0; kz < g.gz; kz++) {
        for (let ky = 0; ky < g.gy; ky++) {
          for (let kx = 0; kx < g.gx; kx++, block++) {
            this.block(base, base + 2 * block, c * g.channelVoxels, kx * g.bx, ky * g.by, kz * g.bz);
          }
        }
      }
    }
    return new Uint8Array(this.out.slice(0, this.len).buffer);
  }

  private reserve(words: number): void {
    const need = this.len + words;
    if (need <= this.out.length) return;
    const grown = new Uint32Array(Math.max(need, 2 * this.out.length));
    grown.set(this.out.subarray(0, this.len));
    this.out = grown;
  }

  /** Block-local id of (lo, hi), adding it to the distinct values if new. */
  private idOf(lo: number, hi: number): number {
    const mask = this.hMask;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1);
    h ^= h >>> 15;
    let slot = h & mask;
    const gen = this.gen;
    const hGen = this.hGen;
    while (hGen[slot] === gen) {
      if (this.hLo[slot] === lo && this.hHi[slot] === hi) return this.hId[slot];
      slot = (slot + 1) & mask;
    }
    const id = this.n++;
    hGen[slot] = gen;
    this.hLo[slot] = lo;
    this.hHi[slot] = hi;
    this.hId[slot] = id;
    this.dLo[id] = lo;
    this.dHi[id] = hi;
    return id;
  }

  private block(base: number, header: number, channelVoxel: number, x0: number, y0: number, z0: number): void {
    const g = this.g;
    const { sx, sy, bx, by, wpv, blockVoxels } = g;
    const ax = Math.min(bx, sx - x0);
    const ay = Math.min(by, sy - y0);
    const az = Math.min(g.bz, g.sz - z0);
    const v = this.v;
    const ids = this.ids;

    // 1. Distinct values of the voxels inside the chunk; runs of equal labels (the
    //    common case in segmentation) skip the hash lookup.
    if (++this.gen === 0x100000000) {
      this.hGen.fill(0);
      this.gen = 1;
    }
    this.n = 0;
    let prevLo = 0;
    let prevHi = 0;
    let prevId = -1;
    for (let z = 0; z < az; z++) {
      for (let y = 0; y < ay; y++) {
        let vi = (channelVoxel + x0 + sx * (y0 + y + sy * (z0 + z))) * wpv;
        const p0 = bx * (y + by * z);
        for (let p = p0, end = p0 + ax; p < end; p++, vi += wpv) {
          const lo = v[vi];
          const hi = wpv === 2 ? v[vi + 1] : 0;
          if (lo !== prevLo || hi !== prevHi || prevId < 0) {
            prevId = this.idOf(lo, hi);
            prevLo = lo;
            prevHi = hi;
          }
          ids[p] = prevId;
        }
      }
    }
    const n = this.n;

    // 2. Sort the table ascending; rank[id] is each value's index in it.
    this.sortTable(n);
    const order = this.order;
    const rank = this.rank;
    for (let i = 0; i < n; i++) rank[order[i]] = i;

    let bits = 0;
    if (n > 1) {
      bits = 1;
      while (bits < 32 && 2 ** bits < n) bits *= 2;
    }
    const words = encodedWords(bits, blockVoxels);

    // 3. Reuse an identical table written earlier in this channel, else append one
    //    right after this block's packed indices.
    const tableWords = n * wpv;
    const hash = this.tableHash(n);
    let table = this.findTable(hash, n);
    this.reserve(words + (table < 0 ? tableWords : 0));
    const out = this.out;
    const encodedAt = this.len;
    this.len += words;
    if (table < 0) {
      table = this.len;
      if (table - base > MAX_TABLE_OFFSET) {
        throw cvError(
          "ENCODE_FAILED",
          g,
          `a lookup table would start ${table - base} words into the channel, past the 24-bit offset limit (2^24 - 1) of the format; ` +
            "use smaller chunks or a larger compressed_segmentation_block_size",
        );
      }
      const dLo = this.dLo;
      const dHi = this.dHi;
      let o = table;
      for (let i = 0; i < n; i++) {
        const id = order[i];
        out[o++] = dLo[id];
        if (wpv === 2) out[o++] = dHi[id];
      }
      this.len += tableWords;
      const list = this.cache.get(hash);
      if (list) list.push(table, n);
      else this.cache.set(hash, [table, n]);
    }

    // 4. Pack indices (output words start zeroed, so padding voxels read index 0).
    if (bits > 0) {
      for (let z = 0; z < az; z++) {
        for (let y = 0; y < ay; y++) {
          const p0 = bx * (y + by * z);
          for (let p = p0, end = p0 + ax; p < end; p++) {
            const bit = p * bits;
            out[encodedAt + (bit >>> 5)] |= rank[ids[p]] << (bit & 31);
          }
        }
      }
    }
    out[header] = (table - base) | (bits << 24);
    out[header + 1] = encodedAt - base;
  }

  /** Fill order[0..n) with ids sorted by value, unsigned (hi, lo). */
  private sortTable(n: number): void {
    const order = this.order;
    const dLo = this.dLo;
    const dHi = this.dHi;
    for (let i = 0; i < n; i++) order[i] = i;
    if (n <= 24) {
      // Insertion sort: blocks of segmentation hold a handful of labels.
      for (let i = 1; i < n; i++) {
        const id = order[i];
        const lo = dLo[id];
        const hi = dHi[id];
        let j = i - 1;
        while (j >= 0) {
          const o = order[j];
          if (dHi[o] < hi || (dHi[o] === hi && dLo[o] <= lo)) break;
          order[j + 1] = o;
          j--;
        }
        order[j + 1] = id;
      }
      return;
    }
    const ids = Array.from(order.subarray(0, n));
    ids.sort((a, b) => dHi[a] - dHi[b] || dLo[a] - dLo[b]);
    for (let i = 0; i < n; i++) order[i] = ids[i];
  }

  private tableHash(n: number): number {
    const order = this.order;
    const dLo = this.dLo;
    const dHi = this.dHi;
    let h = n | 0;
    for (let i = 0; i < n; i++) {
      const id = order[i];
      h = Math.imul(h ^ dLo[id], 0x01000193);
      h = Math.imul(h ^ dHi[id], 0x01000193);
    }
    return h ^ (h >>> 16);
  }

  /** Absolute offset of an identical table written earlier in this channel, or -1. */
  private findTable(hash: number, n: number): number {
    const list = this.cache.get(hash);
    if (list === undefined) return -1;
    const out = this.out;
    const order = this.order;
    const dLo = this.dLo;
    const dHi = this.dHi;
    const wpv = this.g.wpv;
    for (let k = 0; k < list.length; k += 2) {
      // Equal hashes can still differ: compare the length and every entry.
      const at = list[k];
      if (list[k + 1] !== n) continue;
      let same = true;
      for (let i = 0, o = at; i < n; i++, o += wpv) {
        const id = order[i];
        if (out[o] !== dLo[id] || (wpv === 2 && out[o + 1] !== dHi[id])) {
          same = false;
          break;
        }
      }
      if (same) return at;
    }
    return -1;
  }
}
