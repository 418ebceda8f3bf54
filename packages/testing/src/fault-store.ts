import { CloudVolumeError, type GetOptions, type KeyValueStore, type PutOptions, type StoredObject } from "@cloudvolume/core";

/**
 * A fault-injecting KeyValueStore wrapper for tests: what a flaky network or a sick
 * server does to a client, made repeatable. Wrap any store; each call draws its fault
 * from a seeded generator (or from `plan`), so a failing run replays exactly.
 *
 * Faults, as a client sees them:
 * - `unavailable`: the call fails with a retryable UNAVAILABLE, like a 503 or a reset
 *   connection. For writes, `unavailableAfterWrite` makes half of them happen after the
 *   inner write completed (the response was lost), the case that makes retried writes
 *   idempotent or not.
 * - `hang`: the call never answers: it rejects with ABORTED when the caller's signal
 *   aborts, or with UNAVAILABLE after `hangMs` (a client-side timeout), whichever first.
 * - `truncate`: a read returns only a prefix of the stored bytes (a body cut short that
 *   the HTTP layer did not notice): at least one byte and at least one byte short, so
 *   only reads of 2 bytes or more are cut. (Zero bytes would be indistinguishable from
 *   an empty object, which formats rightly read as absent: not a fault a reader can see.)
 * - `delay`: the call succeeds after `delayMs`.
 */

export type FaultKind = "unavailable" | "hang" | "truncate" | "delay";
export type FaultOp = "get" | "getObject" | "put" | "delete" | "exists" | "list";

export interface FaultCall {
  op: FaultOp;
  key: string;
  /** 0-based index of this call among all calls to the wrapper. */
  index: number;
  /** 0-based index of this call among calls of the same op and key (attempt number under retries). */
  attempt: number;
}

export interface FaultStoreOptions {
  /** Seed of the generator; the same seed and call order give the same faults. Default 1. */
  seed?: number;
  /** Probability of each fault per call (checked in this order; the rest run normally). */
  rates?: Partial<Record<FaultKind, number>>;
  /** Ops that may fail; default every op. */
  ops?: readonly FaultOp[];
  /** Decide a call's fault yourself (wins over `rates`; return undefined for none, null to force none). */
  plan?: (call: FaultCall) => FaultKind | null | undefined;
  /** Delay of a `delay` fault, ms; a [min, max] pair draws uniformly. Default 20. */
  delayMs?: number | readonly [number, number];
  /** A `hang` without a caller's signal fails with UNAVAILABLE after this long, ms. Default 1000. */
  hangMs?: number;
  /** Fraction of the bytes a `truncate` keeps, in [0, 1): default a random cut. */
  truncateTo?: number;
  /** For put/delete `unavailable` faults, the probability that the inner write happened first. Default 0.5. */
  unavailableAfterWrite?: number;
}

export interface FaultCounts {
  /** Calls per op. */
  readonly calls: Record<FaultOp, number>;
  /** Faults injected per kind. */
  readonly faults: Record<FaultKind, number>;
  /** Every call with the fault it got (undefined: none), in call order. */
  readonly log: ReadonlyArray<FaultCall & { fault?: FaultKind }>;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; enough for reproducible fault draws. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: readonly FaultKind[] = ["unavailable", "hang", "truncate", "delay"];

export class FaultStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities: KeyValueStore["capabilities"];
  readonly inner: KeyValueStore;
  private readonly opts: FaultStoreOptions;
  private readonly random: () => number;
  private readonly attempts = new Map<string, number>();
  private readonly counts = {
    calls: { get: 0, getObject: 0, put: 0, delete: 0, exists: 0, list: 0 } as Record<FaultOp, number>,
    faults: { unavailable: 0, hang: 0, truncate: 0, delay: 0 } as Record<FaultKind, number>,
    log: [] as Array<FaultCall & { fault?: FaultKind }>,
  };
  private index = 0;
  /** Stop injecting (e.g. to verify what was written): calls pass straight through. */
  enabled = true;

  constructor(inner: KeyValueStore, opts: FaultStoreOptions = {}) {
    this.inner = inner;
    this.opts = opts;
    this.url = inner.url;
    this.capabilities = inner.capabilities;
    this.random = rng(opts.seed ?? 1);
    // Only offer the optional methods the inner store has: the conformance suite and
    // the format layer feature-test them.
    if (!inner.getObject) (this as { getObject?: unknown }).getObject = undefined;
    if (!inner.put) (this as { put?: unknown }).put = undefined;
    if (!inner.delete) (this as { delete?: unknown }).delete = undefined;
    if (!inner.exists) (this as { exists?: unknown }).exists = undefined;
    if (!inner.list) (this as { list?: unknown }).list = undefined;
  }

  get stats(): FaultCounts {
    return this.counts;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    const fault = await this.before("get", key, opts.signal);
    const data = await this.inner.get(key, opts);
    return fault === "truncate" ? this.truncate(data) : data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    const fault = await this.before("getObject", key, opts.signal);
    const obj = await this.inner.getObject!(key, opts);
    if (fault !== "truncate" || obj === undefined) return obj;
    return { ...obj, data: this.truncate(obj.data)! };
  }

  async put(key: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    await this.write("put", key, () => this.inner.put!(key, data, opts));
  }

  async delete(key: string): Promise<void> {
    await this.write("delete", key, () => this.inner.delete!(key));
  }

  async exists(key: string): Promise<boolean> {
    await this.before("exists", key);
    return this.inner.exists!(key);
  }

  async *list(prefix: string = ""): AsyncGenerator<string> {
    await this.before("list", prefix);
    yield* this.inner.list!(prefix);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** Draw a fault for one call and act out hang / delay / unavailable; returns it (truncate is the caller's). */
  private async before(op: FaultOp, key: string, signal?: AbortSignal): Promise<FaultKind | undefined> {
    const fault = this.draw(op, key);
    if (signal?.aborted) throw aborted(signal);
    switch (fault) {
      case "unavailable":
        throw new CloudVolumeError("UNAVAILABLE", `injected fault: 503 Service Unavailable for ${op} of ${JSON.stringify(key)}`, { key, url: this.url });
      case "hang":
        await this.hang(op, key, signal);
        break;
      case "delay":
        await sleep(this.delay(), signal);
        break;
    }
    return fault;
  }

  private async write(op: "put" | "delete", key: string, run: () => Promise<void>): Promise<void> {
    const fault = this.draw(op, key);
    if (fault === "unavailable") {
      // The write may have landed before the "503": a retry must then be harmless.
      if (this.random() < (this.opts.unavailableAfterWrite ?? 0.5)) await run();
      throw new CloudVolumeError("UNAVAILABLE", `injected fault: 503 Service Unavailable for ${op} of ${JSON.stringify(key)}`, { key, url: this.url });
    }
    if (fault === "hang") await this.hang(op, key);
    if (fault === "delay") await sleep(this.delay());
    await run();
  }

  private draw(op: FaultOp, key: string): FaultKind | undefined {
    const id = `${op}\n${key}`;
    const attempt = this.attempts.get(id) ?? 0;
    this.attempts.set(id, attempt + 1);
    const call: FaultCall = { op, key, index: this.index++, attempt };
    this.counts.calls[op]++;
    // Draw even when disabled or planned, so enabling/planning does not shift later draws.
    const r = this.random();
    let fault: FaultKind | undefined;
    if (this.enabled && (this.opts.ops === undefined || this.opts.ops.includes(op))) {
      const planned = this.opts.plan?.(call);
      if (planned !== undefined) fault = planned ?? undefined;
      else {
        let acc = 0;
        for (const kind of KINDS) {
          acc += this.opts.rates?.[kind] ?? 0;
          if (r < acc) {
            fault = kind;
            break;
          }
        }
      }
    }
    if (fault === "truncate" && op !== "get" && op !== "getObject") fault = undefined;
    if (fault) this.counts.faults[fault]++;
    this.counts.log.push({ ...call, fault });
    return fault;
  }

  private truncate(data: Uint8Array | undefined): Uint8Array | undefined {
    if (data === undefined || data.byteLength < 2) return data;
    const frac = this.opts.truncateTo ?? this.random();
    // At least one byte short, so a truncation is always a real one; at least one byte
    // kept, so it is not an empty object (see the class comment).
    const keep = Math.max(1, Math.min(data.byteLength - 1, Math.floor(data.byteLength * frac)));
    return data.slice(0, keep);
  }

  private delay(): number {
    const d = this.opts.delayMs ?? 20;
    return typeof d === "number" ? d : d[0] + this.random() * (d[1] - d[0]);
  }

  private hang(op: FaultOp, key: string, signal?: AbortSignal): Promise<never> {
    const ms = this.opts.hangMs ?? 1000;
    return new Promise<never>((_, reject) => {
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        reject(new CloudVolumeError("UNAVAILABLE", `injected fault: ${op} of ${JSON.stringify(key)} timed out after ${ms} ms`, { key, url: this.url }));
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(aborted(signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

function aborted(signal?: AbortSignal): CloudVolumeError {
  return new CloudVolumeError("ABORTED", "operation aborted", { cause: signal?.reason });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(aborted(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Wrap `inner` so its calls fail, hang, truncate or slow down as `opts` says. */
export function faultStore(inner: KeyValueStore, opts: FaultStoreOptions = {}): FaultStore {
  return new FaultStore(inner, opts);
}
