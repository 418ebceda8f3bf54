/**
 * A pool of worker_threads that paint cutouts into shared memory (Node only; the
 * format layer sees it as a ChunkPainter). Started lazily, one per Context, reused by
 * every volume opened from it; a volume that used it holds a reference and its close()
 * lets go, and the last one out terminates the threads, as Context.close() does.
 *
 * Threads stay unref'd while idle, so a program that forgets close() still exits, and
 * are ref'd while they hold a job, so a program awaiting a cutout does not exit early.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { CloudVolumeError, abortError, type ContextResource } from "@cloudvolume/core";
import type { ChunkPainter, PaintJob, PaintOptions, TransferStats } from "@cloudvolume/chunks";
import { PROTOCOL_VERSION, type FromWorker, type Job, type ToWorker, type TransferJob, type UploadJob, type WireError } from "./worker-protocol.js";

interface Pending {
  id: number;
  work: Job;
  opts: PaintOptions;
  resolve: (stats?: TransferStats) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
}

/**
 * Jobs a worker holds at once. Two: while it decodes one job's chunks, the next job's
 * reads are already under way in it, instead of starting only after a round trip to
 * this thread (measured: keeps a 2-core machine's workers busy instead of ~75% busy).
 */
const JOBS_PER_WORKER = 2;

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
  /** Set once 'exit' fired: the slot is gone. */
  dead: boolean;
}

let liveThreads = 0;

/** Worker threads started by any pool in this process that have not exited yet (for tests and diagnostics). */
export function liveWorkerThreads(): number {
  return liveThreads;
}

/** The number of threads `parallel: true` means: the cores this process may use. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The worker's entry file. In the built package it sits beside this module (dist/);
 * when this module runs from source (the tests), the built one in ../dist is used.
 */
function workerEntry(): URL {
  const candidates = [new URL("./worker.js", import.meta.url), new URL("../dist/worker.js", import.meta.url)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new CloudVolumeError(
    "UNAVAILABLE",
    `parallel reads need the built worker entry (looked for ${candidates.map((c) => c.pathname).join(" and ")}); build the cloudvolume package (pnpm build) or pass parallel: 1`,
  );
}

export interface WorkerPoolOptions {
  /** Threads to start at most (they start as jobs arrive). */
  threads: number;
  /** Which formats on which storage protocols the workers can open (see ChunkPainter.supports). */
  supports: (protocol: string, format: string) => boolean;
  /** Plugin modules (PluginDescriptor.module) each thread imports, in order, ahead of the default plugins. */
  modules?: readonly string[];
}

export class WorkerPool implements ChunkPainter, ContextResource {
  private size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly users = new Set<object>();
  private nextId = 1;
  private readonly canOpen: (protocol: string, format: string) => boolean;
  private readonly modules: readonly string[];

  constructor(opts: WorkerPoolOptions) {
    this.size = checkThreads(opts.threads);
    this.canOpen = opts.supports;
    this.modules = [...(opts.modules ?? [])];
  }

  get threads(): number {
    return this.size;
  }

  /** Threads running now (started and not exited). */
  get running(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  supports(protocol: string, format: string): boolean {
    return this.canOpen(protocol, format);
  }

  /** Allow at least `threads` threads (a volume asking for more than the pool has). */
  grow(threads: number): void {
    this.size = Math.max(this.size, checkThreads(threads));
  }

  /** Note that `user` (a volume) uses the pool; release() it when done. */
  retain(user: object): void {
    this.users.add(user);
  }

  /** `user` is done with the pool; when no user is left, the threads are terminated. */
  async release(user: object): Promise<void> {
    if (!this.users.delete(user) || this.users.size > 0) return;
    await this.close();
  }

  paint(job: PaintJob, opts: PaintOptions = {}): Promise<void> {
    return this.run({ kind: "paint", job }, opts).then(() => undefined);
  }

  /** Write blocks of a shared source array (see parallel-write.ts). */
  upload(job: UploadJob, opts: PaintOptions = {}): Promise<void> {
    return this.run({ kind: "upload", job }, opts).then(() => undefined);
  }

  /** Transfer blocks of one mip between two layers; resolves with the job's counts. */
  async transfer(job: TransferJob, opts: PaintOptions = {}): Promise<TransferStats> {
    return (await this.run({ kind: "transfer", job }, opts)) ?? { chunks: 0, copied: 0, recoded: 0 };
  }

  private run(work: Job, opts: PaintOptions): Promise<TransferStats | undefined> {
    return new Promise<TransferStats | undefined>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(abortError(opts.signal));
      const p: Pending = { id: this.nextId++, work, opts, resolve, reject };
      if (opts.signal) {
        p.onAbort = () => this.abort(p);
        opts.signal.addEventListener("abort", p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  /** Terminate every thread; queued and running jobs fail with UNAVAILABLE. The pool can be used again (threads restart). */
  async close(): Promise<void> {
    const gone = new CloudVolumeError("UNAVAILABLE", "the worker pool was closed");
    for (const p of this.queue.splice(0)) this.settle(p, gone);
    const slots = this.slots.splice(0);
    for (const s of slots) this.failAll(s, gone);
    await Promise.all(slots.map((s) => (s.dead ? undefined : s.worker.terminate())));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      // The least busy live thread with room; a new thread before doubling up on one.
      let slot: Slot | undefined = this.slots.filter((s) => !s.dead && s.jobs.size < JOBS_PER_WORKER).sort((a, b) => a.jobs.size - b.jobs.size)[0];
      if (slot && slot.jobs.size > 0 && this.slots.length < this.size) slot = undefined;
      if (!slot) {
        if (this.slots.length >= this.size) return;
        try {
          slot = this.spawn();
        } catch (e) {
          for (const p of this.queue.splice(0)) this.settle(p, e);
          return;
        }
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerEntry(), { workerData: { modules: this.modules } });
    liveThreads++;
    const slot: Slot = { worker, jobs: new Map(), dead: false };
    worker.on("message", (m: FromWorker) => this.onMessage(slot, m));
    worker.on("error", (e) => {
      // An uncaught exception ended the thread (e.g. its entry failed to load); 'exit' follows.
      this.failAll(slot, new CloudVolumeError("UNAVAILABLE", `worker thread failed: ${e?.message ?? e}`, { cause: e }));
    });
    worker.on("exit", () => {
      liveThreads--;
      slot.dead = true;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.failAll(slot, new CloudVolumeError("UNAVAILABLE", "worker thread exited while working"));
      this.pump(); // queued jobs go to a new thread
    });
    this.slots.push(slot);
    return slot;
  }

  private assign(slot: Slot, p: Pending): void {
    slot.jobs.set(p.id, p);
    slot.worker.ref();
    const m: ToWorker = { type: "run", id: p.id, version: PROTOCOL_VERSION, work: p.work, progress: p.opts.onChunk !== undefined };
    slot.worker.postMessage(m);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const p = slot.jobs.get(m.id);
    if (!p) return; // a late message for a job already settled (closed)
    if (m.type === "progress") {
      for (let i = 0; i < m.chunks; i++) p.opts.onChunk?.();
      return;
    }
    slot.jobs.delete(m.id);
    if (slot.jobs.size === 0) slot.worker.unref();
    this.settle(p, m.error && fromWire(m.error), m.stats);
    this.pump();
  }

  private abort(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(p, abortError(p.opts.signal));
      return;
    }
    const slot = this.slots.find((s) => s.jobs.has(p.id));
    // The worker stops between chunks and answers "done" with ABORTED, which frees the slot.
    if (slot) slot.worker.postMessage({ type: "abort", id: p.id } satisfies ToWorker);
  }

  private failAll(slot: Slot, error: unknown): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    for (const p of jobs) this.settle(p, error);
  }

  private settle(p: Pending, error?: unknown, stats?: TransferStats): void {
    if (p.onAbort) p.opts.signal?.removeEventListener("abort", p.onAbort);
    p.onAbort = undefined;
    if (error === undefined) p.resolve(stats);
    else p.reject(error);
  }
}

function checkThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new CloudVolumeError("INVALID_ARGUMENT", `parallel must be true or an integer >= 1, got ${n}`);
  return n;
}

function fromWire(w: WireError): Error {
  if (w.cloudvolume) {
    return new CloudVolumeError((w.code ?? "IO_ERROR") as CloudVolumeError["code"], w.message, { key: w.key, url: w.url, mip: w.mip, bbox: w.bbox });
  }
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}
