import {
  Bbox, CloudVolumeError, allocateArray, formatUrl, bytesOf, chunkIndexOf, chunksInRegion, dtypeInfo, forEachConcurrent, fortranStrides, vequal, viewAs,
  type BboxLike, type ChunkPipeline, type DataType, type LayerInfo, type TypedArray, type Vec3,
} from "@cloudvolume/core";
import { storedEdgeExtent } from "./edge.js";
import type { Cutout, IoOptions, TransferOptions, TransferStats, VolumeOptions } from "./options.js";
import { chunksExist, decodePayload, deleteObjects, visitChunks } from "./visit.js";
import { ChunkedVolume, unsupported } from "./volume.js";
import { wholeShards } from "./write.js";

/**
 * Volume operations beyond download and upload, after CloudVolume's
 * frontends/precomputed.py and datasource/precomputed/image (exists, delete, has_data,
 * unique, download_point, scattered_points, download's renumber / label / segids,
 * download_files, transfer_to, memory_cutout, lock_mips). They work chunk by chunk
 * through visitChunks (visit.ts), so none of them allocates the requested box
 * unless it returns it, and encodings that can answer from their encoded bytes (the
 * codec's optional labels / contains / readVoxel: compressed_segmentation's lookup
 * tables) are not decoded at all.
 */

// ---- options and results ------------------------------------------------------------

export interface OperationOptions {
  mip?: number | Vec3;
  signal?: AbortSignal;
}

export interface UniqueOptions extends OperationOptions {
  /** Override the volume's fillMissing: a missing chunk contributes the background value. */
  fillMissing?: boolean;
}

/** download options beyond IoOptions (CloudVolume's download(renumber=, label=, segids=, preserve_zeros=)). */
export interface DownloadOptions extends IoOptions {
  /**
   * Rewrite the labels of the cutout as 1, 2, 3, ... (the background value keeps its own
   * value) into the narrowest of uint16 / uint32 that holds them, and return the mapping
   * old -> new as `remap`. Integer layers only.
   */
  renumber?: boolean;
  /** Return a mask (uint8, 1 where the voxel equals `label`, else 0) instead of the labels. */
  label?: number | bigint;
  /** Keep only these labels: every other voxel becomes 0 (or the dtype's maximum with preserveZeros). */
  segids?: ReadonlyArray<number | bigint>;
  /** With segids: mask with the dtype's largest value (floats: Infinity) and leave 0 as it is. */
  preserveZeros?: boolean;
}

/** A renumbered cutout: labels 1..N (background kept) and the mapping old label -> new label. */
export interface RenumberedCutout extends Cutout {
  remap: Map<number | bigint, number>;
}

export interface DownloadPointOptions extends IoOptions {
  /** Cutout size around the point: a number for a cube, or [x, y, z] (default [1, 1, 1]). */
  size?: number | Vec3;
  /** Resolution the point is given in (default: mip 0's); CloudVolume's coord_resolution. */
  coordResolution?: Vec3;
}

export interface ScatteredPointsOptions extends IoOptions {
  /** Resolution the points are given in (default: mip 0's); CloudVolume's coord_resolution. */
  coordResolution?: Vec3;
}

export interface DownloadFilesOptions extends OperationOptions {
  /** Remove transfer compression (and a sharded scale's gzip data_encoding) (default true). */
  decompress?: boolean;
}

export interface TransferToOptions extends TransferOptions {
  /** Set the destination scale's encoding first (committing the info when it changes). */
  encoding?: string;
  /** Transfer compression of the destination's chunk files for this transfer (as the open() option). */
  compress?: VolumeOptions["compress"];
  /**
   * Unit of work of a transfer between different chunk grids: a box of destination
   * chunks (a number n = n x n x n chunks, or a voxel shape rounded up to whole chunks)
   * read from the source and written at once. Default one destination chunk. Transfers
   * on the same grid always go chunk by chunk, and a sharded destination shard by shard.
   */
  blockSize?: number | Vec3;
}

export interface MemoryCutoutOptions extends OperationOptions {
  /** Encoding of the copy (default: the source's). */
  encoding?: string;
  compress?: VolumeOptions["compress"];
}

// ---- requests -------------------------------------------------------------------------

function missingChunk(vol: ChunkedVolume, key: string, chunk: Bbox, mip: number): CloudVolumeError {
  return new CloudVolumeError("NOT_FOUND", `chunk ${key} is missing from ${vol.url}; pass fillMissing: true to read it as background`, { url: vol.url, key, mip, bbox: chunk.toString() });
}

function checkMutable(vol: ChunkedVolume, mip: number, what: string): void {
  vol.assertWritable(`mip ${mip}`);
  if (vol.scale(mip).locked) {
    throw new CloudVolumeError("READ_ONLY", `cannot ${what}: mip ${mip} of ${vol.url} is locked; unlock it first (unlockMips(${mip}))`, { url: vol.url, mip });
  }
}

/**
 * The box `payload` was encoded with: `chunk` itself, the full-size box for a sharded
 * edge chunk stored padded (some writers do; see sharding/edge.ts), or undefined when
 * the bytes do not tell, in which case callers decode (decodePayload knows both forms).
 */
function storedBox(vol: ChunkedVolume, p: ChunkPipeline, payload: Uint8Array, chunk: Bbox, mip: number): Bbox | undefined {
  const full = vol.chunkSize(mip);
  const form = vol.edgeForm(p);
  if (form === "truncated" || vequal(chunk.size(), full)) return chunk;
  if (form === "padded") return new Bbox(chunk.min, [chunk.min[0] + full[0], chunk.min[1] + full[1], chunk.min[2] + full[2]]);
  const ext = storedEdgeExtent(p.codec.name, payload, chunk.size(), full, vol.numChannels, dtypeInfo(vol.dtype).bytes, vol.scale(mip).compressed_segmentation_block_size as number[] | undefined);
  if (ext === "truncated") return chunk;
  if (ext === "padded") return new Bbox(chunk.min, [chunk.min[0] + full[0], chunk.min[1] + full[1], chunk.min[2] + full[2]]);
  return undefined;
}

// ---- values as words ------------------------------------------------------------------

type Words = Uint8Array | Uint16Array | Uint32Array;

/** Unsigned words of `bytes` for values of `bpv` bytes (8-byte values as low, high uint32 pairs); copies when misaligned. */
function wordsOf(bytes: Uint8Array, bpv: number): Words {
  const w = bpv === 8 ? 4 : bpv;
  if (bytes.byteOffset % w !== 0) bytes = bytes.slice();
  if (w === 1) return bytes;
  if (w === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 1);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
}

/**
 * The (low, high) words of `value` stored as `dtype`, or undefined when no value of that
 * type equals it (e.g. 2^40 for uint32, -1 for uint64, 1.5 for an integer type).
 */
function scalarWords(dtype: DataType, value: number | bigint): [number, number] | undefined {
  const info = dtypeInfo(dtype);
  if (info.bigint) {
    let b: bigint;
    try {
      b = BigInt(value);
    } catch {
      return undefined; // not an integer
    }
    if (info.signed ? b < -(1n << 63n) || b >= 1n << 63n : b < 0n || b >= 1n << 64n) return undefined;
    const u = BigInt.asUintN(64, b);
    return [Number(u & 0xffffffffn), Number(u >> 32n)];
  }
  const n = Number(value);
  if (typeof value === "bigint" && BigInt(n) !== value) return undefined;
  const one = new info.ctor(1) as Float64Array;
  one[0] = n;
  // Floats take the nearest value of the type; integer types must hold the value exactly.
  if (!info.float && one[0] !== n) return undefined;
  const w = wordsOf(bytesOf(one), info.bytes);
  return [w[0], 0];
}

/** A value read from little-endian voxel bytes: a bigint for 64-bit integers. */
function readScalar(bytes: Uint8Array, index: number, dtype: DataType): number | bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = index * dtypeInfo(dtype).bytes;
  switch (dtype) {
    case "uint8": return dv.getUint8(at);
    case "int8": return dv.getInt8(at);
    case "uint16": return dv.getUint16(at, true);
    case "int16": return dv.getInt16(at, true);
    case "uint32": return dv.getUint32(at, true);
    case "int32": return dv.getInt32(at, true);
    case "uint64": return dv.getBigUint64(at, true);
    case "int64": return dv.getBigInt64(at, true);
    case "float32": return dv.getFloat32(at, true);
    case "float64": return dv.getFloat64(at, true);
  }
}

/** The background as a value of the layer's type (a bigint for 64-bit integers). */
function backgroundValue(vol: ChunkedVolume, mip: number): number | bigint {
  const bg = vol.background(mip);
  return dtypeInfo(vol.dtype).bigint ? BigInt(bg) : Number(bg);
}

/**
 * An open-addressing hash table of values given as (low, high) uint32 words, with one
 * number per entry. Keeps BigInt out of the per-voxel loops (a uint64 voxel is two words).
 */
class ValueTable {
  size = 0;
  private lo: Uint32Array;
  private hi: Uint32Array;
  private used: Uint8Array;
  private val: Float64Array;
  private mask: number;

  constructor(capacity = 256) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.val = new Float64Array(cap);
    this.mask = cap - 1;
  }

  private slot(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1);
    h ^= h >>> 15;
    let s = h & this.mask;
    while (this.used[s] === 1 && (this.lo[s] !== lo || this.hi[s] !== hi)) s = (s + 1) & this.mask;
    return s;
  }

  add(lo: number, hi: number): void {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    const s = this.slot(lo, hi);
    if (this.used[s] === 1) return;
    this.used[s] = 1;
    this.lo[s] = lo;
    this.hi[s] = hi;
    this.size++;
  }

  has(lo: number, hi: number): boolean {
    return this.used[this.slot(lo, hi)] === 1;
  }

  /** The number stored with a value (undefined when absent). */
  get(lo: number, hi: number): number | undefined {
    const s = this.slot(lo, hi);
    return this.used[s] === 1 ? this.val[s] : undefined;
  }

  set(lo: number, hi: number, v: number): void {
    this.add(lo, hi);
    this.val[this.slot(lo, hi)] = v;
  }

  /** The values, ascending in `dtype`'s numeric order, as a typed array of `dtype`. */
  sorted(dtype: DataType): TypedArray {
    const bpv = dtypeInfo(dtype).bytes;
    const bytes = new Uint8Array(this.size * bpv);
    const w = wordsOf(bytes, bpv);
    let i = 0;
    for (let s = 0; s <= this.mask; s++) {
      if (this.used[s] !== 1) continue;
      if (bpv === 8) {
        w[2 * i] = this.lo[s];
        w[2 * i + 1] = this.hi[s];
      } else w[i] = this.lo[s];
      i++;
    }
    const out = viewAs(bytes, dtype);
    (out as unknown as { sort(): unknown }).sort(); // typed-array sort is numeric, for bigint arrays too
    return out;
  }

  private grow(): void {
    const { lo, hi, used, val } = this;
    const cap = 2 * (this.mask + 1);
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.val = new Float64Array(cap);
    this.mask = cap - 1;
    for (let s = 0; s < used.length; s++) {
      if (used[s] !== 1) continue;
      const t = this.slot(lo[s], hi[s]);
      this.used[t] = 1;
      this.lo[t] = lo[s];
      this.hi[t] = hi[s];
      this.val[t] = val[s];
    }
  }
}

/** Add every value of `values` (typed array bytes of `bpv` bytes per value) to `table`. */
function addAll(table: ValueTable, values: Uint8Array, bpv: number): void {
  const w = wordsOf(values, bpv);
  const wide = bpv === 8;
  const n = values.byteLength / bpv;
  for (let i = 0; i < n; i++) table.add(wide ? w[2 * i] : w[i], wide ? w[2 * i + 1] : 0);
}

/** Add the values of the sub-box `[origin, origin + size)` (all channels) of a Fortran array of `shape`. */
function addBox(table: ValueTable, voxels: Uint8Array, bpv: number, shape: Vec3, channels: number, origin: Vec3, size: Vec3): void {
  const w = wordsOf(voxels, bpv);
  const wide = bpv === 8;
  const [sx, sy, sz] = shape;
  let have = false;
  let plo = 0;
  let phi = 0;
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < size[2]; z++) {
      for (let y = 0; y < size[1]; y++) {
        const row = origin[0] + sx * (origin[1] + y + sy * (origin[2] + z + sz * c));
        for (let x = 0; x < size[0]; x++) {
          const i = row + x;
          const lo = wide ? w[2 * i] : w[i];
          const hi = wide ? w[2 * i + 1] : 0;
          // Segmentation comes in runs: skip the lookup while the value repeats.
          if (have && lo === plo && hi === phi) continue;
          table.add(lo, hi);
          have = true;
          plo = lo;
          phi = hi;
        }
      }
    }
  }
}

// ---- exists, delete, hasData ------------------------------------------------------------

/**
 * Which chunks of `bbox` are stored (CloudVolume's exists): chunk key
 * (`<scale key>/<x0-x1_y0-y1_z0-z1>`) -> boolean, in grid order (x fastest). Sharded
 * scales answer per chunk from the shard and minishard indices, reading no chunk data.
 */
export async function exists(vol: ChunkedVolume, bboxLike: BboxLike, opts: OperationOptions = {}): Promise<Record<string, boolean>> {
  const mip = vol.mipIndex(opts.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const chunks = [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), vol.bounds(mip))];
  const found = await chunksExist(vol, chunks, mip, opts.signal);
  const out: Record<string, boolean> = {};
  chunks.forEach((c, i) => (out[vol.chunkKey(c, mip)] = found[i]));
  return out;
}

/**
 * Delete the chunks of a chunk-aligned `bbox` (CloudVolume's delete: AlignmentError
 * otherwise; the volume's upper bound counts as a grid line). A sharded scale deletes
 * whole shard files only, so the box must cover whole shards. Refused (READ_ONLY) on a
 * locked scale, a layer reached through a redirect, or read-only storage. Returns the
 * storage keys deleted (chunk files, or shard files).
 */
export async function deleteRegion(vol: ChunkedVolume, bboxLike: BboxLike, opts: OperationOptions = {}): Promise<string[]> {
  const mip = vol.mipIndex(opts.mip);
  checkMutable(vol, mip, "delete");
  const bbox = vol.requestBox(bboxLike, mip).clamp(vol.bounds(mip));
  const bounds = vol.bounds(mip);
  if (bbox.isEmpty()) return [];
  const realized = bbox.expandToChunkSize(vol.chunkSize(mip), vol.voxelOffset(mip)).clamp(bounds);
  if (!realized.equals(bbox)) {
    throw new CloudVolumeError("ALIGNMENT", `cannot delete ${bbox}: it is not aligned to the ${vol.chunkSize(mip).join("x")} chunk grid at offset ${vol.voxelOffset(mip).join(",")} (mip ${mip}); delete ${realized} or ${bbox.shrinkToChunkSize(vol.chunkSize(mip), vol.voxelOffset(mip))}`, { url: vol.url, mip, bbox: bbox.toString() });
  }
  if (vol.isSharded(mip)) {
    const sh = vol.shards(mip);
    const shards = wholeShards(vol, sh, bbox, mip, "delete").map((s) => s.shard);
    await deleteObjects(vol, mip, { shards }, opts.signal);
    return shards.map((f) => sh.keyOf(f));
  }
  const keys = [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), bounds)].map((c) => vol.chunkKey(c, mip));
  await deleteObjects(vol, mip, { keys }, opts.signal);
  return keys;
}

/**
 * True when any object is stored under the mip's chunk prefix (CloudVolume's
 * image.has_data: one listing with the scale key as prefix, stopped at the first hit).
 */
export async function hasData(vol: ChunkedVolume, mip?: number | Vec3): Promise<boolean> {
  const m = vol.mipIndex(mip);
  const list = vol.store.list;
  if (!list || !vol.store.capabilities.list) {
    throw new CloudVolumeError("UNAVAILABLE", `hasData needs a listing, and storage ${vol.store.url} cannot list`, { url: vol.url, mip: m });
  }
  for await (const _key of list.call(vol.store, vol.layer.chunkPrefix(m))) return true;
  return false;
}

// ---- unique ---------------------------------------------------------------------------

/**
 * The distinct values in `bbox`, ascending (a BigUint64Array / BigInt64Array for 64-bit
 * layers, else the layer's typed array). As CloudVolume's unique (rx.unique_unsharded):
 * chunks wholly inside the box give their labels from the encoding when it can (the
 * codec's `labels`: compressed_segmentation reads its lookup tables, no decode), the
 * others are decoded and only their overlap is scanned; a missing chunk (fillMissing)
 * and the part of an unbounded box outside the volume give the background value. The
 * box is never allocated.
 */
export async function unique(vol: ChunkedVolume, bboxLike: BboxLike, opts: UniqueOptions = {}): Promise<TypedArray> {
  const mip = vol.mipIndex(opts.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const fillMissing = opts.fillMissing ?? vol.options.fillMissing;
  const bounds = vol.bounds(mip);
  const bpv = dtypeInfo(vol.dtype).bytes;
  const channels = vol.numChannels;
  const table = new ValueTable();
  const bg = scalarWords(vol.dtype, vol.background(mip));
  const addBackground = () => bg && table.add(bg[0], bg[1]);
  if (!bounds.containsBbox(bbox)) addBackground();
  const chunks = [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), bounds)];
  if (chunks.length === 0) return table.sorted(vol.dtype);
  const pipe = await vol.pipeline(mip);
  const codec = pipe.codec;
  await visitChunks(vol, chunks, mip, async (chunk, payload, key) => {
    if (payload === undefined) {
      if (!fillMissing) throw missingChunk(vol, key, chunk, mip);
      addBackground();
      return;
    }
    if (codec.labels && bbox.containsBbox(chunk) && storedBox(vol, pipe, payload, chunk, mip) === chunk) {
      addAll(table, bytesOf(await codec.labels(payload, vol.chunkSpec(chunk, mip, key))), bpv);
      return;
    }
    const voxels = await decodePayload(vol, payload, chunk, mip, pipe, key);
    try {
      const overlap = chunk.intersection(bbox);
      addBox(table, voxels, bpv, chunk.size(), channels,
        [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]], overlap.size());
    } finally {
      vol.pool.release(voxels);
    }
  }, { signal: opts.signal });
  return table.sorted(vol.dtype);
}

// ---- points ---------------------------------------------------------------------------

/** A point given at `coordResolution` (default mip 0's) in voxels of `mip` (CloudVolume's point_to_mip: floor). */
function pointToMip(vol: ChunkedVolume, pt: readonly number[], mip: number, coordResolution?: Vec3): Vec3 {
  if (!Array.isArray(pt) || pt.length !== 3 || !pt.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `a point must be three finite numbers [x, y, z], got ${JSON.stringify(pt)}`, { url: vol.url });
  }
  const from = coordResolution ?? vol.resolution(0);
  const to = vol.resolution(mip);
  return [0, 1, 2].map((i) => Math.floor((pt[i] * from[i]) / to[i]) + 0) as unknown as Vec3;
}

/**
 * The cutout around one point (CloudVolume's download_point). The point is in mip 0
 * voxels (or at `coordResolution`) and is converted to `mip`; the box is
 * [p - floor(size / 2), p + floor(size / 2)) per axis, or [p, p + 1) where the size is
 * 1, exactly as CloudVolume computes it (so an odd size > 1 gives one voxel less).
 * Default size 1: the single voxel.
 */
export async function downloadPoint(vol: ChunkedVolume, pt: readonly number[], opts: DownloadPointOptions = {}): Promise<Cutout> {
  const mip = vol.mipIndex(opts.mip);
  const size: Vec3 = typeof opts.size === "number" ? [opts.size, opts.size, opts.size] : opts.size ?? [1, 1, 1];
  if (!Array.isArray(size) || size.length !== 3 || !size.every((s) => Number.isInteger(s) && s > 0)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `size must be a positive integer or three of them, got ${JSON.stringify(opts.size)}`, { url: vol.url });
  }
  const p = pointToMip(vol, pt, mip, opts.coordResolution);
  const min = [0, 0, 0];
  const max = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const half = Math.floor(size[i] / 2);
    [min[i], max[i]] = size[i] === 1 ? [p[i], p[i] + 1] : [p[i] - half, p[i] + half];
  }
  const { size: _s, coordResolution: _c, ...io } = opts;
  return vol.download(new Bbox(min, max), { ...io, mip });
}

/**
 * The value (channel 0) at each point, in input order (CloudVolume's scattered_points,
 * which returns a dict by point). Points are in mip 0 voxels (or at `coordResolution`)
 * and are converted to `mip`. Points are grouped by chunk and each chunk is fetched once;
 * where the codec can read one voxel (compressed_segmentation's readVoxel) nothing is
 * decoded. 64-bit layers give bigints. A point outside the bounds is OUT_OF_BOUNDS, or
 * the background value when the volume is not bounded (or autocrops).
 */
export async function scatteredPoints(vol: ChunkedVolume, points: ReadonlyArray<readonly number[]>, opts: ScatteredPointsOptions = {}): Promise<Array<number | bigint>> {
  const mip = vol.mipIndex(opts.mip);
  const bounds = vol.bounds(mip);
  const fillMissing = opts.fillMissing ?? vol.options.fillMissing;
  const cs = vol.chunkSize(mip);
  const offset = vol.voxelOffset(mip);
  const bg = backgroundValue(vol, mip);
  const out = new Array<number | bigint>(points.length);
  const groups = new Map<string, { chunk: Bbox; points: Array<{ i: number; p: Vec3 }> }>();
  points.forEach((raw, i) => {
    const p = pointToMip(vol, raw, mip, opts.coordResolution);
    if (!bounds.containsPoint(p)) {
      if (vol.options.bounded && !vol.options.autocrop) {
        throw new CloudVolumeError("OUT_OF_BOUNDS", `point ${p.join(",")} (mip ${mip}) is outside the bounds ${bounds}; pass bounded: false to read it as background`, { url: vol.url, mip });
      }
      out[i] = bg;
      return;
    }
    const g = chunkIndexOf(p, cs, offset);
    const id = g.join(",");
    let group = groups.get(id);
    if (!group) {
      const min: Vec3 = [offset[0] + g[0] * cs[0], offset[1] + g[1] * cs[1], offset[2] + g[2] * cs[2]];
      groups.set(id, (group = { chunk: new Bbox(min, [min[0] + cs[0], min[1] + cs[1], min[2] + cs[2]]).clamp(bounds), points: [] }));
    }
    group.points.push({ i, p });
  });
  if (groups.size === 0) return out;
  const byKey = new Map<string, Array<{ i: number; p: Vec3 }>>();
  for (const g of groups.values()) byKey.set(g.chunk.toFilename(), g.points);
  const pipe = await vol.pipeline(mip);
  const codec = pipe.codec;
  await visitChunks(vol, [...groups.values()].map((g) => g.chunk), mip, async (chunk, payload, key) => {
    const pts = byKey.get(chunk.toFilename())!;
    if (payload === undefined) {
      if (!fillMissing) throw missingChunk(vol, key, chunk, mip);
      for (const { i } of pts) out[i] = bg;
      return;
    }
    const stored = codec.readVoxel ? storedBox(vol, pipe, payload, chunk, mip) : undefined;
    if (codec.readVoxel && stored) {
      const spec = vol.chunkSpec(stored, mip, key);
      for (const { i, p } of pts) out[i] = await codec.readVoxel(payload, spec, p[0] - chunk.min[0], p[1] - chunk.min[1], p[2] - chunk.min[2], 0);
      return;
    }
    const voxels = await decodePayload(vol, payload, chunk, mip, pipe, key);
    try {
      const s = chunk.size();
      for (const { i, p } of pts) out[i] = readScalar(voxels, p[0] - chunk.min[0] + s[0] * (p[1] - chunk.min[1] + s[1] * (p[2] - chunk.min[2])), vol.dtype);
    } finally {
      vol.pool.release(voxels);
    }
  }, { signal: opts.signal });
  return out;
}

// ---- download with renumber / label / segids ----------------------------------------------

/**
 * download with CloudVolume's post-processing options. Without them this is download
 * itself (the hot path is untouched). `label` paints a uint8 mask chunk by chunk (chunks
 * whose encoding says they lack the label are skipped undecoded; missing chunks and the
 * outside of the volume are 0, as CloudVolume's decode_binary_image leaves them);
 * `segids` masks every other label after painting; `renumber` then rewrites the labels
 * (see renumberCutout).
 */
export async function downloadWith(vol: ChunkedVolume, bboxLike: BboxLike, opts: DownloadOptions = {}): Promise<Cutout | RenumberedCutout> {
  const { renumber, label, segids, preserveZeros, ...io } = opts;
  if (label !== undefined) {
    if (renumber || segids) throw new CloudVolumeError("INVALID_ARGUMENT", "label gives a mask; it cannot be combined with renumber or segids", { url: vol.url });
    return downloadLabelMask(vol, bboxLike, label, io);
  }
  const cut = await vol.download(bboxLike, io);
  if (segids) maskExcept(cut, segids, preserveZeros ?? false);
  if (renumber) return renumberCutout(cut, vol.background(cut.mip));
  return cut;
}

async function downloadLabelMask(vol: ChunkedVolume, bboxLike: BboxLike, label: number | bigint, io: IoOptions): Promise<Cutout> {
  const mip = vol.mipIndex(io.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const fillMissing = io.fillMissing ?? vol.options.fillMissing;
  const size = bbox.size();
  const channels = vol.numChannels;
  const mask = allocateArray("uint8", [size[0], size[1], size[2], channels]);
  const out = Object.assign(mask, { bbox, mip }) as Cutout;
  const want = scalarWords(vol.dtype, label);
  const chunks = [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), vol.bounds(mip))];
  if (chunks.length === 0) return out;
  const pipe = await vol.pipeline(mip);
  const codec = pipe.codec;
  const bpv = dtypeInfo(vol.dtype).bytes;
  const wide = bpv === 8;
  const m = mask.data as Uint8Array;
  await visitChunks(vol, chunks, mip, async (chunk, payload, key) => {
    if (payload === undefined) {
      if (!fillMissing) throw missingChunk(vol, key, chunk, mip);
      return;
    }
    if (want === undefined) return; // no value of this type equals the label
    if (codec.contains) {
      const stored = storedBox(vol, pipe, payload, chunk, mip);
      if (stored && !(await codec.contains(payload, vol.chunkSpec(stored, mip, key), label))) return;
    }
    const voxels = await decodePayload(vol, payload, chunk, mip, pipe, key);
    try {
      const w = wordsOf(voxels, bpv);
      const [lo, hi] = want;
      const [sx, sy, sz] = chunk.size();
      const ov = chunk.intersection(bbox);
      const o = ov.size();
      const src: Vec3 = [ov.min[0] - chunk.min[0], ov.min[1] - chunk.min[1], ov.min[2] - chunk.min[2]];
      const dst: Vec3 = [ov.min[0] - bbox.min[0], ov.min[1] - bbox.min[1], ov.min[2] - bbox.min[2]];
      for (let c = 0; c < channels; c++) {
        for (let z = 0; z < o[2]; z++) {
          for (let y = 0; y < o[1]; y++) {
            const s = src[0] + sx * (src[1] + y + sy * (src[2] + z + sz * c));
            const d = dst[0] + size[0] * (dst[1] + y + size[1] * (dst[2] + z + size[2] * c));
            if (wide) {
              for (let x = 0; x < o[0]; x++) if (w[2 * (s + x)] === lo && w[2 * (s + x) + 1] === hi) m[d + x] = 1;
            } else {
              for (let x = 0; x < o[0]; x++) if (w[s + x] === lo) m[d + x] = 1;
            }
          }
        }
      }
    } finally {
      vol.pool.release(voxels);
    }
  }, { signal: io.signal });
  return out;
}

/**
 * Set every voxel whose value is not in `segids` to 0, in place (fastremap.mask_except,
 * as CloudVolume's download(segids=) does). With preserveZeros the mask value is the
 * dtype's maximum (Infinity for floats) and 0 is kept.
 */
export function maskExcept(cut: Cutout, segids: ReadonlyArray<number | bigint>, preserveZeros = false): Cutout {
  const info = dtypeInfo(cut.dtype);
  const keep = new ValueTable(2 * segids.length + 2);
  for (const s of segids) {
    const w = scalarWords(cut.dtype, s);
    if (w) keep.add(w[0], w[1]);
  }
  let maskValue: number | bigint = 0;
  if (preserveZeros) {
    keep.add(0, 0);
    maskValue = info.float ? Infinity : info.bigint ? (info.signed ? (1n << 63n) - 1n : (1n << 64n) - 1n) : info.signed ? 2 ** (8 * info.bytes - 1) - 1 : 2 ** (8 * info.bytes) - 1;
  }
  const [mlo, mhi] = scalarWords(cut.dtype, maskValue)!;
  const bytes = bytesOf(cut.data);
  const w = wordsOf(bytes, info.bytes);
  if (w.buffer !== bytes.buffer) throw new CloudVolumeError("INVALID_ARGUMENT", "maskExcept needs an aligned array to work in place", {});
  const wide = info.bytes === 8;
  const n = cut.data.length;
  let have = false;
  let plo = 0;
  let phi = 0;
  let pkeep = false;
  for (let i = 0; i < n; i++) {
    const lo = wide ? w[2 * i] : w[i];
    const hi = wide ? w[2 * i + 1] : 0;
    if (!have || lo !== plo || hi !== phi) {
      have = true;
      plo = lo;
      phi = hi;
      pkeep = keep.has(lo, hi);
    }
    if (pkeep) continue;
    if (wide) {
      w[2 * i] = mlo;
      w[2 * i + 1] = mhi;
    } else w[i] = mlo;
  }
  return cut;
}

/**
 * Renumber a cutout's labels (CloudVolume's download(renumber=True), rx.download's
 * process_renumber): the remap starts as { background: background } and every other
 * label gets the next of 1, 2, 3, ...; the result is uint16, widened to uint32 when the
 * next label would exceed 65535 (fastremap.refit, as CloudVolume does). CloudVolume
 * numbers labels in the order its threads finish chunks; we number them ascending, so the
 * result is deterministic. A non-zero background keeps its value and is skipped when
 * numbering, so the remap stays one to one (CloudVolume can collide there).
 * `remap` maps old label -> new label (keys are bigints for 64-bit layers).
 */
export function renumberCutout(cut: Cutout, background: number | bigint = 0): RenumberedCutout {
  const info = dtypeInfo(cut.dtype);
  if (info.float) throw new CloudVolumeError("INVALID_ARGUMENT", `renumber needs an integer layer; this one is ${cut.dtype}`, {});
  const bg = scalarWords(cut.dtype, background);
  const bgId = Number(background);
  if (!bg || !Number.isInteger(bgId) || bgId < 0 || bgId > 0xffffffff) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `renumber keeps the background value ${background}, which must be an integer in 0..2^32-1 and a ${cut.dtype}`, {});
  }
  const bpv = info.bytes;
  const wide = bpv === 8;
  const w = wordsOf(bytesOf(cut.data), bpv);
  const n = cut.data.length;
  const table = new ValueTable();
  table.add(bg[0], bg[1]);
  let have = false;
  let plo = 0;
  let phi = 0;
  for (let i = 0; i < n; i++) {
    const lo = wide ? w[2 * i] : w[i];
    const hi = wide ? w[2 * i + 1] : 0;
    if (have && lo === plo && hi === phi) continue;
    table.add(lo, hi);
    have = true;
    plo = lo;
    phi = hi;
  }
  const labels = table.sorted(cut.dtype);
  const lw = wordsOf(bytesOf(labels), bpv);
  const remap = new Map<number | bigint, number>();
  let next = 1;
  for (let j = 0; j < labels.length; j++) {
    const lo = wide ? lw[2 * j] : lw[j];
    const hi = wide ? lw[2 * j + 1] : 0;
    let id: number;
    if (lo === bg[0] && hi === bg[1]) id = bgId;
    else {
      if (next === bgId) next++;
      id = next++;
    }
    table.set(lo, hi, id);
    remap.set(labels[j], id);
  }
  // CloudVolume refits when N (the next label to hand out) exceeds the type's maximum.
  const top = Math.max(next, bgId);
  if (top > 0xffffffff) throw new CloudVolumeError("INVALID_ARGUMENT", `renumber found ${labels.length} labels, more than a uint32 holds`, {});
  const dtype: DataType = top > 0xffff ? "uint32" : "uint16";
  const data = dtype === "uint16" ? new Uint16Array(n) : new Uint32Array(n);
  have = false;
  let pid = 0;
  for (let i = 0; i < n; i++) {
    const lo = wide ? w[2 * i] : w[i];
    const hi = wide ? w[2 * i + 1] : 0;
    if (!have || lo !== plo || hi !== phi) {
      have = true;
      plo = lo;
      phi = hi;
      pid = table.get(lo, hi)!;
    }
    data[i] = pid;
  }
  return { data, shape: [...cut.shape], stride: fortranStrides(cut.shape), dtype, bbox: cut.bbox, mip: cut.mip, remap };
}

// ---- files ----------------------------------------------------------------------------

/**
 * The stored files of the chunks overlapping `bbox`, without painting (CloudVolume's
 * download_files): chunk key (`<scale key>/<x0-x1_y0-y1_z0-z1>`, for sharded scales
 * too, where CloudVolume keys by chunk id) -> bytes, array-encoded, with transfer
 * compression removed unless `decompress: false`; undefined for a missing chunk (as
 * CloudVolume's None). Grid order.
 */
export async function downloadFiles(vol: ChunkedVolume, bboxLike: BboxLike, opts: DownloadFilesOptions = {}): Promise<Map<string, Uint8Array | undefined>> {
  const mip = vol.mipIndex(opts.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const chunks = [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), vol.bounds(mip))];
  const out = new Map<string, Uint8Array | undefined>();
  for (const c of chunks) out.set(vol.chunkKey(c, mip), undefined);
  await visitChunks(vol, chunks, mip, (chunk, payload) => {
    out.set(vol.chunkKey(chunk, mip), payload);
  }, { signal: opts.signal, decompress: opts.decompress ?? true });
  return out;
}

// ---- transfer and memory cutouts --------------------------------------------------------

/** Set a scale's encoding (CloudVolume's meta.encoding setter), checking the codec can encode; commits when it changed. */
async function setEncoding(dst: ChunkedVolume, mip: number, encoding: string): Promise<void> {
  const scale = dst.info.scales[mip];
  if (!scale) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist in ${dst.url}`, { url: dst.url, mip });
  if (scale.encoding === encoding) return;
  const codec = await dst.ctx.codec(encoding);
  if (!codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${codec.name} can decode but not encode`, { url: dst.url, mip });
  const before = structuredClone(scale);
  scale.encoding = encoding;
  if (encoding === "compressed_segmentation") scale.compressed_segmentation_block_size ??= [8, 8, 8];
  else delete scale.compressed_segmentation_block_size;
  try {
    await dst.commitInfo();
  } catch (e) {
    dst.info.scales[mip] = before;
    throw e;
  }
}

/**
 * transferTo with CloudVolume's transfer_to options: `encoding` re-encodes into the
 * destination (its scale's encoding is set and committed first), `compress` sets the
 * destination's transfer compression for this transfer, `blockSize` the unit of work
 * when the chunk grids differ. Refused (READ_ONLY) when the destination scale is locked.
 */
export async function transferWith(src: ChunkedVolume, dst: ChunkedVolume, opts: TransferToOptions = {}): Promise<TransferStats> {
  const { encoding, compress, blockSize, ...rest } = opts;
  const mip = src.mipIndex(opts.mip);
  dst.assertWritable(`mip ${mip}`);
  if (dst.info.scales[mip]?.locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} of ${dst.url} is locked; unlock the scale before writing`, { url: dst.url, mip });
  if (encoding !== undefined) await setEncoding(dst, mip, encoding);
  const saved = dst.options.compress;
  if (compress !== undefined) dst.options.compress = compress;
  try {
    if (blockSize !== undefined) {
      if (rest.sharded !== undefined) await dst.setSharding(mip, rest.sharded);
      if (dst.info.scales.length > mip && !dst.isSharded(mip) && !sameGrid(src, dst, mip)) return await transferBlocks(src, dst, mip, blockSize, rest);
    }
    return await src.transferTo(dst, { ...rest, mip });
  } finally {
    dst.options.compress = saved;
  }
}

function sameGrid(a: ChunkedVolume, b: ChunkedVolume, mip: number): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.every((v, i) => v === y[i]);
  return eq(a.chunkSize(mip), b.chunkSize(mip)) && eq(a.voxelOffset(mip), b.voxelOffset(mip)) && eq(a.scale(mip).size, b.scale(mip).size) &&
    a.dtype === b.dtype && a.numChannels === b.numChannels;
}

/** Grid-changing transfer in blocks of whole destination chunks: one download and one upload per block. */
async function transferBlocks(src: ChunkedVolume, dst: ChunkedVolume, mip: number, blockSize: number | Vec3, opts: TransferOptions): Promise<TransferStats> {
  const dcs = dst.chunkSize(mip);
  const shape = typeof blockSize === "number" ? [blockSize, blockSize, blockSize] : blockSize;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `blockSize must be a positive integer (chunks per axis) or a voxel shape [x, y, z], got ${JSON.stringify(blockSize)}`, { url: dst.url });
  }
  const block: Vec3 = typeof blockSize === "number"
    ? [blockSize * dcs[0], blockSize * dcs[1], blockSize * dcs[2]]
    : [Math.ceil(shape[0] / dcs[0]) * dcs[0], Math.ceil(shape[1] / dcs[1]) * dcs[1], Math.ceil(shape[2] / dcs[2]) * dcs[2]];
  const bounds = src.bounds(mip);
  const region = opts.bbox ? Bbox.from(opts.bbox).clamp(bounds) : bounds;
  const dstBounds = dst.bounds(mip);
  const dstRegion = region.clamp(dstBounds);
  if (!dstRegion.isEmpty() && !dstRegion.isAlignedTo(dcs, dst.voxelOffset(mip), dstBounds)) {
    throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunks of the destination's ${dcs.join("x")} grid; align the region to it`, { url: dst.url, mip });
  }
  const stats: TransferStats = { chunks: 0, copied: 0, recoded: 0 };
  const blocks = [...chunksInRegion(dstRegion, block, dst.voxelOffset(mip), dstBounds)].map((b) => b.intersection(dstRegion)).filter((b) => !b.isEmpty());
  await forEachConcurrent(blocks, 2, async (b) => {
    const cut = await src.download(b, { mip, signal: opts.signal, fillMissing: true });
    await dst.upload(b, cut, { mip, signal: opts.signal });
    let n = 0;
    for (const _c of chunksInRegion(b, dcs, dst.voxelOffset(mip), dstBounds)) n++;
    stats.chunks += n;
    stats.recoded += n;
    for (let i = 0; i < n; i++) opts.onChunk?.();
  }, opts.signal);
  return stats;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A disposable mem:// layer of the same format holding the chunks of `bbox` (expanded to the chunk grid),
 * unsharded, in `encoding` if given (CloudVolume's memory_cutout). Its info is the
 * source's (every scale, so mips keep their numbers; no redirect, no locks); it reads
 * with the source's fillMissing and background. Needs the mem:// storage plugin in the
 * source's Context. Remove its objects with deleteLayer when done.
 */
export async function memoryCutout(vol: ChunkedVolume, bboxLike: BboxLike, opts: MemoryCutoutOptions = {}): Promise<ChunkedVolume> {
  const mip = vol.mipIndex(opts.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const realized = bbox.expandToChunkSize(vol.chunkSize(mip), vol.voxelOffset(mip)).clamp(vol.bounds(mip));
  const info = structuredClone(vol.info) as LayerInfo;
  delete info.redirect;
  for (const s of info.scales) delete s.locked;
  delete info.scales[mip].sharding;
  const dst = await ChunkedVolume.open(vol.ctx, formatUrl(vol.format, `mem://cutout-${randomId()}`), {
    info, mip, compress: opts.compress, fillMissing: vol.options.fillMissing, backgroundColor: vol.options.backgroundColor,
    bounded: vol.options.bounded, autocrop: vol.options.autocrop,
  });
  try {
    await dst.commitInfo();
    if (!realized.isEmpty()) await transferWith(vol, dst, { mip, bbox: realized, encoding: opts.encoding, signal: opts.signal });
  } catch (e) {
    await deleteLayer(dst).catch(() => {});
    throw e;
  }
  return dst;
}

/** Delete every object of a layer (CloudVolume's cleanup of a memory cutout). */
export async function deleteLayer(vol: ChunkedVolume): Promise<void> {
  vol.assertWritable("the layer");
  const list = vol.store.list;
  if (!list) throw new CloudVolumeError("UNAVAILABLE", `storage ${vol.store.url} cannot list`, { url: vol.url });
  const keys: string[] = [];
  for await (const k of list.call(vol.store, "")) keys.push(k);
  await forEachConcurrent(keys, 16, (k) => vol.store.delete!(k));
}

// ---- locks ----------------------------------------------------------------------------

/**
 * Set or clear the write lock of scales (CloudVolume's meta.lock_mips / unlock_mips):
 * the info is re-read from storage, `locked` set to true or false on each mip, and the
 * info committed. Locked scales refuse upload, delete and being a transfer destination.
 */
export async function setMipLocks(vol: ChunkedVolume, mips: number | readonly number[], locked: boolean): Promise<void> {
  const list = typeof mips === "number" ? [mips] : [...mips];
  const n = vol.info.scales.length;
  for (const m of list) {
    if (!Number.isInteger(m) || m < 0 || m >= n) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `cannot ${locked ? "lock" : "unlock"} mip ${m}: this layer has mips 0..${n - 1}`, { url: vol.url });
    }
  }
  vol.assertWritable("info");
  if (!vol.layer.capabilities.locks) throw unsupported(vol, "write-locking mips (lockMips / unlockMips)");
  await vol.refreshInfo();
  for (const m of list) {
    if (!vol.info.scales[m]) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${m} no longer exists in the stored info of ${vol.url}`, { url: vol.url, mip: m });
    vol.info.scales[m].locked = locked;
  }
  await vol.commitInfo();
}
