import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ChunkSpec, type Vec3 } from "@cloudvolume/core";
import { compressedSegmentationCodec as codec, contains, labels, readVoxel, remap } from "@cloudvolume/codec-compressed-segmentation";
import { allCsegChunks } from "./fixtures.js";
import { blockyVoxels, distinctSorted, rng, sameBytes, spec, thrown, voxelValues } from "./helpers.js";

/** Fixture chunks (CloudVolume's bytes) plus our own encodings of odd geometries. */
interface Case {
  name: string;
  chunk: ChunkSpec;
  encoded: Uint8Array;
  voxels: Uint8Array;
}

const cases: Case[] = allCsegChunks().map((c) => ({ name: c.name, chunk: c.chunk, encoded: c.encoded, voxels: c.expected }));
const own: [Vec3, Vec3, number][] = [
  [[13, 9, 17], [8, 4, 2], 2],
  [[19, 23, 11], [3, 5, 7], 3],
  [[7, 5, 3], [1, 1, 1], 1],
  [[64, 64, 8], [8, 8, 8], 1],
];
for (const dtype of ["uint32", "uint64"] as const) {
  for (const [shape, block, channels] of own) {
    const chunk = spec(shape, dtype, block, channels, `own/${dtype}/${shape.join("x")}x${channels}/${block.join("x")}`);
    const voxels = blockyVoxels(chunk, 5);
    cases.push({ name: chunk.key!, chunk, voxels, encoded: codec.encode!(voxels, chunk) as Uint8Array });
  }
}

const asList = (a: BigUint64Array | Uint32Array): (number | bigint)[] => Array.from(a as ArrayLike<number | bigint>);

describe("labels", () => {
  for (const c of cases) {
    it(`${c.name}: the distinct labels of the decoded chunk, ascending`, () => {
      const got = labels(c.encoded, c.chunk);
      expect(got).toBeInstanceOf(c.chunk.dtype === "uint64" ? BigUint64Array : Uint32Array);
      expect(asList(got)).toEqual(distinctSorted(c.voxels, c.chunk.dtype));
    });
  }

  it("reads labels from an input at an odd byte offset", () => {
    const c = cases[0];
    const backing = new Uint8Array(c.encoded.byteLength + 3);
    backing.set(c.encoded, 3);
    expect(asList(labels(backing.subarray(3), c.chunk))).toEqual(distinctSorted(c.voxels, c.chunk.dtype));
  });
});

describe("readVoxel", () => {
  for (const c of cases) {
    it(`${c.name}: 300 random voxels (and the corners) match the decoded chunk`, () => {
      const [X, Y, Z] = c.chunk.shape;
      const values = voxelValues(c.voxels, c.chunk.dtype);
      const next = rng(X * 31 + Y * 7 + Z);
      const probes: number[][] = [
        [0, 0, 0, 0],
        [X - 1, Y - 1, Z - 1, c.chunk.channels - 1],
      ];
      for (let i = 0; i < 300; i++) probes.push([next() % X, next() % Y, next() % Z, next() % c.chunk.channels]);
      for (const [x, y, z, ch] of probes) {
        const expected = values[x + X * (y + Y * (z + Z * ch))];
        expect(readVoxel(c.encoded, c.chunk, x, y, z, ch), `(${x},${y},${z},${ch})`).toBe(expected);
      }
    });
  }

  it("reads from an input at an odd byte offset (no alignment needed)", () => {
    const c = cases[1];
    const backing = new Uint8Array(c.encoded.byteLength + 1);
    backing.set(c.encoded, 1);
    const values = voxelValues(c.voxels, c.chunk.dtype);
    expect(readVoxel(backing.subarray(1), c.chunk, 3, 4, 5)).toBe(values[3 + c.chunk.shape[0] * (4 + c.chunk.shape[1] * 5)]);
  });

  it("rejects coordinates outside the chunk with OUT_OF_BOUNDS", () => {
    const c = cases[0];
    for (const [x, y, z, ch] of [[-1, 0, 0, 0], [c.chunk.shape[0], 0, 0, 0], [0, 0, 0, 1], [0.5, 0, 0, 0]]) {
      expect(thrown(() => readVoxel(c.encoded, c.chunk, x, y, z, ch))).toMatchObject({ code: "OUT_OF_BOUNDS", key: c.chunk.key });
    }
  });
});

describe("contains", () => {
  for (const c of cases) {
    it(`${c.name}: true for every label, false for labels not in the chunk`, () => {
      const present = distinctSorted(c.voxels, c.chunk.dtype);
      const set = new Set(present);
      // Every label for small chunks, an even sample of 150 for large ones (each call reads all headers).
      const step = Math.max(1, Math.ceil(present.length / 150));
      for (const v of present.filter((_, i) => i % step === 0)) {
        expect(contains(c.encoded, c.chunk, v)).toBe(true);
        // The other numeric type names the same label.
        if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(contains(c.encoded, c.chunk, Number(v))).toBe(true);
        if (typeof v === "number") expect(contains(c.encoded, c.chunk, BigInt(v))).toBe(true);
      }
      const absent: (number | bigint)[] = [];
      for (const v of present.slice(0, 20)) {
        const w = typeof v === "bigint" ? v ^ (1n << 37n) : (v ^ 0x10000) >>> 0;
        if (!set.has(w)) absent.push(w);
      }
      absent.push(2n ** 40n + 3n, 4294967294);
      for (const v of absent) if (!set.has(v)) expect(contains(c.encoded, c.chunk, v)).toBe(false);
    });
  }

  it("a uint64 label on a uint32 chunk is simply absent; negative or fractional labels are INVALID_ARGUMENT", () => {
    const c = cases.find((k) => k.chunk.dtype === "uint32")!;
    expect(contains(c.encoded, c.chunk, 2n ** 40n)).toBe(false);
    expect(thrown(() => contains(c.encoded, c.chunk, -1))).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(thrown(() => contains(c.encoded, c.chunk, 1.5))).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(thrown(() => contains(c.encoded, c.chunk, 2n ** 64n))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

/** Apply `mapping` to voxels by brute force (missing labels kept). */
function mapVoxels(voxels: Uint8Array, dtype: string, mapping: Map<bigint | number, bigint | number>): Uint8Array {
  const out = voxels.slice();
  if (dtype === "uint64") {
    const v = new BigUint64Array(out.buffer);
    for (let i = 0; i < v.length; i++) {
      const m = mapping.get(v[i]) ?? (v[i] <= BigInt(Number.MAX_SAFE_INTEGER) ? mapping.get(Number(v[i])) : undefined);
      if (m !== undefined) v[i] = BigInt(m);
    }
  } else {
    const v = new Uint32Array(out.buffer);
    for (let i = 0; i < v.length; i++) {
      const m = mapping.get(v[i]) ?? mapping.get(BigInt(v[i]));
      if (m !== undefined) v[i] = Number(m);
    }
  }
  return out;
}

describe("remap", () => {
  for (const c of cases) {
    it(`${c.name}: decode(remap(x)) is the mapping applied to decode(x); labels follow`, () => {
      const present = distinctSorted(c.voxels, c.chunk.dtype);
      const mapping = new Map<bigint | number, bigint | number>();
      // Reverse the order (tables become descending) and merge pairs of labels.
      present.forEach((v, i) => {
        const target = Math.floor((present.length - i) / 2);
        mapping.set(v, c.chunk.dtype === "uint64" ? (BigInt(target) << 40n) + 5n : target * 3 + 1);
      });
      const before = c.encoded.slice();
      const out = remap(c.encoded, c.chunk, mapping);
      expect(sameBytes(c.encoded, before), "remap must not modify its input").toBe(true);
      expect(out.byteLength).toBe(c.encoded.byteLength);
      const expected = mapVoxels(c.voxels, c.chunk.dtype, mapping);
      expect(sameBytes(codec.decode(out, c.chunk) as Uint8Array, expected)).toBe(true);
      expect(asList(labels(out, c.chunk))).toEqual(distinctSorted(expected, c.chunk.dtype));
      const [X, Y] = c.chunk.shape;
      const values = voxelValues(expected, c.chunk.dtype);
      expect(readVoxel(out, c.chunk, X - 1, Y - 1, 0)).toBe(values[X - 1 + X * (Y - 1)]);
    });
  }

  it("preserveMissing keeps unmapped labels; without it a missing label is INVALID_ARGUMENT naming it", () => {
    for (const c of cases.slice(0, 12)) {
      const present = distinctSorted(c.voxels, c.chunk.dtype);
      const mapping = new Map<bigint | number, bigint | number>();
      // Map every other label; keys given as numbers where they fit, to exercise key matching.
      present.forEach((v, i) => {
        if (i % 2) return;
        const key = typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        mapping.set(key, typeof v === "bigint" ? 99n : 99);
      });
      const out = remap(c.encoded, c.chunk, mapping, true);
      expect(sameBytes(codec.decode(out, c.chunk) as Uint8Array, mapVoxels(c.voxels, c.chunk.dtype, mapping))).toBe(true);
      if (present.length > 1) {
        const err = thrown(() => remap(c.encoded, c.chunk, mapping));
        expect(isCloudVolumeError(err, "INVALID_ARGUMENT")).toBe(true);
        expect((err as Error).message).toMatch(/not in the mapping/);
      }
    }
  });

  it("a uint32 chunk cannot take labels above 2^32; a mapping to a negative label is INVALID_ARGUMENT", () => {
    const c = cases.find((k) => k.chunk.dtype === "uint32")!;
    const [first] = distinctSorted(c.voxels, "uint32");
    expect(thrown(() => remap(c.encoded, c.chunk, new Map([[first, 2n ** 33n]]), true))).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(thrown(() => remap(c.encoded, c.chunk, new Map([[first, -4]]), true))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("the identity mapping returns the same bytes (a fresh copy)", () => {
    for (const c of cases) {
      const mapping = new Map<bigint | number, bigint | number>(distinctSorted(c.voxels, c.chunk.dtype).map((v) => [v, v]));
      const out = remap(c.encoded, c.chunk, mapping);
      expect(out.buffer).not.toBe(c.encoded.buffer);
      expect(sameBytes(out, c.encoded), c.name).toBe(true);
    }
  });
});
