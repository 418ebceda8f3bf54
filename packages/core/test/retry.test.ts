import { afterEach, describe, expect, it, vi } from "vitest";
import { CloudVolumeError } from "../src/errors.js";
import { DEFAULT_RETRY, isRetryable, withRetry } from "../src/retry.js";
import { expectRejectCode, sleep } from "./helpers.js";

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
const unavailable = () => new CloudVolumeError("UNAVAILABLE", "503");

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("isRetryable", () => {
  it("classifies errors", () => {
    expect(isRetryable(unavailable())).toBe(true);
    expect(isRetryable({ retryable: true })).toBe(true);
    expect(isRetryable(Object.assign(new Error("x"), { retryable: true }))).toBe(true);
    expect(isRetryable({ retryable: "yes" })).toBe(false);
    expect(isRetryable(new CloudVolumeError("NOT_FOUND", "x"))).toBe(false);
    expect(isRetryable(new CloudVolumeError("ABORTED", "x"))).toBe(false);
    expect(isRetryable(new Error("x"))).toBe(false);
    expect(isRetryable(null)).toBe(false);
    expect(isRetryable("UNAVAILABLE")).toBe(false);
  });
});

describe("withRetry", () => {
  it("default policy", () => {
    expect(DEFAULT_RETRY).toEqual({ attempts: 4, baseDelayMs: 100, maxDelayMs: 5000 });
  });

  it("retries UNAVAILABLE until success, passing the attempt number", async () => {
    const seen: number[] = [];
    const v = await withRetry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 2) throw unavailable();
      return "ok";
    }, fast);
    expect(v).toBe("ok");
    expect(seen).toEqual([0, 1, 2]);
  });

  it("gives up after `attempts` tries with the last error", async () => {
    let calls = 0;
    const errs: Error[] = [];
    await expect(
      withRetry(async () => {
        calls++;
        const e = unavailable();
        errs.push(e);
        throw e;
      }, { ...fast, attempts: 3 }),
    ).rejects.toSatisfy((e) => e === errs[2]);
    expect(calls).toBe(3);
  });

  it("retries errors marked retryable", async () => {
    let calls = 0;
    expect(await withRetry(async () => { if (calls++ === 0) throw Object.assign(new Error("EPIPE"), { retryable: true }); return 1; }, fast)).toBe(1);
    expect(calls).toBe(2);
  });

  it("does not retry NOT_FOUND or plain errors", async () => {
    let calls = 0;
    await expectRejectCode(withRetry(async () => { calls++; throw new CloudVolumeError("NOT_FOUND", "x"); }, fast), "NOT_FOUND");
    expect(calls).toBe(1);
    calls = 0;
    await expect(withRetry(async () => { calls++; throw new TypeError("bug"); }, fast)).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });

  it("attempts: 1 means no retry", async () => {
    let calls = 0;
    await expectRejectCode(withRetry(async () => { calls++; throw unavailable(); }, { ...fast, attempts: 1 }), "UNAVAILABLE");
    expect(calls).toBe(1);
  });

  it("aborting during the backoff rejects with ABORTED at once", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.99);
    const ac = new AbortController();
    let calls = 0;
    const t0 = Date.now();
    const p = withRetry(async () => { calls++; throw unavailable(); }, { attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 }, ac.signal);
    await sleep(20);
    ac.abort();
    await expectRejectCode(p, "ABORTED");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(calls).toBe(1);
  });

  it("does not start when the signal is already aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expectRejectCode(withRetry(async () => { calls++; return 1; }, fast, ac.signal), "ABORTED");
    expect(calls).toBe(0);
  });

  it("does not retry once aborted during an attempt", async () => {
    const ac = new AbortController();
    let calls = 0;
    await expectRejectCode(withRetry(async () => { calls++; ac.abort(); throw unavailable(); }, fast, ac.signal), "ABORTED");
    expect(calls).toBe(1);
  });

  it("non-retryable errors win over an abort", async () => {
    const ac = new AbortController();
    await expectRejectCode(withRetry(async () => { ac.abort(); throw new CloudVolumeError("NOT_FOUND", "x"); }, fast, ac.signal), "NOT_FOUND");
  });

  it("backs off exponentially up to maxDelayMs (full jitter)", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    let calls = 0;
    const p = withRetry(async () => { calls++; if (calls < 4) throw unavailable(); return "done"; }, { attempts: 4, baseDelayMs: 10, maxDelayMs: 25 });
    // Delays: 0.5*10=5, 0.5*20=10, 0.5*min(25,40)=12.5 -> calls at t=0, 5, 15, 27.5.
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2); // t=6
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(8); // t=14
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2); // t=16
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(10); // t=26
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(3); // t=29
    expect(calls).toBe(4);
    expect(await p).toBe("done");
  });
});
