import { describe, expect, it } from "vitest";
import { Limiter, abortError, forEachConcurrent, mapConcurrent, throwIfAborted } from "../src/limiter.js";
import { expectCode, expectRejectCode, rng, sleep, tick } from "./helpers.js";

/** A promise with its resolve/reject exposed. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe("Limiter", () => {
  it("rejects limits below 1", () => {
    expectCode(() => new Limiter(0), "INVALID_ARGUMENT");
    expectCode(() => new Limiter(NaN), "INVALID_ARGUMENT");
    expect(new Limiter(1).limit).toBe(1);
  });

  it("never runs more than `limit` tasks at once, and does reach the limit", async () => {
    const r = rng(1);
    const l = new Limiter(3);
    let active = 0, peak = 0, done = 0;
    await Promise.all(
      Array.from({ length: 30 }, () =>
        l.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await sleep(r.int(0, 4));
          active--;
          done++;
        }),
      ),
    );
    expect(done).toBe(30);
    expect(peak).toBe(3);
    expect(l.pending).toBe(0);
  });

  it("starts waiting tasks in FIFO order", async () => {
    const l = new Limiter(1);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => l.run(async () => { order.push(i); await tick(); })));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("hands a freed slot to the next waiter: a newcomer in the same tick neither overtakes it nor exceeds the limit", async () => {
    const l = new Limiter(1);
    let active = 0, peak = 0;
    const order: string[] = [];
    const task = (name: string, gate?: Promise<void>) => async () => {
      order.push(name);
      active++;
      peak = Math.max(peak, active);
      await (gate ?? tick());
      active--;
    };
    const a = deferred();
    // A returns the gate itself, so the limiter's release is the very next microtask after a.resolve().
    const pa = l.run(() => { order.push("A"); active++; peak = Math.max(peak, active); return a.promise; });
    const pb = l.run(task("B"));
    await tick();
    expect(order).toEqual(["A"]);
    let pc: Promise<void> | undefined;
    active--;
    a.resolve();
    // Runs after A's slot is released but before B's continuation would have resumed.
    queueMicrotask(() => { pc = l.run(task("C")); });
    await Promise.all([pa, pb]);
    await pc;
    expect(peak).toBe(1);
    expect(order).toEqual(["A", "B", "C"]);
  });

  it("abort while waiting rejects with ABORTED, skips the task and frees the queue slot", async () => {
    const l = new Limiter(1);
    const gate = deferred();
    const ran: string[] = [];
    const pa = l.run(async () => { ran.push("A"); await gate.promise; });
    const ac = new AbortController();
    const pb = l.run(async () => { ran.push("B"); }, ac.signal);
    const pc = l.run(async () => { ran.push("C"); return "c"; });
    expect(l.pending).toBe(2);
    ac.abort(new Error("user cancelled"));
    const err = await expectRejectCode(pb, "ABORTED");
    expect((err.cause as Error).message).toBe("user cancelled");
    expect(l.pending).toBe(1);
    gate.resolve();
    await pa;
    expect(await pc).toBe("c");
    expect(ran).toEqual(["A", "C"]);
    // The limiter is still usable with its full capacity.
    expect(await l.run(async () => 42)).toBe(42);
  });

  it("an already-aborted signal rejects without running the task, with or without a free slot", async () => {
    const l = new Limiter(1);
    let ran = false;
    const ac = new AbortController();
    ac.abort();
    await expectRejectCode(l.run(async () => { ran = true; }, ac.signal), "ABORTED");
    const gate = deferred();
    const pa = l.run(() => gate.promise);
    await expectRejectCode(l.run(async () => { ran = true; }, ac.signal), "ABORTED");
    expect(l.pending).toBe(0);
    gate.resolve();
    await pa;
    expect(ran).toBe(false);
  });

  it("a failing task releases its slot and propagates the error", async () => {
    const l = new Limiter(1);
    const boom = new Error("boom");
    await expect(l.run(async () => { throw boom; })).rejects.toBe(boom);
    await expect(l.run(() => { throw boom; })).rejects.toBe(boom); // synchronous throw too
    expect(await l.run(async () => "ok")).toBe("ok");
  });

  it("aborting after a task started does not affect it", async () => {
    const l = new Limiter(1);
    const ac = new AbortController();
    const p = l.run(async () => { await tick(); return 1; }, ac.signal);
    ac.abort();
    expect(await p).toBe(1);
  });
});

describe("abortError / throwIfAborted", () => {
  it("wraps the reason", () => {
    const ac = new AbortController();
    expect(() => throwIfAborted(ac.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const reason = new Error("why");
    ac.abort(reason);
    const e = expectCode(() => throwIfAborted(ac.signal), "ABORTED");
    expect(e.cause).toBe(reason);
    expect(abortError().code).toBe("ABORTED");
  });
});

describe("mapConcurrent", () => {
  it("keeps input order and respects the concurrency", async () => {
    const r = rng(2);
    const items = Array.from({ length: 40 }, (_, i) => i);
    let active = 0, peak = 0;
    const out = await mapConcurrent(items, 4, async (v, i) => {
      expect(i).toBe(v);
      active++;
      peak = Math.max(peak, active);
      await sleep(r.int(0, 5));
      active--;
      return v * 10;
    });
    expect(out).toEqual(items.map((v) => v * 10));
    expect(peak).toBe(4);
  });

  it("handles empty input and concurrency above the item count", async () => {
    expect(await mapConcurrent([], 8, async () => 1)).toEqual([]);
    expect(await mapConcurrent([1, 2], 100, async (v) => v + 1)).toEqual([2, 3]);
    expect(await mapConcurrent([1, 2, 3], 0, async (v) => v)).toEqual([1, 2, 3]);
  });

  it("rejects a concurrency that is not a number", async () => {
    await expectRejectCode(mapConcurrent([1, 2, 3], NaN, async (v) => v), "INVALID_ARGUMENT");
  });

  it("stops launching work after the first failure and rethrows it", async () => {
    const started: number[] = [];
    const boom = new Error("item 3");
    const items = Array.from({ length: 20 }, (_, i) => i);
    await expect(
      mapConcurrent(items, 2, async (v) => {
        started.push(v);
        await sleep(5);
        if (v === 3) throw boom;
        if (v === 4) throw new Error("later failure");
        return v;
      }),
    ).rejects.toBe(boom);
    expect(Math.max(...started)).toBeLessThanOrEqual(4);
    expect(started.length).toBeLessThan(20);
  });

  it("waits for in-flight work before rejecting", async () => {
    let finished = false;
    const p = mapConcurrent([0, 1], 2, async (v) => {
      if (v === 0) throw new Error("fast failure");
      await sleep(20);
      finished = true;
      return v;
    });
    await expect(p).rejects.toThrow("fast failure");
    expect(finished).toBe(true);
  });

  it("honours an aborted signal", async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expectRejectCode(mapConcurrent([1, 2, 3], 2, async () => { calls++; }, ac.signal), "ABORTED");
    expect(calls).toBe(0);
  });

  it("stops when aborted midway", async () => {
    const ac = new AbortController();
    const started: number[] = [];
    const p = mapConcurrent(Array.from({ length: 20 }, (_, i) => i), 1, async (v) => {
      started.push(v);
      if (v === 2) ac.abort();
      await tick();
    }, ac.signal);
    await expectRejectCode(p, "ABORTED");
    expect(started).toEqual([0, 1, 2]);
  });
});

describe("forEachConcurrent", () => {
  it("visits every item of a lazy iterable with bounded concurrency", async () => {
    const r = rng(3);
    let produced = 0;
    function* gen() {
      for (let i = 0; i < 50; i++) { produced++; yield i; }
    }
    const seen: number[] = [];
    let active = 0, peak = 0, maxAhead = 0;
    await forEachConcurrent(gen(), 3, async (v) => {
      active++;
      peak = Math.max(peak, active);
      maxAhead = Math.max(maxAhead, produced - seen.length);
      await sleep(r.int(0, 3));
      seen.push(v);
      active--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(peak).toBe(3);
    // Pulled lazily: never more than `concurrency` items taken but unfinished.
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  it("stops pulling after the first failure and rethrows it", async () => {
    let pulled = 0;
    function* gen() { for (let i = 0; i < 1000; i++) { pulled++; yield i; } }
    const boom = new Error("boom");
    await expect(forEachConcurrent(gen(), 2, async (v) => { await tick(); if (v === 5) throw boom; })).rejects.toBe(boom);
    expect(pulled).toBeLessThan(10);
  });

  it("handles empty input, and concurrency 0 as 1", async () => {
    let calls = 0;
    await forEachConcurrent([], 4, async () => { calls++; });
    await forEachConcurrent([1, 2, 3], 0, async () => { calls++; });
    expect(calls).toBe(3);
  });

  it("rejects NaN or infinite concurrency instead of silently doing nothing", async () => {
    let calls = 0;
    await expectRejectCode(forEachConcurrent([1, 2, 3], NaN, async () => { calls++; }), "INVALID_ARGUMENT");
    await expectRejectCode(forEachConcurrent([1, 2, 3], Infinity, async () => { calls++; }), "INVALID_ARGUMENT");
    expect(calls).toBe(0);
  });

  it("honours abort", async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const p = forEachConcurrent([0, 1, 2, 3, 4, 5], 1, async (v) => { seen.push(v); if (v === 1) ac.abort(); await tick(); }, ac.signal);
    await expectRejectCode(p, "ABORTED");
    expect(seen).toEqual([0, 1]);
  });
});
