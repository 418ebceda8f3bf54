import { isCloudVolumeError } from "./errors.js";
import { abortError } from "./limiter.js";

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 5_000 };

/** Transient failures: UNAVAILABLE (429, 5xx, network) and IO errors marked retryable. */
export function isRetryable(err: unknown): boolean {
  if (isCloudVolumeError(err, "UNAVAILABLE")) return true;
  return typeof err === "object" && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/** Exponential backoff with full jitter (delay uniform in [0, min(max, base * 2^n))). */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      // A transient failure we would retry, but the caller gave up: report the abort.
      if (signal?.aborted) throw abortError(signal);
      if (attempt + 1 >= policy.attempts) throw err;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * cap, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(abortError(signal)); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
