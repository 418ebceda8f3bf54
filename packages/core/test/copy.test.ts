import { describe, expect, it } from "vitest";
import type { Vec3 } from "../src/bbox.js";
import { copyBox, fillPattern, isUniform } from "../src/copy.js";
import { rng } from "./helpers.js";

type R = ReturnType<typeof rng>;

/** Per-voxel, per-byte reference copy (Fortran order x, y, z, channel). */
function referenceCopy(
  src: Uint8Array, srcShape: Vec3, srcOrigin: Vec3,
  dst: Uint8Array, dstShape: Vec3, dstOrigin: Vec3,
  size: Vec3, bpv: number, channels: number,
): void {
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < size[2]; z++)
      for (let y = 0; y < size[1]; y++)
        for (let x = 0; x < size[0]; x++) {
          const sv = (((c * srcShape[2] + srcOrigin[2] + z) * srcShape[1] + srcOrigin[1] + y) * srcShape[0] + srcOrigin[0] + x);
          const dv = (((c * dstShape[2] + dstOrigin[2] + z) * dstShape[1] + dstOrigin[1] + y) * dstShape[0] + dstOrigin[0] + x);
          for (let k = 0; k < bpv; k++) dst[dv * bpv + k] = src[sv * bpv + k];
        }
}

/** A random-filled Uint8Array of `len` bytes living at `byteOffset` inside a larger buffer (with guard bytes after). */
function placed(r: R, len: number, byteOffset: number): { view: Uint8Array; whole: Uint8Array } {
  const whole = new Uint8Array(byteOffset + len + 13);
  for (let i = 0; i < whole.length; i++) whole[i] = r.int(0, 255);
  return { view: whole.subarray(byteOffset, byteOffset + len), whole };
}

interface Case {
  srcShape: Vec3; srcOrigin: Vec3; dstShape: Vec3; dstOrigin: Vec3; size: Vec3;
  bpv: number; channels: number; srcOff: number; dstOff: number;
}

function runCase(r: R, k: Case): void {
  const srcLen = k.srcShape[0] * k.srcShape[1] * k.srcShape[2] * k.channels * k.bpv;
  const dstLen = k.dstShape[0] * k.dstShape[1] * k.dstShape[2] * k.channels * k.bpv;
  const s = placed(r, srcLen, k.srcOff);
  const d = placed(r, dstLen, k.dstOff);
  const srcBefore = s.whole.slice();
  const expectedWhole = d.whole.slice();
  referenceCopy(
    s.view, k.srcShape, k.srcOrigin,
    expectedWhole.subarray(k.dstOff, k.dstOff + dstLen), k.dstShape, k.dstOrigin,
    k.size, k.bpv, k.channels,
  );
  copyBox({
    src: s.view, srcShape: k.srcShape, srcOrigin: k.srcOrigin,
    dst: d.view, dstShape: k.dstShape, dstOrigin: k.dstOrigin,
    size: k.size, bytesPerVoxel: k.bpv, channels: k.channels,
  });
  // Whole backing buffer compared: bytes outside the box, and guard bytes before/after the view, are untouched.
  if (!buffersEqual(d.whole, expectedWhole)) {
    const i = firstDiff(d.whole, expectedWhole);
    expect.fail(`copyBox mismatch at byte ${i} (got ${d.whole[i]}, want ${expectedWhole[i]}) for ${JSON.stringify(k)}`);
  }
  expect(buffersEqual(s.whole, srcBefore)).toBe(true); // source never written
}

const buffersEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const firstDiff = (a: Uint8Array, b: Uint8Array) => a.findIndex((v, i) => v !== b[i]);

function randomCase(r: R, opts: { maxX: number; bpv: number; srcOff: number; dstOff: number; full?: boolean }): Case {
  const channels = r.int(1, 3);
  const srcShape: [number, number, number] = [r.int(1, opts.maxX), r.int(1, 9), r.int(1, 6)];
  const dstShape: [number, number, number] = [r.int(1, opts.maxX), r.int(1, 9), r.int(1, 6)];
  if (opts.full) {
    // Same shapes and a box covering leading axes entirely, so axes merge.
    dstShape[0] = srcShape[0];
    if (r.next() < 0.7) dstShape[1] = srcShape[1];
    if (r.next() < 0.5) dstShape[2] = srcShape[2];
  }
  const size: [number, number, number] = [0, 0, 0];
  const so: [number, number, number] = [0, 0, 0];
  const dO: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const m = Math.min(srcShape[a], dstShape[a]);
    size[a] = opts.full && srcShape[a] === dstShape[a] && r.next() < 0.8 ? m : r.int(1, m);
    so[a] = r.int(0, srcShape[a] - size[a]);
    dO[a] = r.int(0, dstShape[a] - size[a]);
  }
  return { srcShape, srcOrigin: so, dstShape, dstOrigin: dO, size, bpv: opts.bpv, channels, srcOff: opts.srcOff, dstOff: opts.dstOff };
}

describe("copyBox vs per-voxel reference", () => {
  for (const bpv of [1, 2, 4, 8]) {
    it(`bpv=${bpv}: unaligned subarrays (byte path)`, () => {
      const r = rng(100 + bpv);
      for (let i = 0; i < 150; i++) runCase(r, randomCase(r, { maxX: 12, bpv, srcOff: r.int(0, 7) | 1, dstOff: r.int(0, 7) }));
      for (let i = 0; i < 50; i++) runCase(r, randomCase(r, { maxX: 12, bpv, srcOff: 0, dstOff: r.int(1, 3) }));
    });

    it(`bpv=${bpv}: 4-byte aligned subarrays (word path)`, () => {
      const r = rng(200 + bpv);
      for (let i = 0; i < 200; i++) runCase(r, randomCase(r, { maxX: 12, bpv, srcOff: 4 * r.int(0, 3), dstOff: 4 * r.int(0, 3) }));
    });

    it(`bpv=${bpv}: long runs (memmove path), aligned and not`, () => {
      const r = rng(300 + bpv);
      for (let i = 0; i < 40; i++) runCase(r, randomCase(r, { maxX: 300, bpv, srcOff: r.int(0, 9), dstOff: r.int(0, 9) }));
    });

    it(`bpv=${bpv}: full-width boxes whose axes merge`, () => {
      const r = rng(400 + bpv);
      for (let i = 0; i < 150; i++) runCase(r, randomCase(r, { maxX: 40, bpv, srcOff: r.int(0, 5), dstOff: r.int(0, 5), full: true }));
    });
  }

  it("explicit word-path case: uint32, 3 channels, interior box", () => {
    const r = rng(9);
    runCase(r, { srcShape: [8, 7, 6], srcOrigin: [1, 2, 3], dstShape: [5, 5, 5], dstOrigin: [2, 0, 1], size: [3, 4, 2], bpv: 4, channels: 3, srcOff: 8, dstOff: 4 });
  });

  it("explicit whole-volume case: identical shapes, everything merges into one run", () => {
    const r = rng(10);
    runCase(r, { srcShape: [7, 5, 3], srcOrigin: [0, 0, 0], dstShape: [7, 5, 3], dstOrigin: [0, 0, 0], size: [7, 5, 3], bpv: 2, channels: 3, srcOff: 1, dstOff: 3 });
    runCase(r, { srcShape: [64, 4, 2], srcOrigin: [0, 0, 0], dstShape: [64, 4, 2], dstOrigin: [0, 0, 0], size: [64, 4, 2], bpv: 1, channels: 2, srcOff: 0, dstOff: 0 });
  });

  it("copies between buffers of different row lengths (chunk into cutout and back)", () => {
    const r = rng(12);
    // A 16x16x8 chunk placed at (5,3,2) of a 40x30x20 cutout, and read back out.
    runCase(r, { srcShape: [16, 16, 8], srcOrigin: [0, 0, 0], dstShape: [40, 30, 20], dstOrigin: [5, 3, 2], size: [16, 16, 8], bpv: 8, channels: 1, srcOff: 0, dstOff: 0 });
    runCase(r, { srcShape: [40, 30, 20], srcOrigin: [5, 3, 2], dstShape: [16, 16, 8], dstOrigin: [0, 0, 0], size: [16, 16, 8], bpv: 1, channels: 2, srcOff: 3, dstOff: 0 });
  });

  it("does nothing for an empty box", () => {
    const src = new Uint8Array(27).fill(1);
    const dst = new Uint8Array(27).fill(2);
    for (const size of [[0, 3, 3], [3, 0, 3], [3, 3, 0], [-1, 3, 3]] as Vec3[]) {
      copyBox({ src, srcShape: [3, 3, 3], srcOrigin: [0, 0, 0], dst, dstShape: [3, 3, 3], dstOrigin: [0, 0, 0], size, bytesPerVoxel: 1 });
    }
    expect(dst.every((v) => v === 2)).toBe(true);
  });

  it("defaults to one channel", () => {
    const src = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const dst = new Uint8Array(8);
    copyBox({ src, srcShape: [2, 2, 1], srcOrigin: [0, 0, 0], dst, dstShape: [2, 2, 1], dstOrigin: [0, 0, 0], size: [2, 2, 1], bytesPerVoxel: 1 });
    expect([...dst]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  });
});

describe("isUniform vs brute force", () => {
  const brute = (bytes: Uint8Array, pattern: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pattern[i % pattern.length]) return false;
    return true;
  };

  it("random patterns, offsets and lengths", () => {
    const r = rng(31);
    for (let i = 0; i < 2000; i++) {
      const n = [1, 1, 1, 2, 4, 8, 3][r.int(0, 6)];
      const pattern = new Uint8Array(n);
      for (let k = 0; k < n; k++) pattern[k] = r.int(0, 1) ? 255 : r.int(0, 255);
      const len = n * r.int(0, 40);
      const off = r.int(0, 7);
      const whole = new Uint8Array(off + len + 4);
      // Guard bytes differ from the pattern, so reading past the view would be noticed.
      whole.fill(pattern[0] ^ 0x5a);
      const view = whole.subarray(off, off + len);
      fillPatternBrute(view, pattern);
      const mode = r.int(0, 2);
      if (mode > 0 && len > 0) {
        const at = r.int(0, len - 1);
        view[at] = (view[at] + (mode === 1 ? 1 : 128)) & 255;
      }
      expect(isUniform(view, pattern), `n=${n} len=${len} off=${off} mode=${mode}`).toBe(brute(view, pattern));
    }
  });

  it("examples", () => {
    expect(isUniform(new Uint8Array([]), new Uint8Array([7]))).toBe(true);
    expect(isUniform(new Uint8Array([255, 255, 255, 255, 255]), new Uint8Array([255]))).toBe(true);
    expect(isUniform(new Uint8Array([255, 255, 255, 255, 254]), new Uint8Array([255]))).toBe(false);
    expect(isUniform(new Uint8Array([254, 255, 255, 255, 255]), new Uint8Array([255]))).toBe(false);
    expect(isUniform(new Uint8Array([1, 2, 1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(isUniform(new Uint8Array([1, 2, 2, 1]), new Uint8Array([1, 2]))).toBe(false);
  });
});

function fillPatternBrute(dst: Uint8Array, pattern: Uint8Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = pattern[i % pattern.length];
}

describe("fillPattern vs brute force", () => {
  it("random patterns, lengths (incl. partial last voxel) and offsets; nothing outside the view changes", () => {
    const r = rng(41);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(1, 9);
      const pattern = new Uint8Array(n);
      for (let k = 0; k < n; k++) pattern[k] = r.int(0, 3) === 0 ? 9 : r.int(0, 255);
      const len = r.int(0, 200);
      const off = r.int(0, 7);
      const whole = new Uint8Array(off + len + 5);
      for (let k = 0; k < whole.length; k++) whole[k] = r.int(0, 255);
      const expected = whole.slice();
      fillPatternBrute(expected.subarray(off, off + len), pattern);
      fillPattern(whole.subarray(off, off + len), pattern);
      expect(buffersEqual(whole, expected), `n=${n} len=${len} off=${off}`).toBe(true);
    }
  });

  it("uniform patterns and empty inputs", () => {
    const d = new Uint8Array(10);
    fillPattern(d, new Uint8Array([3, 3, 3, 3]));
    expect([...d]).toEqual(Array(10).fill(3));
    fillPattern(d, new Uint8Array([]));
    expect([...d]).toEqual(Array(10).fill(3));
    fillPattern(new Uint8Array(0), new Uint8Array([1, 2]));
  });
});

describe("copyBox keeps 64-bit labels that are NaN bit patterns", () => {
  it("copies 2^64-1, signalling and quiet NaN payloads bit for bit on the 8-byte word path", async () => {
    const { copyBox } = await import("../src/index.js");
    const labels = [0xffffffffffffffffn, 0x7ff0000000000001n, 0xfff8000000000001n, 0x7ff4000000000000n, 0xfff0000000000abcn, 1n, 0n];
    const n = 16 * 4 * 2;
    const src = new BigUint64Array(n);
    for (let i = 0; i < n; i++) src[i] = labels[i % labels.length] ^ BigInt(i & 1);
    const dst = new BigUint64Array(n);
    for (let rep = 0; rep < 50; rep++) {
      copyBox({ src: new Uint8Array(src.buffer), srcShape: [16, 4, 2], srcOrigin: [0, 0, 0], dst: new Uint8Array(dst.buffer), dstShape: [16, 4, 2], dstOrigin: [0, 0, 0], size: [16, 4, 2], bytesPerVoxel: 8 });
      // Also a box that is not contiguous (row copies).
      copyBox({ src: new Uint8Array(src.buffer), srcShape: [16, 4, 2], srcOrigin: [1, 0, 0], dst: new Uint8Array(dst.buffer), dstShape: [16, 4, 2], dstOrigin: [1, 0, 0], size: [15, 4, 2], bytesPerVoxel: 8 });
    }
    for (let i = 0; i < n; i++) expect(dst[i]).toBe(src[i]);
  });
});
