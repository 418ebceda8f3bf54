import type { PaintJob, TransferStats } from "@cloudvolume/chunks";

/*
 * Messages between the worker pool (worker-pool.ts, main thread) and its workers
 * (worker.ts). Voxels never travel in them: cutouts and upload sources are
 * SharedArrayBuffers that both sides hold, so a job is a few hundred bytes however
 * large the data.
 */

/** Bumped whenever a message changes shape; a worker built from other sources refuses jobs. */
export const PROTOCOL_VERSION = 2;

/** A layer as a worker opens it: storage URL, info (JSON text), structured-cloneable options. */
export interface LayerRef {
  url: string;
  info: string;
  options: Record<string, unknown>;
}

/** Write the blocks (sub-boxes of the source, [x0, y0, z0, x1, y1, z1] each) of a shared source array. */
export interface UploadJob extends LayerRef {
  mip: number;
  /** The source: voxels of `srcBbox` in Fortran order ([x, y, z, channel]). */
  src: SharedArrayBuffer;
  srcByteOffset: number;
  srcShape: [number, number, number, number];
  srcBbox: number[];
  blocks: Float64Array;
  /** The call's fillMissing (partial chunks of an unaligned write whose stored chunk is missing). */
  fillMissing?: boolean;
}

/** Copy the blocks of one mip from a layer to another (transferTo with `bbox` = each block). */
export interface TransferJob {
  src: LayerRef;
  dst: LayerRef;
  mip: number;
  blocks: Float64Array;
}

export type Job =
  | { kind: "paint"; job: PaintJob }
  | { kind: "upload"; job: UploadJob }
  | { kind: "transfer"; job: TransferJob };

export type ToWorker =
  | { type: "run"; id: number; version: number; work: Job; progress: boolean }
  | { type: "abort"; id: number };

/** An error as it crosses threads: CloudVolumeErrors keep their code and context fields. */
export interface WireError {
  cloudvolume: boolean;
  name: string;
  message: string;
  code?: string;
  key?: string;
  url?: string;
  mip?: number;
  bbox?: string;
}

export type FromWorker =
  | { type: "progress"; id: number; chunks: number }
  | { type: "done"; id: number; error?: WireError; stats?: TransferStats };
