import { CloudVolumeError } from "./errors.js";

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new CloudVolumeError("INVALID_ARGUMENT", `concurrency limit must be >= 1, got ${limit}`);
  }

  get pending(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.limit || this.waiting.length > 0) {
      // When woken, the releasing task has handed its slot over (`active` already counts us).
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(abortError(signal));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(go);
      });
    } else {
      if (signal?.aborted) throw abortError(signal);
      this.active++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter instead of freeing it: freeing it
      // would let a caller arriving before the waiter resumes take it too (more than
      // `limit` running, and out of FIFO order).
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export function abortError(signal?: AbortSignal): CloudVolumeError {
  return new CloudVolumeError("ABORTED", "operation aborted", { cause: signal?.reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * NaN would otherwise become zero workers (Math.max(1, NaN) is NaN) and silently do
 * nothing; Infinity is only usable when the item count caps it.
 */
function checkConcurrency(concurrency: number, allowInfinity: boolean): void {
  if (typeof concurrency !== "number" || Number.isNaN(concurrency) || (!allowInfinity && !Number.isFinite(concurrency))) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `concurrency must be a ${allowInfinity ? "" : "finite "}number, got ${concurrency}`);
  }
}

/**
 * Run `fn` over `items` with at most `concurrency` in flight; results keep input order.
 * Stops launching new work after the first failure and rethrows it.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  checkConcurrency(concurrency, true);
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  let hasFailed = false;
  const worker = async () => {
    while (!hasFailed && next < items.length) {
      throwIfAborted(signal);
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        if (!hasFailed) { hasFailed = true; failed = e; }
      }
    }
  };
  const n = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (hasFailed) throw failed;
  return out;
}

/**
 * Like mapConcurrent but pulls items lazily from an iterable and keeps no results,
 * so walking millions of chunks never materialises the whole list.
 */
export async function forEachConcurrent<T>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  checkConcurrency(concurrency, false);
  const it = items[Symbol.iterator]();
  let failed = false;
  let error: unknown;
  const worker = async () => {
    while (!failed) {
      throwIfAborted(signal);
      const next = it.next();
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (e) {
        if (!failed) { failed = true; error = e; }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failed) throw error;
}
