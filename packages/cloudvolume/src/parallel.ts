import { Bbox, CloudVolumeError, type BboxLike, type Context, type Vec3 } from "@cloudvolume/core";
import type { ChunkPainter, ChunkedVolume, IoOptions, TransferStats } from "@cloudvolume/chunks";
import type { TypedArray, VolumeArray } from "@cloudvolume/core";

/*
 * `parallel` and `progress` for the CloudVolume facade. Nothing here touches Node: the
 * threads and the terminal come from a ParallelRuntime that the Node entry supplies
 * (node-runtime.ts); without one (the browser entry) reads run on the calling thread
 * and `progress: true` has nowhere to draw.
 */

export interface ProgressInfo {
  /** Chunks done so far. */
  done: number;
  /** Chunks in the whole operation. */
  total: number;
}

/** `true` draws a bar on stderr (Node); a function is called as chunks finish. */
export type Progress = boolean | ((p: ProgressInfo) => void);

export interface ParallelOptions {
  /**
   * Threads that read (download) chunks: `true` = one per core, `1` = this thread
   * (the default). Worker threads paint the cutout straight into shared memory, so the
   * result is then on a SharedArrayBuffer. Layers on mem:// (which lives in one thread),
   * on storage or codec plugins the workers do not have (workers use the default
   * plugin set), or with an in-memory LRU are read on this thread.
   */
  parallel?: number | boolean;
  /** Report progress by chunks: a callback, or `true` for a bar on stderr (default false). */
  progress?: Progress;
}

/** What an entry point supplies for parallel reads and progress bars. */
export interface ParallelRuntime {
  /** Threads `parallel: true` means. */
  cores(): number;
  /** The painter shared by volumes of `ctx`, sized for at least `threads`, noting `user` as a user. */
  painter(ctx: Context, user: object, threads: number): ChunkPainter;
  /** `user` is closed: the painter of `ctx` may stop its threads if nobody else uses it. */
  release(ctx: Context, user: object): Promise<void>;
  /** A progress bar drawing to the terminal, labelled `label`. */
  bar(label: string): (p: ProgressInfo) => void;
  /** Upload on `threads` threads; undefined when this write must run on the calling thread. */
  upload(ctx: Context, user: object, threads: number, vol: ChunkedVolume, bbox: BboxLike, data: VolumeArray | TypedArray, io: IoOptions): Promise<true | undefined>;
  /** transferTo on `threads` threads; undefined when it must run on the calling thread. */
  transfer(ctx: Context, user: object, threads: number, src: ChunkedVolume, dst: ChunkedVolume, opts: { mip: number; bbox?: BboxLike; signal?: AbortSignal; onChunk?: () => void }): Promise<TransferStats | undefined>;
}

/** Threads for a `parallel` value (1 = this thread). */
export function threadsFor(parallel: number | boolean | undefined, runtime: ParallelRuntime | undefined): number {
  if (parallel === undefined || parallel === false) return 1;
  if (parallel === true) return runtime ? runtime.cores() : 1;
  if (typeof parallel !== "number" || !Number.isInteger(parallel) || parallel < 1) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `parallel must be true, false or an integer >= 1, got ${JSON.stringify(parallel)}`);
  }
  return parallel;
}

/**
 * A chunk counter for one operation: returns the onChunk hook to hand the format
 * layer (undefined when progress is off) and finish(), which reports the end even when
 * fewer chunks were counted than expected (missing chunks of a cp, a grid change).
 */
export function progressFor(progress: Progress | undefined, total: number, label: string, runtime: ParallelRuntime | undefined): { onChunk?: () => void; finish(): void } {
  if (progress === undefined || progress === false) return { finish() {} };
  if (progress !== true && typeof progress !== "function") {
    throw new CloudVolumeError("INVALID_ARGUMENT", `progress must be true, false or a function, got ${JSON.stringify(progress)}`);
  }
  const report = progress === true ? runtime?.bar(label) : progress;
  if (!report) return { finish() {} };
  let done = 0;
  let ended = false;
  report({ done: 0, total });
  return {
    onChunk() {
      if (ended) return;
      done = Math.min(total, done + 1);
      report({ done, total });
    },
    finish() {
      if (ended) return;
      ended = true;
      if (done < total) report({ done: total, total });
    },
  };
}

/** Chunks of the grid (`chunkSize` from `offset`) that overlap `region` inside `bounds`. */
export function countChunks(region: Bbox, chunkSize: Vec3, offset: Vec3, bounds: Bbox): number {
  const r = region.clamp(bounds);
  if (r.isEmpty()) return 0;
  let n = 1;
  for (let d = 0; d < 3; d++) {
    const lo = Math.floor((r.min[d] - offset[d]) / chunkSize[d]);
    const hi = Math.ceil((r.max[d] - offset[d]) / chunkSize[d]);
    n *= hi - lo;
  }
  return n;
}

/** Chunks a download or upload of `bbox` at `mip` visits. */
export function chunksOf(vol: ChunkedVolume, bbox: BboxLike, mip: number): number {
  return countChunks(Bbox.from(bbox), vol.chunkSize(mip), vol.voxelOffset(mip), vol.bounds(mip));
}

/**
 * Chunks a transferTo of `bbox` (default: the whole mip) reports: the source's on the
 * same grid, the destination's when the grids differ (its chunks are then the unit).
 */
export function transferChunks(src: ChunkedVolume, dst: ChunkedVolume, bbox: BboxLike | undefined, mip: number): number {
  const region = bbox ? Bbox.from(bbox) : src.bounds(mip);
  if (dst.info.scales.length <= mip) return chunksOf(src, region, mip);
  const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => v === b[i]);
  const sameGrid = same(src.chunkSize(mip), dst.chunkSize(mip)) && same(src.voxelOffset(mip), dst.voxelOffset(mip)) && same(src.scale(mip).size, dst.scale(mip).size);
  if (sameGrid) return chunksOf(src, region, mip);
  return countChunks(region.clamp(src.bounds(mip)), dst.chunkSize(mip), dst.voxelOffset(mip), dst.bounds(mip));
}
