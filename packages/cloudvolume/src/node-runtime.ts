import type { Context, Plugin } from "@cloudvolume/core";
import type { ChunkPainter } from "@cloudvolume/chunks";
import type { ParallelRuntime } from "./parallel.js";
import { progressBar } from "./progress-bar.js";
import { WorkerPool, defaultThreads } from "./worker-pool.js";
import { transferInParallel, uploadInParallel } from "./parallel-write.js";

const POOL = "cloudvolume:worker-pool";

/**
 * Node's ParallelRuntime: one WorkerPool per Context (a Context resource, so
 * Context.close() stops it too) and progress bars on stderr.
 */
export function nodeRuntime(defaults: () => Plugin[]): ParallelRuntime {
  const poolOf = (ctx: Context, user: object, threads: number): WorkerPool => {
    const pool = ctx.resource(POOL, () => new WorkerPool({
      threads, supports: (protocol, format) => workersCanRead(ctx, defaults(), protocol, format), modules: extraModules(ctx, defaults()),
    }));
    pool.grow(threads);
    pool.retain(user);
    return pool;
  };
  return {
    cores: defaultThreads,
    painter: (ctx, user, threads) => capped(poolOf(ctx, user, threads), threads),
    upload: (ctx, user, threads, vol, bbox, data, io) => uploadInParallel(poolOf(ctx, user, threads), threads, vol, bbox, data, io),
    transfer: (ctx, user, threads, src, dst, opts) => transferInParallel(poolOf(ctx, user, threads), threads, src, dst, opts),
    async release(ctx: Context, user: object): Promise<void> {
      // Only a pool that exists: closing a volume that never read in parallel starts nothing.
      await ctx.resource<WorkerPool>(POOL)?.release(user);
    },
    bar: (label) => progressBar(label, process.stderr),
  };
}

/**
 * Workers build their Context from the default plugins and the modules of the extra ones
 * (PluginDescriptor.module), so they read a layer the way this thread would only when
 * every other plugin of this Context came with a module (the CLI's --plugin ones do; a
 * plugin object made in code without one keeps its reads on this thread), and never
 * mem://, whose objects live in this thread.
 */
function workersCanRead(ctx: Context, defaults: readonly Plugin[], protocol: string, format: string): boolean {
  if (protocol === "mem") return false;
  const known = new Set(defaults);
  if (!ctx.plugins.every((p) => known.has(p) || typeof p.module === "string")) return false;
  return ctx.plugins.some((p) => p.kind === "storage" && p.protocols.includes(protocol)) &&
    ctx.plugins.some((p) => p.kind === "format" && p.names.includes(format));
}

/** The modules of this Context's plugins beyond the defaults, once each, in order. */
function extraModules(ctx: Context, defaults: readonly Plugin[]): string[] {
  const known = new Set(defaults);
  const out: string[] = [];
  for (const p of ctx.plugins) if (!known.has(p) && p.module && !out.includes(p.module)) out.push(p.module);
  return out;
}

/** The pool seen by one volume asking for `threads`: jobs are split for that many threads. */
function capped(pool: WorkerPool, threads: number): ChunkPainter {
  return { threads, supports: (p, f) => pool.supports(p, f), paint: (job, opts) => pool.paint(job, opts) };
}
