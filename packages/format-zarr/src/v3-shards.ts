import {
  Bbox, CloudVolumeError, mapConcurrent,
  type KeyValueStore, type ShardRef, type ShardedChunks, type Vec3,
} from "@cloudvolume/core";
import type { AxisMap } from "./axes.js";
import { checkCrc32c, crc32c } from "./v3-codec.js";
import { chunkKeyV3, type Zarr3ArrayMeta } from "./v3-metadata.js";

/*
 * zarr v3's sharding_indexed codec (codecs/sharding-indexed/v1.0) as the engine's
 * ShardedChunks. Each chunk of the array's grid is a shard object holding the inner
 * chunks of `chunk_shape` encoded with the inner codecs, plus an index of (offset,
 * nbytes) uint64 pairs, one per inner chunk in C order over the shard's inner grid;
 * (2^64-1, 2^64-1) marks a missing inner chunk. The index is encoded with bytes (+
 * crc32c) and sits at the start or end of the shard.
 *
 * Chunk ids are inner-grid positions numbered in C order over the whole array, so one id
 * names one inner chunk of the mip; shard names are the shards' storage keys.
 */

const MISSING = 0xffffffffffffffffn;

/** Read a shard whole when at least this share of its inner chunks is wanted; else range reads. */
const WHOLE_SHARD_SHARE = 0.25;

interface IndexEntry { offset: number; nbytes: number }

export class ZarrShards implements ShardedChunks {
  readonly signature: string;
  readonly brick?: Vec3;
  /** zarr-python and TensorStore update part of a shard by rewriting it; so does the engine here. */
  readonly patchable = true;
  /** Inner chunks per shard, per zarr axis. */
  private readonly per: number[];
  /** Inner grid extent over the array, per zarr axis. */
  private readonly inner: number[];
  private readonly nPerShard: number;
  /** The zarr axis of engine x, y, z. */
  private readonly axes: [number, number, number];

  constructor(
    private readonly storeOf: () => KeyValueStore,
    private readonly meta: Zarr3ArrayMeta,
    private readonly map: AxisMap,
    private readonly bounds: Bbox,
    private readonly url: string,
    private readonly mip: number,
  ) {
    const sh = meta.chain.sharding!;
    this.per = meta.grid.map((s, a) => s / sh.chunkShape[a]);
    this.inner = meta.shape.map((n, a) => Math.ceil(n / sh.chunkShape[a]));
    this.nPerShard = this.per.reduce((a, b) => a * b, 1);
    this.axes = [map.x, map.y, map.z];
    this.brick = this.axes.map((a) => (a < 0 ? 1 : meta.grid[a])) as unknown as Vec3;
    this.signature = `zarr3 sharding_indexed ${JSON.stringify({ grid: meta.grid, chunk: sh.chunkShape, location: sh.location, index: sh.index, axes: [map.x, map.y, map.z, map.c], fixed: map.fixed.map((f) => [f.axis, f.index]) })}`;
  }

  private get sh() {
    return this.meta.chain.sharding!;
  }

  /** Inner-grid position (zarr axes) of an engine chunk box. */
  private gridOf(chunk: Bbox): number[] {
    const g = new Array<number>(this.meta.shape.length).fill(0);
    const cs = this.sh.chunkShape;
    this.axes.forEach((a, d) => {
      if (a < 0) return;
      const v = (chunk.min[d] - this.bounds.min[d]) / cs[a];
      if (!Number.isInteger(v)) throw new CloudVolumeError("ALIGNMENT", `chunk ${chunk} does not start on the ${cs.join("x")} inner chunk grid`, { url: this.url, mip: this.mip });
      g[a] = v;
    });
    for (const f of this.map.fixed) g[f.axis] = Math.floor(f.index / cs[f.axis]);
    return g;
  }

  private idOf(g: readonly number[]): bigint {
    let id = 0n;
    for (let a = 0; a < g.length; a++) id = id * BigInt(this.inner[a]) + BigInt(g[a]);
    return id;
  }

  private gridOfId(id: bigint): number[] {
    const g = new Array<number>(this.inner.length);
    let rest = id;
    for (let a = this.inner.length - 1; a >= 0; a--) {
      const n = BigInt(this.inner[a]);
      g[a] = Number(rest % n);
      rest /= n;
    }
    return g;
  }

  /** Shard key and the inner chunk's position in the shard's index (C order). */
  private place(g: readonly number[]): { shard: string; local: number } {
    const s = g.map((v, a) => Math.floor(v / this.per[a]));
    let local = 0;
    for (let a = 0; a < g.length; a++) local = local * this.per[a] + (g[a] - s[a] * this.per[a]);
    return { shard: chunkKeyV3(this.meta, s), local };
  }

  locate(chunk: Bbox): { shard: string; id: bigint } {
    const g = this.gridOf(chunk);
    return { shard: this.place(g).shard, id: this.idOf(g) };
  }

  keyOf(shard: string): string {
    return shard;
  }

  shardsTouching(region: Bbox): ShardRef[] {
    const r = region.clamp(this.bounds);
    if (r.isEmpty()) return [];
    const brick = this.brick!;
    const cs = this.axes.map((a) => (a < 0 ? 1 : this.sh.chunkShape[a]));
    const lo = [0, 1, 2].map((d) => Math.floor((r.min[d] - this.bounds.min[d]) / brick[d]));
    const hi = [0, 1, 2].map((d) => Math.ceil((r.max[d] - this.bounds.min[d]) / brick[d]));
    const out: ShardRef[] = [];
    for (let sz = lo[2]; sz < hi[2]; sz++) for (let sy = lo[1]; sy < hi[1]; sy++) for (let sx = lo[0]; sx < hi[0]; sx++) {
      const min = [sx, sy, sz].map((s, d) => this.bounds.min[d] + s * brick[d]);
      const box = new Bbox(min as unknown as Vec3, min.map((m, d) => m + brick[d]) as unknown as Vec3).clamp(this.bounds);
      const chunks: Bbox[] = [];
      for (let z = box.min[2]; z < box.max[2]; z += cs[2]) for (let y = box.min[1]; y < box.max[1]; y += cs[1]) for (let x = box.min[0]; x < box.max[0]; x += cs[0]) {
        chunks.push(new Bbox([x, y, z], [x + cs[0], y + cs[1], z + cs[2]]).clamp(this.bounds));
      }
      out.push({ shard: this.locate(chunks[0]).shard, chunks });
    }
    return out;
  }

  alignmentHint(bbox: Bbox): string {
    const b = this.brick!;
    const expanded = bbox.expandToChunkSize(b, this.bounds.min).clamp(this.bounds);
    return `writes must cover whole ${b.join("x")} shards from ${this.bounds.min.join(",")} (e.g. ${expanded})`;
  }

  /** Group ids by shard: shard -> [local index, id][]. */
  private byShard(ids: readonly bigint[]): Map<string, [number, bigint][]> {
    const groups = new Map<string, [number, bigint][]>();
    for (const id of ids) {
      const { shard, local } = this.place(this.gridOfId(id));
      let list = groups.get(shard);
      if (!list) groups.set(shard, (list = []));
      list.push([local, id]);
    }
    return groups;
  }

  /** Decode a shard index; `size`: the shard's length when known (entries are checked against it). */
  private parseIndex(bytes: Uint8Array, key: string, size?: number): (IndexEntry | undefined)[] {
    const sh = this.sh;
    if (bytes.byteLength !== sh.indexBytes) throw new CloudVolumeError("DECODE_FAILED", `shard ${key}: index is ${bytes.byteLength} bytes, expected ${sh.indexBytes} (truncated?)`, { key, url: this.url, mip: this.mip });
    let body = bytes;
    for (let i = sh.index.bytes.length - 1; i >= 0; i--) body = checkCrc32c(body, `shard ${key} (index)`);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const little = sh.index.endian === "little";
    const out: (IndexEntry | undefined)[] = new Array(this.nPerShard);
    for (let i = 0; i < this.nPerShard; i++) {
      const off = dv.getBigUint64(16 * i, little);
      const n = dv.getBigUint64(16 * i + 8, little);
      if (off === MISSING && n === MISSING) { out[i] = undefined; continue; }
      const end = off + n;
      if (end > BigInt(Number.MAX_SAFE_INTEGER) || (size !== undefined && end > BigInt(size))) {
        throw new CloudVolumeError("DECODE_FAILED", `shard ${key}: index entry ${i} (offset ${off}, ${n} bytes) lies outside the ${size ?? "?"}-byte shard (corrupt or truncated)`, { key, url: this.url, mip: this.mip });
      }
      out[i] = { offset: Number(off), nbytes: Number(n) };
    }
    return out;
  }

  private indexRange() {
    const n = this.sh.indexBytes;
    return this.sh.location === "start" ? { offset: 0, length: n } : { suffixLength: n };
  }

  /** A shard's index, read alone (a range read), or undefined when the shard is missing. */
  private async readIndex(key: string, signal?: AbortSignal): Promise<(IndexEntry | undefined)[] | undefined> {
    const store = this.storeOf();
    if (!store.capabilities.rangeReads) {
      const whole = await store.get(key, { signal });
      return whole && this.indexOfWhole(whole, key);
    }
    const bytes = await store.get(key, { range: this.indexRange(), signal });
    return bytes && this.parseIndex(bytes, key);
  }

  private indexOfWhole(whole: Uint8Array, key: string): (IndexEntry | undefined)[] {
    const n = this.sh.indexBytes;
    if (whole.byteLength < n) throw new CloudVolumeError("DECODE_FAILED", `shard ${key}: ${whole.byteLength} bytes cannot hold its ${n}-byte index (truncated?)`, { key, url: this.url, mip: this.mip });
    const idx = this.sh.location === "start" ? whole.subarray(0, n) : whole.subarray(whole.byteLength - n);
    return this.parseIndex(idx, key, whole.byteLength);
  }

  async getMany(ids: readonly bigint[], opts: { signal?: AbortSignal; raw?: boolean } = {}): Promise<Map<bigint, Uint8Array>> {
    const found = new Map<bigint, Uint8Array>();
    const store = this.storeOf();
    await mapConcurrent([...this.byShard(ids)], 8, async ([key, wanted]) => {
      if (!store.capabilities.rangeReads || wanted.length >= this.nPerShard * WHOLE_SHARD_SHARE) {
        const whole = await store.get(key, { signal: opts.signal });
        if (!whole) return;
        const index = this.indexOfWhole(whole, key);
        for (const [local, id] of wanted) {
          const e = index[local];
          if (e) found.set(id, whole.subarray(e.offset, e.offset + e.nbytes));
        }
        return;
      }
      const index = await this.readIndex(key, opts.signal);
      if (!index) return;
      await Promise.all(wanted.map(async ([local, id]) => {
        const e = index[local];
        if (!e) return;
        const bytes = await store.get(key, { range: { offset: e.offset, length: e.nbytes }, signal: opts.signal });
        if (!bytes || bytes.byteLength !== e.nbytes) {
          throw new CloudVolumeError("DECODE_FAILED", `shard ${key}: inner chunk ${local} (offset ${e.offset}, ${e.nbytes} bytes) is past the end of the shard (truncated?)`, { key, url: this.url, mip: this.mip });
        }
        found.set(id, bytes);
      }));
    }, opts.signal);
    return found;
  }

  async has(ids: readonly bigint[], opts: { signal?: AbortSignal } = {}): Promise<Set<bigint>> {
    const out = new Set<bigint>();
    await mapConcurrent([...this.byShard(ids)], 8, async ([key, wanted]) => {
      const index = await this.readIndex(key, opts.signal);
      if (index) for (const [local, id] of wanted) if (index[local]) out.add(id);
    }, opts.signal);
    return out;
  }

  /** The shard object for `entries` (inner-chunk encodings by id): data in index order, then or after the index. */
  buildShard(shard: string, entries: ReadonlyArray<readonly [bigint, Uint8Array]>): Uint8Array {
    const sh = this.sh;
    const slots = new Array<Uint8Array | undefined>(this.nPerShard);
    for (const [id, bytes] of entries) {
      const p = this.place(this.gridOfId(id));
      if (p.shard !== shard) throw new CloudVolumeError("INVALID_ARGUMENT", `chunk id ${id} belongs to shard ${p.shard}, not ${shard}`, { url: this.url, mip: this.mip, key: shard });
      slots[p.local] = bytes;
    }
    const dataBytes = entries.reduce((a, [, b]) => a + b.byteLength, 0);
    const out = new Uint8Array(dataBytes + sh.indexBytes);
    const indexAt = sh.location === "start" ? 0 : dataBytes;
    let pos = sh.location === "start" ? sh.indexBytes : 0;
    const dv = new DataView(out.buffer, indexAt, 16 * this.nPerShard);
    const little = sh.index.endian === "little";
    for (let i = 0; i < this.nPerShard; i++) {
      const b = slots[i];
      if (!b) {
        dv.setBigUint64(16 * i, MISSING, little);
        dv.setBigUint64(16 * i + 8, MISSING, little);
        continue;
      }
      out.set(b, pos);
      dv.setBigUint64(16 * i, BigInt(pos), little);
      dv.setBigUint64(16 * i + 8, BigInt(b.byteLength), little);
      pos += b.byteLength;
    }
    // Each crc32c of the index chain checksums what precedes it in the index.
    let len = 16 * this.nPerShard;
    for (let k = 0; k < sh.index.bytes.length; k++) {
      const view = out.subarray(indexAt, indexAt + len);
      new DataView(out.buffer, indexAt + len, 4).setUint32(0, crc32c(view), true);
      len += 4;
    }
    return out;
  }

  async writeShard(shard: string, entries: ReadonlyArray<readonly [bigint, Uint8Array]>, opts: { cacheControl?: string; signal?: AbortSignal } = {}): Promise<void> {
    if (entries.length === 0) return this.deleteShard(shard, opts.signal);
    await this.putShard(shard, this.buildShard(shard, entries), opts);
  }

  async putShard(shard: string, bytes: Uint8Array, opts: { cacheControl?: string; signal?: AbortSignal } = {}): Promise<void> {
    opts.signal?.throwIfAborted();
    await this.storeOf().put!(shard, bytes, { cacheControl: opts.cacheControl, contentType: "application/octet-stream" });
  }

  async deleteShard(shard: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.storeOf().delete!(shard);
  }
}
