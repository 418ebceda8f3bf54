import {
  Bbox, CloudVolumeError, allocateArray, formatUrl, bytesOf, chunkIndexOf, chunksInRegion, dtypeInfo, forEachConcurrent, fortranStrides, vequal, viewAs,
  type BboxLike, type ChunkPipeline, type DataType, type LayerInfo, type TypedArray, type Vec3,
} from "@cloudvolume/core";
import { storedEdgeExtent } from "./edge.js";
import type { Cutout, IoOptions, TransferOptions, TransferStats, VolumeOptions } from "./options.js";
import { chunksExist, decodePayload, deleteObjects, visitChunks } from "./visit.js";
import { ValueTable, addAll, addBox, readScalar, scalarWords, wordsOf } from "./values.js";
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

/** The background as a value of the layer's type (a bigint for 64-bit integers). */
function backgroundValue(vol: ChunkedVolume, mip: number): number | bigint {
  const bg = vol.background(mip);
  return dtypeInfo(vol.dtype).bigint ? BigInt(bg) : Number(bg);
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
      addAll(table, bytesOf(await codec.labels(payload, vol.chunkSpec(chunk, mip, key, pipe.params))), bpv);
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
      const spec = vol.chunkSpec(stored, mip, key, pipe.params);
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
      if (stored && !(await codec.contains(payload, vol.chunkSpec(stored, mip, key, pipe.params), label))) return;
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

export { transferWith, memoryCutout, deleteLayer, setMipLocks } from "./layer-ops.js";
