import { describe, expect, it } from "vitest";
import { allocateArray, asVolumeArray, fortranStrides, getVoxel, scalarBytes } from "../src/array.js";
import { bytesOf } from "../src/dtype.js";
import { expectCode } from "./helpers.js";

describe("allocateArray", () => {
  it("zero-fills by default with Fortran strides", () => {
    const a = allocateArray("uint16", [3, 4, 5, 2]);
    expect(a.data).toBeInstanceOf(Uint16Array);
    expect(a.data.length).toBe(120);
    expect([...a.data].every((v) => v === 0)).toBe(true);
    expect(a.shape).toEqual([3, 4, 5, 2]);
    expect(a.stride).toEqual([1, 3, 12, 60]);
    expect(a.dtype).toBe("uint16");
  });

  it("fills uint8 background", () => {
    const a = allocateArray("uint8", [2, 3, 4, 1], 7);
    expect(a.data.length).toBe(24);
    expect([...a.data].every((v) => v === 7)).toBe(true);
  });

  it("fills float32 background", () => {
    const a = allocateArray("float32", [5, 1, 3, 2], -1.5);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual(Array(30).fill(-1.5));
    const n = allocateArray("float32", [2, 2, 1, 1], NaN);
    expect([...n.data].every((v) => Number.isNaN(v))).toBe(true);
  });

  it("fills uint64 background with a bigint, including 2^64-1", () => {
    const max = 2n ** 64n - 1n;
    const a = allocateArray("uint64", [3, 3, 2, 1], max);
    expect(a.data).toBeInstanceOf(BigUint64Array);
    expect([...a.data]).toEqual(Array(18).fill(max));
    expect([...bytesOf(a.data)].every((b) => b === 255)).toBe(true);
    const b = allocateArray("uint64", [2, 1, 1, 1], 0x0102030405060708n);
    expect([...b.data]).toEqual([0x0102030405060708n, 0x0102030405060708n]);
    const c = allocateArray("uint64", [2, 1, 1, 1], 5);
    expect([...c.data]).toEqual([5n, 5n]);
  });

  it("fills int64 background with negatives", () => {
    const a = allocateArray("int64", [2, 2, 1, 1], -2n);
    expect([...a.data]).toEqual([-2n, -2n, -2n, -2n]);
  });

  it("handles empty shapes", () => {
    expect(allocateArray("uint32", [0, 4, 4, 1], 3).data.length).toBe(0);
  });
});

describe("scalarBytes", () => {
  it("is little-endian", () => {
    expect([...scalarBytes("uint8", 200)]).toEqual([200]);
    expect([...scalarBytes("uint16", 0xabcd)]).toEqual([0xcd, 0xab]);
    expect([...scalarBytes("int16", -2)]).toEqual([0xfe, 0xff]);
    expect([...scalarBytes("uint32", 0x01020304)]).toEqual([4, 3, 2, 1]);
    expect([...scalarBytes("float32", 1)]).toEqual([0, 0, 0x80, 0x3f]);
    expect([...scalarBytes("float64", -2)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0]);
    expect([...scalarBytes("uint64", 0x0102030405060708n)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect([...scalarBytes("int64", -1n)]).toEqual(Array(8).fill(255));
    expect([...scalarBytes("uint64", 2n ** 64n - 1n)]).toEqual(Array(8).fill(255));
    expect([...scalarBytes("uint32", 7n)]).toEqual([7, 0, 0, 0]);
  });

  it("returns an independent, whole buffer", () => {
    const b = scalarBytes("uint32", 1);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(4);
  });

  it("rejects values a 64-bit integer cannot hold with INVALID_ARGUMENT", () => {
    expectCode(() => scalarBytes("uint64", 1.5), "INVALID_ARGUMENT");
    expectCode(() => scalarBytes("int64", NaN), "INVALID_ARGUMENT");
  });

  it("rejects unknown dtypes", () => {
    expectCode(() => scalarBytes("bool" as never, 1), "INVALID_ARGUMENT");
  });
});

describe("getVoxel / asVolumeArray", () => {
  it("indexes in Fortran order (x fastest, channel slowest)", () => {
    const [X, Y, Z, C] = [3, 4, 5, 2];
    const data = new Uint32Array(X * Y * Z * C);
    for (let i = 0; i < data.length; i++) data[i] = i;
    const a = asVolumeArray(data, [X, Y, Z, C], "uint32");
    for (let c = 0; c < C; c++)
      for (let z = 0; z < Z; z++)
        for (let y = 0; y < Y; y++)
          for (let x = 0; x < X; x++) expect(getVoxel(a, x, y, z, c)).toBe(x + X * (y + Y * (z + Z * c)));
    expect(getVoxel(a, 2, 3, 4)).toBe(2 + 3 * 3 + 12 * 4);
  });

  it("returns bigints for 64-bit arrays", () => {
    const a = asVolumeArray(new BigUint64Array([1n, 2n, 3n, 4n]), [2, 2, 1], "uint64");
    expect(getVoxel(a, 1, 1, 0)).toBe(4n);
  });

  it("defaults to one channel and checks the length", () => {
    const a = asVolumeArray(new Uint8Array(24), [2, 3, 4], "uint8");
    expect(a.shape).toEqual([2, 3, 4, 1]);
    expect(a.stride).toEqual([1, 2, 6, 24]);
    expectCode(() => asVolumeArray(new Uint8Array(23), [2, 3, 4], "uint8"), "INVALID_ARGUMENT");
    expectCode(() => asVolumeArray(new Uint8Array(24), [2, 3, 4, 2], "uint8"), "INVALID_ARGUMENT");
  });

  it("fortranStrides", () => {
    expect(fortranStrides([7, 11, 13, 3])).toEqual([1, 7, 77, 1001]);
  });
});
