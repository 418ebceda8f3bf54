import { describe, expect, it } from "vitest";
import { BufferPool } from "../src/pool.js";

describe("BufferPool", () => {
  it("hands out fresh zeroed buffers of the requested size", () => {
    const p = new BufferPool();
    const a = p.acquire(16);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(16);
    expect(a.every((v) => v === 0)).toBe(true);
    expect(p.acquire(16)).not.toBe(a);
  });

  it("reuses released buffers by exact size", () => {
    const p = new BufferPool();
    const a = p.acquire(16);
    const b = p.acquire(32);
    p.release(a);
    p.release(b);
    expect(p.acquire(32)).toBe(b);
    expect(p.acquire(24)).not.toBe(a);
    expect(p.acquire(16)).toBe(a);
    expect(p.acquire(16)).not.toBe(a); // taken: a new one
  });

  it("does not pool views into larger buffers", () => {
    const p = new BufferPool();
    const big = new Uint8Array(64);
    p.release(big.subarray(16, 32));
    p.release(big.subarray(0, 16)); // offset 0 but shorter than its buffer
    p.release(new Uint8Array(big.buffer, 0, 16));
    const got = p.acquire(16);
    expect(got.buffer).not.toBe(big.buffer);
  });

  it("respects maxBytes", () => {
    const p = new BufferPool(40);
    const bufs = [new Uint8Array(16), new Uint8Array(16), new Uint8Array(16)];
    for (const b of bufs) p.release(b);
    const a1 = p.acquire(16);
    const a2 = p.acquire(16);
    const a3 = p.acquire(16);
    expect(new Set([a1, a2])).toEqual(new Set([bufs[0], bufs[1]]));
    expect(bufs).not.toContain(a3); // the third did not fit
    // Acquiring gave the space back.
    p.release(bufs[2]);
    expect(p.acquire(16)).toBe(bufs[2]);
    // A buffer larger than the budget is never pooled.
    const huge = new Uint8Array(41);
    p.release(huge);
    expect(p.acquire(41)).not.toBe(huge);
  });

  it("ignores a second release of the same buffer (never hands one buffer to two users)", () => {
    const p = new BufferPool();
    const a = p.acquire(8);
    p.release(a);
    p.release(a);
    const x = p.acquire(8);
    const y = p.acquire(8);
    expect(x).toBe(a);
    expect(y).not.toBe(a);
  });

  it("clear drops everything", () => {
    const p = new BufferPool(32);
    const a = new Uint8Array(32);
    p.release(a);
    p.clear();
    expect(p.acquire(32)).not.toBe(a);
    // Budget is reset too.
    const b = new Uint8Array(32);
    p.release(b);
    expect(p.acquire(32)).toBe(b);
  });
});
