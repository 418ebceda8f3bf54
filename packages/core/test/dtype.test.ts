import { describe, expect, it } from "vitest";
import { DATA_TYPES, HOST_IS_LITTLE_ENDIAN, bytesOf, dtypeInfo, dtypeOfArray, isDataType, viewAs, type DataType } from "../src/dtype.js";
import { expectCode } from "./helpers.js";

describe("dtypeInfo", () => {
  it("describes every type", () => {
    const want: Record<DataType, [number, boolean, boolean, boolean]> = {
      uint8: [1, false, false, false], int8: [1, false, false, true],
      uint16: [2, false, false, false], int16: [2, false, false, true],
      uint32: [4, false, false, false], int32: [4, false, false, true],
      uint64: [8, true, false, false], int64: [8, true, false, true],
      float32: [4, false, true, true], float64: [8, false, true, true],
    };
    expect([...DATA_TYPES].sort()).toEqual(Object.keys(want).sort());
    for (const [name, [bytes, bigint, float, signed]] of Object.entries(want)) {
      const info = dtypeInfo(name);
      expect(info.name).toBe(name);
      expect(info.bytes).toBe(bytes);
      expect(info.ctor.BYTES_PER_ELEMENT).toBe(bytes);
      expect([info.bigint, info.float, info.signed]).toEqual([bigint, float, signed]);
    }
  });

  it("rejects unknown names, including Object.prototype keys", () => {
    for (const bad of ["uint128", "float16", "", "UINT8", "toString", "__proto__", "constructor"]) {
      const e = expectCode(() => dtypeInfo(bad), "INVALID_ARGUMENT");
      expect(e.message).toContain("uint8");
    }
    expect(isDataType("toString")).toBe(false);
    expect(isDataType(8)).toBe(false);
    expect(isDataType("int64")).toBe(true);
  });
});

describe("viewAs", () => {
  it("views aligned bytes without copying", () => {
    const buf = new ArrayBuffer(24);
    const bytes = new Uint8Array(buf, 8, 16);
    const v = viewAs(bytes, "uint32");
    expect(v).toBeInstanceOf(Uint32Array);
    expect(v.buffer).toBe(buf);
    expect(v.byteOffset).toBe(8);
    expect(v.length).toBe(4);
    (v as Uint32Array)[1] = 0x04030201;
    expect([...bytes.subarray(4, 8)]).toEqual([1, 2, 3, 4]); // shared storage, little-endian
    const w = viewAs(bytes, "uint64");
    expect(w).toBeInstanceOf(BigUint64Array);
    expect(w.buffer).toBe(buf);
    expect(w.length).toBe(2);
  });

  it("copies unaligned bytes, with the right values", () => {
    const buf = new ArrayBuffer(20);
    const all = new Uint8Array(buf);
    for (let i = 0; i < all.length; i++) all[i] = i * 7 + 1;
    const bytes = new Uint8Array(buf, 1, 16);
    const dv = new DataView(buf, 1, 16);

    const f = viewAs(bytes, "float32") as Float32Array;
    expect(f.buffer).not.toBe(buf);
    expect(f.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(Object.is(f[i], dv.getFloat32(i * 4, true))).toBe(true);

    const u16 = viewAs(new Uint8Array(buf, 3, 4), "uint16") as Uint16Array;
    expect(u16.buffer).not.toBe(buf);
    expect([...u16]).toEqual([new DataView(buf).getUint16(3, true), new DataView(buf).getUint16(5, true)]);

    const i64 = viewAs(new Uint8Array(buf, 4, 16), "int64") as BigInt64Array;
    expect(i64.buffer).not.toBe(buf);
    expect([...i64]).toEqual([new DataView(buf).getBigInt64(4, true), new DataView(buf).getBigInt64(12, true)]);

    // The copy is independent of the source.
    all[1] ^= 0xff;
    expect(Object.is(f[0], dv.getFloat32(0, true))).toBe(false);
  });

  it("uint8 and int8 always view", () => {
    const buf = new ArrayBuffer(5);
    const b = new Uint8Array(buf, 1, 3);
    expect(viewAs(b, "uint8").buffer).toBe(buf);
    const i8 = viewAs(b, "int8");
    expect(i8.buffer).toBe(buf);
    b[0] = 255;
    expect(i8[0]).toBe(-1);
  });

  it("rejects byte counts that are not a whole number of values", () => {
    expectCode(() => viewAs(new Uint8Array(7), "uint32"), "DECODE_FAILED");
    expectCode(() => viewAs(new Uint8Array(12), "float64"), "DECODE_FAILED");
    expectCode(() => viewAs(new Uint8Array(3), "int16"), "DECODE_FAILED");
    expect(viewAs(new Uint8Array(0), "uint64").length).toBe(0);
  });

  it("rejects unknown data types with INVALID_ARGUMENT", () => {
    expectCode(() => viewAs(new Uint8Array(8), "complex64" as DataType), "INVALID_ARGUMENT");
  });
});

describe("dtypeOfArray / bytesOf", () => {
  it("maps constructors back to names", () => {
    for (const name of DATA_TYPES) expect(dtypeOfArray(new (dtypeInfo(name).ctor)(2))).toBe(name);
    expectCode(() => dtypeOfArray(new Uint8ClampedArray(2) as never), "INVALID_ARGUMENT");
  });

  it("bytesOf is a view of exactly the array's bytes", () => {
    const buf = new ArrayBuffer(32);
    const a = new Uint16Array(buf, 6, 3);
    a.set([0x0102, 0x0304, 0x0506]);
    const b = bytesOf(a);
    expect(b.buffer).toBe(buf);
    expect(b.byteOffset).toBe(6);
    expect([...b]).toEqual([2, 1, 4, 3, 6, 5]);
  });

  it("host is little-endian", () => {
    expect(HOST_IS_LITTLE_ENDIAN).toBe(true);
  });
});
