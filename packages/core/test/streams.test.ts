import { describe, expect, it } from "vitest";
import { concatBytes, pipeBytes } from "../src/streams.js";
import { rng } from "./helpers.js";

/** Compressible bytes: runs of random values. */
function sample(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const v = r.int(0, 255);
    const run = r.int(1, 40);
    for (let j = 0; j < run && i < n; j++) out[i++] = v;
  }
  return out;
}

/** Byte equality without vitest's element-by-element diffing (slow on megabytes). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what?: string): void {
  expect(actual.byteLength, what).toBe(expected.byteLength);
  let first = -1;
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      first = i;
      break;
    }
  }
  expect(first, `${what ?? ""} first differing byte`).toBe(-1);
}

const gzip = (bytes: Uint8Array) => pipeBytes(new CompressionStream("gzip"), bytes);

describe("concatBytes", () => {
  it("joins parts into one new buffer", () => {
    const a = Uint8Array.from([1, 2]);
    const b = new Uint8Array(0);
    const c = Uint8Array.from([3, 4, 5]).subarray(1);
    const out = concatBytes([a, b, c]);
    expect(Array.from(out)).toEqual([1, 2, 4, 5]);
    expect(out.buffer).not.toBe(a.buffer);
    expect(concatBytes([a, c], 4)).toEqual(out);
    expect(concatBytes([])).toEqual(new Uint8Array(0));
  });
});

describe("pipeBytes", () => {
  for (const size of [0, 1, 1000, 300_000, 3_000_000]) {
    it(`gzip round trip of ${size} bytes through CompressionStream / DecompressionStream`, async () => {
      const data = sample(size, size);
      const packed = await gzip(data);
      expect(packed[0]).toBe(0x1f);
      expect(packed[1]).toBe(0x8b);
      // No hint: chunks joined at the end. Exact, short and long hints: one preallocated buffer.
      for (const hint of [undefined, 0, size, Math.max(1, size >> 3), size + 4096]) {
        const out = await pipeBytes(new DecompressionStream("gzip"), packed, hint);
        expectSameBytes(out, data, `hint ${hint}`);
      }
    });
  }

  it("preallocates from an exact hint (the result is that buffer, whole)", async () => {
    const data = sample(100_000, 7);
    const out = await pipeBytes(new DecompressionStream("gzip"), await gzip(data), data.byteLength);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(data.byteLength);
  });

  it("reads a view into a larger buffer, and a view of a SharedArrayBuffer", async () => {
    const data = sample(5000, 3);
    const packed = await gzip(data);
    const padded = new Uint8Array(packed.byteLength + 20).fill(0xee);
    padded.set(packed, 10);
    expect(await pipeBytes(new DecompressionStream("gzip"), padded.subarray(10, 10 + packed.byteLength))).toEqual(data);

    const shared = new Uint8Array(new SharedArrayBuffer(packed.byteLength));
    shared.set(packed);
    expect(await pipeBytes(new DecompressionStream("gzip"), shared, data.byteLength)).toEqual(data);
  });

  it("rejects when the stream fails on corrupt or truncated input", async () => {
    const packed = await gzip(sample(10_000, 5));
    await expect(pipeBytes(new DecompressionStream("gzip"), packed.subarray(0, packed.byteLength - 10))).rejects.toThrow();
    await expect(pipeBytes(new DecompressionStream("gzip"), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 100)).rejects.toThrow();
  });
});
