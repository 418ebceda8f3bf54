import {
  Bbox, bytesOf, chunksInRegion, dtypeInfo, mapConcurrent, type BboxLike, type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import { splitJobs, workerUrl, type ChunkedVolume, type IoOptions, type TransferStats } from "@cloudvolume/chunks";
import type { WorkerPool } from "./worker-pool.js";
import type { LayerRef } from "./worker-protocol.js";

/*
 * Uploads and transfers on worker threads (Node only). The unit of work is a block of
 * the destination's grid: whole chunks (or whole shards on a sharded scale), so no two
 * threads ever write the same object. Each worker runs the ordinary upload / transferTo
 * on its blocks; the upload source is shared (a SharedArrayBuffer), never posted.
 *
 * Whatever the workers cannot do exactly as this thread would (a box off the grid,
 * options only this thread has, an in-memory LRU that must see every write) returns
 * undefined, and the caller runs the one-thread path, which also reports any error
 * (bounds, alignment, read-only) with the box the user gave.
 */

/** The options a worker opens a layer with: what a structured clone carries, minus per-thread state. */
export function layerRef(vol: ChunkedVolume): LayerRef {
  const { info: _i, signal: _s, lruBytes: _l, cacheFactory: _f, ...rest } = vol.options as ChunkedVolume["options"] & { provenance?: unknown };
  delete rest.provenance;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v === null || ["string", "number", "boolean", "bigint"].includes(typeof v)) options[k] = v;
  return { url: workerUrl(vol), info: JSON.stringify(vol.info), options };
}

/** The grid a write at `mip` is cut on: whole shards of a spatially sharded scale, else chunks. Undefined for hashed shards. */
function writeGrid(vol: ChunkedVolume, mip: number): Vec3 | undefined {
  if (!vol.isSharded(mip)) return vol.chunkSize(mip);
  return vol.shards(mip).brick; // shards that are no boxes of the grid stay on this thread

}

function usable(pool: WorkerPool, vol: ChunkedVolume): boolean {
  return pool.supports(vol.parsed.protocol, vol.format) && !vol.lru?.enabled;
}

/** Upload `data` to `bbox` on the pool's threads; undefined when this write should run on this thread. */
export async function uploadInParallel(
  pool: WorkerPool, threads: number, vol: ChunkedVolume, bboxLike: BboxLike, data: VolumeArray | TypedArray, io: IoOptions,
): Promise<true | undefined> {
  const mip = vol.mipIndex(io.mip);
  const bbox = Bbox.from(bboxLike);
  const bounds = vol.bounds(mip);
  const grid = writeGrid(vol, mip);
  if (!grid || !usable(pool, vol) || vol.readOnly || vol.scale(mip).locked || !bounds.containsBbox(bbox)) return undefined;
  const offset = vol.voxelOffset(mip);
  if (!bbox.isAlignedTo(grid, offset, bounds) && (vol.isSharded(mip) || !vol.options.nonAlignedWrites)) return undefined;
  const arr: TypedArray = ArrayBuffer.isView(data) ? (data as TypedArray) : (data as VolumeArray)?.data;
  const size = bbox.size();
  const channels = vol.numChannels;
  const n = size[0] * size[1] * size[2] * channels;
  if (!arr || !(arr instanceof dtypeInfo(vol.dtype).ctor) || arr.length !== n) return undefined;
  const blocks = [...chunksInRegion(bbox, grid, offset, bounds)].map((c) => c.intersection(bbox));
  if (blocks.length < 2) return undefined;
  // Share the source: as it is when it already lives in shared memory, else copied there once.
  let src = bytesOf(arr);
  if (!(src.buffer instanceof SharedArrayBuffer)) {
    const shared = new Uint8Array(new SharedArrayBuffer(src.byteLength));
    shared.set(src);
    src = shared;
  }
  const base = {
    ...layerRef(vol), mip, src: src.buffer as SharedArrayBuffer, srcByteOffset: src.byteOffset,
    srcShape: [size[0], size[1], size[2], channels] as [number, number, number, number], srcBbox: [...bbox.min, ...bbox.max],
    fillMissing: io.fillMissing,
  };
  await mapConcurrent(splitJobs([blocks], threads), threads * 2, (b) => pool.upload({ ...base, blocks: b }, { signal: io.signal, onChunk: io.onChunk }), io.signal);
  return true;
}

export interface ParallelTransferOptions {
  mip: number;
  bbox?: BboxLike;
  signal?: AbortSignal;
  onChunk?: () => void;
}

/** transferTo on the pool's threads, block by block of the destination's grid; undefined when it should run on this thread. */
export async function transferInParallel(
  pool: WorkerPool, threads: number, src: ChunkedVolume, dst: ChunkedVolume, opts: ParallelTransferOptions,
): Promise<TransferStats | undefined> {
  const mip = opts.mip;
  if (!usable(pool, src) || !usable(pool, dst) || dst.readOnly || dst.info.scales.length <= mip || dst.info.scales[mip].locked) return undefined;
  const grid = writeGrid(dst, mip);
  if (!grid) return undefined;
  const bounds = src.bounds(mip);
  const region = (opts.bbox ? Bbox.from(opts.bbox).clamp(bounds) : bounds).clamp(dst.bounds(mip));
  if (region.isEmpty() || !region.isAlignedTo(grid, dst.voxelOffset(mip), dst.bounds(mip))) return undefined;
  // A source chunk must not straddle two blocks either (it would be read twice, written by one).
  if (!region.isAlignedTo(src.chunkSize(mip), src.voxelOffset(mip), bounds)) return undefined;
  const blocks = [...chunksInRegion(region, grid, dst.voxelOffset(mip), dst.bounds(mip))].map((c) => c.intersection(region));
  if (blocks.length < 2 || !blocks.every((b) => b.isAlignedTo(src.chunkSize(mip), src.voxelOffset(mip), bounds))) return undefined;
  const base = { src: layerRef(src), dst: layerRef(dst), mip };
  const parts = await mapConcurrent(splitJobs([blocks], threads), threads * 2, (b) => pool.transfer({ ...base, blocks: b }, { signal: opts.signal, onChunk: opts.onChunk }), opts.signal);
  const stats: TransferStats = { chunks: 0, copied: 0, recoded: 0 };
  for (const s of parts) {
    stats.chunks += s.chunks;
    stats.copied += s.copied;
    stats.recoded += s.recoded;
  }
  return stats;
}
