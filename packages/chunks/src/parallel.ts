import type { Bbox, DataType } from "@cloudvolume/core";

/*
 * Reading a cutout on several threads. The chunk engine only defines the contract and
 * splits the work; the threads come from outside (the `cloudvolume` package's Node
 * entry runs a worker_threads pool), so this package stays free of Node built-ins and
 * bundles for a browser, where a Web Worker pool could implement the same interface.
 *
 * The split: the caller allocates the output on a SharedArrayBuffer; each job names a
 * group of chunks; a worker fetches, inflates, decodes and paints those chunks straight
 * into the shared output. Only the job description (a few hundred bytes) crosses
 * threads, never voxel data, and the coordinating thread does no per-voxel work.
 */

/** One unit of work: paint `chunks` of `mip` into the shared output covering `bbox`. */
export interface PaintJob {
  /** The layer as the worker opens it: its cloudpath (format://protocol://path), its info (JSON text) and the read options. */
  url: string;
  info: string;
  /** Structured-cloneable volume options (fillMissing, backgroundColor, cache settings, ...). */
  options: Record<string, unknown>;
  mip: number;
  dtype: DataType;
  /** The output: a SharedArrayBuffer holding [x, y, z, channel] voxels in Fortran order. */
  out: SharedArrayBuffer;
  outByteOffset: number;
  shape: [number, number, number, number];
  /** The box the output covers, [x0, y0, z0, x1, y1, z1]. */
  bbox: number[];
  /** The chunks to paint, six numbers each ([x0, y0, z0, x1, y1, z1], truncated at the bounds). */
  chunks: Float64Array;
  fillMissing: boolean;
}

export interface PaintOptions {
  signal?: AbortSignal;
  /** Called once per chunk painted (or found missing and left as background). */
  onChunk?: () => void;
}

/** Threads that run PaintJobs. */
export interface ChunkPainter {
  /** Threads it runs jobs on. */
  readonly threads: number;
  /**
   * Whether its threads can open a layer of this format on this storage protocol
   * themselves (a mem:// store lives in one thread; a plugin only the caller's Context
   * has is not theirs).
   */
  supports(protocol: string, format: string): boolean;
  /** Run one job; resolves when every chunk of it is painted. */
  paint(job: PaintJob, opts?: PaintOptions): Promise<void>;
}

/**
 * Jobs per thread a cutout is split into: several, so a thread that finishes early
 * takes more work instead of idling while another finishes a big share, but few enough
 * that the per-job message costs nothing next to decoding (a job is at least a chunk).
 */
const JOBS_PER_THREAD = 4;
/** At most this many chunks per job, so progress stays fine-grained on huge cutouts. */
const MAX_CHUNKS_PER_JOB = 32;

/**
 * Split chunks into jobs for `threads` threads. `groups` are chunks that belong
 * together (one shard file each, so a worker reads a shard's index once); a job never
 * mixes groups. Chunks keep their order: neighbours in x go to the same job.
 */
export function splitJobs(groups: readonly (readonly Bbox[])[], threads: number): Float64Array[] {
  const total = groups.reduce((s, g) => s + g.length, 0);
  const per = Math.max(1, Math.min(MAX_CHUNKS_PER_JOB, Math.ceil(total / (Math.max(1, threads) * JOBS_PER_THREAD))));
  const jobs: Float64Array[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.length; i += per) {
      const part = g.slice(i, i + per);
      const a = new Float64Array(part.length * 6);
      part.forEach((c, j) => a.set([...c.min, ...c.max], j * 6));
      jobs.push(a);
    }
  }
  return jobs;
}
