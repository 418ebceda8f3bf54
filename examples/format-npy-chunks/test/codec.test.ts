import { describe, expect, it } from "vitest";
import { DATA_TYPES, dtypeInfo, isCloudVolumeError, type ChunkSpec, type DataType } from "@cloudvolume/core";
import { NPY_DESCR, npyCodec, npyHeaderBytes } from "../src/index.js";

/** Latin-1 string -> bytes (test inputs are built as strings, byte per character). */
const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};

/** An NPY file put together by hand: preamble, `dict` padded to 64 with spaces and "\n", then `data`. */
function handMade(dict: string, data: Uint8Array, o: { magic?: string; major?: number; minor?: number; align?: number; terminator?: string } = {}): Uint8Array {
  const align = o.align ?? 64;
  const terminator = o.terminator ?? "\n";
  const total = Math.ceil((10 + dict.length + terminator.length) / align) * align;
  const hlen = total - 10;
  const text = dict + " ".repeat(hlen - dict.length - terminator.length) + terminator;
  const pre = bytesOf((o.magic ?? "\x93NUMPY") + String.fromCharCode(o.major ?? 1, o.minor ?? 0, hlen & 0xff, hlen >> 8));
  return concat(pre, bytesOf(text), data);
}

const spec = (dtype: DataType, shape: [number, number, number], channels = 1, key = `c/1.2.3.npy`): ChunkSpec => ({ dtype, shape, channels, key });
const voxels = (c: ChunkSpec) => Uint8Array.from({ length: c.shape[0] * c.shape[1] * c.shape[2] * c.channels * dtypeInfo(c.dtype).bytes }, (_, i) => (i * 37 + 11) & 0xff);

async function expectDecodeFailed(bytes: Uint8Array, chunk: ChunkSpec, message?: RegExp | string): Promise<void> {
  let err: unknown;
  try {
    await npyCodec.decode(bytes, chunk);
  } catch (e) {
    err = e;
  }
  expect(err, "expected DECODE_FAILED, decode succeeded").toBeDefined();
  expect(isCloudVolumeError(err, "DECODE_FAILED"), `expected DECODE_FAILED, got ${String(err)}`).toBe(true);
  const e = err as { key?: string; message: string };
  expect(e.key).toBe(chunk.key);
  expect(e.message).toContain(chunk.key!);
  if (typeof message === "string") expect(e.message).toContain(message);
  else if (message) expect(e.message).toMatch(message);
}

describe("npy header bytes", () => {
  it("uint16 (2, 3, 1, 1): exactly the bytes worked out by hand", async () => {
    // dict: {'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), }  = 64 characters;
    // 10 (preamble) + 64 + 1 ("\n") = 75 -> rounded up to 128: HEADER_LEN = 118 = 0x76,
    // the dict, 53 spaces, "\n"; then 2*3*1*1 uint16 = 12 bytes of data.
    const dict = "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), }";
    expect(dict.length).toBe(64);
    const expected = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, ...bytesOf(dict), ...new Array(53).fill(0x20), 0x0a];
    expect(expected.length).toBe(128);
    const c = spec("uint16", [2, 3, 1]);
    const data = new Uint8Array(new Uint16Array([1, 2, 3, 0x1234, 0xfffe, 0x8000]).buffer);
    const encoded = await npyCodec.encode!(data, c);
    expect([...encoded.subarray(0, 128)]).toEqual(expected);
    // little-endian data right after the header, in the engine's (Fortran) order
    expect([...encoded.subarray(128)]).toEqual([1, 0, 2, 0, 3, 0, 0x34, 0x12, 0xfe, 0xff, 0x00, 0x80]);
    expect(encoded.byteLength).toBe(140);
    expect(npyHeaderBytes("<u2", [2, 3, 1, 1])).toEqual(Uint8Array.from(expected));
    expect([...(await npyCodec.decode(encoded, c))]).toEqual([...data]);
  });

  it("8-bit types use '|u1' and '|i1'; 3 channels and large dims: a 128-byte header", () => {
    // {'descr': '|i1', 'fortran_order': True, 'shape': (128, 128, 64, 3), } = 69 characters -> 128 bytes in all
    const h = npyHeaderBytes(NPY_DESCR.int8, [128, 128, 64, 3]);
    const dict = "{'descr': '|i1', 'fortran_order': True, 'shape': (128, 128, 64, 3), }";
    expect(dict.length).toBe(69);
    expect(h.byteLength).toBe(128);
    expect([h[8], h[9]]).toEqual([118, 0]);
    expect(String.fromCharCode(...h.subarray(10))).toBe(dict + " ".repeat(128 - 10 - 69 - 1) + "\n");
    expect(NPY_DESCR.uint8).toBe("|u1");
    expect(NPY_DESCR.int8).toBe("|i1");
    expect(NPY_DESCR.float64).toBe("<f8");
    expect(NPY_DESCR.int64).toBe("<i8");
  });

  it("the data of every dtype and shape starts on a 64-byte boundary", async () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [4, 4, 4], [64, 64, 64], [1000, 1000, 1], [123456, 7, 89], [99999999, 99999999, 99999999]];
    for (const dtype of DATA_TYPES) {
      for (const shape of shapes) {
        for (const ch of [1, 2, 1000]) {
          const h = npyHeaderBytes(NPY_DESCR[dtype], [...shape, ch]);
          const what = `${dtype} ${shape.join("x")}x${ch}`;
          expect(h.byteLength % 64, what).toBe(0);
          expect(10 + (h[8] | (h[9] << 8)), what).toBe(h.byteLength);
          expect(h[h.byteLength - 1], what).toBe(0x0a);
        }
      }
      const c = spec(dtype, [3, 5, 7], 2);
      const enc = await npyCodec.encode!(voxels(c), c);
      expect(enc.byteLength - voxels(c).byteLength, dtype).toBe(128);
    }
  });

  it("decodes into `out` and returns it; reads headers padded to 16 bytes (older numpy) and with extra spaces", async () => {
    const c = spec("float32", [2, 2, 2], 1);
    const v = voxels(c);
    const out = new Uint8Array(v.byteLength);
    expect(await npyCodec.decode(await npyCodec.encode!(v, c), c, out)).toBe(out);
    expect([...out]).toEqual([...v]);
    const older = handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2, 1), }", v, { align: 16 });
    expect([...(await npyCodec.decode(older, c))]).toEqual([...v]);
    const spaced = handMade("{ 'shape' : (2,2,2,1) , 'fortran_order':True,'descr':\"<f4\"}", v);
    expect([...(await npyCodec.decode(spaced, c))]).toEqual([...v]);
  });
});

describe("npy decode refuses every malformed file with DECODE_FAILED naming the chunk key", () => {
  const c = spec("uint16", [2, 3, 1], 1, "c/0.4.2.npy");
  const data = voxels(c);
  const dict = "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), }";
  const good = handMade(dict, data);

  it("the hand-made reference file itself decodes", async () => {
    expect([...(await npyCodec.decode(good, c))]).toEqual([...data]);
  });

  it("empty, shorter than the preamble, or the header cut short", async () => {
    await expectDecodeFailed(new Uint8Array(0), c, "too short");
    await expectDecodeFailed(good.slice(0, 9), c, "too short");
    await expectDecodeFailed(good.slice(0, 10), c, /header claims 118 bytes/);
    await expectDecodeFailed(good.slice(0, 100), c, /header claims/);
  });

  it("wrong magic (any of its six bytes) or version other than 1.0", async () => {
    for (let i = 0; i < 6; i++) {
      const b = good.slice();
      b[i] ^= 0x20;
      await expectDecodeFailed(b, c, "magic");
    }
    await expectDecodeFailed(handMade(dict, data, { major: 2 }), c, "version 2.0");
    await expectDecodeFailed(handMade(dict, data, { major: 3 }), c, "version 3.0");
    await expectDecodeFailed(handMade(dict, data, { minor: 1 }), c, "version 1.1");
  });

  it("a header without its final newline, or with a non-ASCII byte", async () => {
    await expectDecodeFailed(handMade(dict, data, { terminator: " " }), c, "does not end with");
    const b = good.slice();
    b[20] = 0xe9;
    await expectDecodeFailed(b, c, "non-printable");
    const nul = good.slice();
    nul[100] = 0;
    await expectDecodeFailed(nul, c, "non-printable");
  });

  it("descr not matching the dtype: other type, big-endian, '<u1' for uint8", async () => {
    for (const d of ["<i2", ">u2", "<u4", "|u1", "<f2", "u2", ""]) {
      await expectDecodeFailed(handMade(dict.replace("<u2", d), data), c, `descr is ${JSON.stringify(d)}`);
    }
    const c8 = spec("uint8", [2, 3, 1], 1, "c/9.9.9.npy");
    const d8 = voxels(c8);
    await expectDecodeFailed(handMade("{'descr': '<u1', 'fortran_order': True, 'shape': (2, 3, 1, 1), }", d8), c8, `expected "|u1"`);
    const ci8 = spec("int8", [2, 3, 1], 1, "c/9.9.8.npy");
    await expectDecodeFailed(handMade("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 1, 1), }", d8), ci8, `expected "|i1"`);
  });

  it("fortran_order False (C order)", async () => {
    await expectDecodeFailed(handMade(dict.replace("True", "False"), data), c, "fortran_order is False");
  });

  it("shape not (x, y, z, channels) of the chunk", async () => {
    for (const shape of ["(2, 3, 1)", "(3, 2, 1, 1)", "(2, 3, 1, 2)", "(2, 3, 1, 1, 1)", "(6,)", "()", "(1, 1, 3, 2)"]) {
      await expectDecodeFailed(handMade(dict.replace("(2, 3, 1, 1)", shape), data), c, "shape is (");
    }
  });

  it("malformed dict: missing, extra or duplicate keys, bad values, trailing text", async () => {
    const bad = [
      "{'descr': '<u2', 'fortran_order': True, }",
      "{'descr': '<u2', 'shape': (2, 3, 1, 1), }",
      "{'fortran_order': True, 'shape': (2, 3, 1, 1), }",
      "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), 'extra': 1, }",
      "{'descr': '<u2', 'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), }",
      "{'descr': '<u2', 'fortran_order': 1, 'shape': (2, 3, 1, 1), }",
      "{'descr': '<u2', 'fortran_order': True, 'shape': [2, 3, 1, 1], }",
      "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, -1, 1), }",
      "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), } x",
      "{'descr': '<u2' 'fortran_order': True, 'shape': (2, 3, 1, 1), }",
      "{'descr': '<u2, 'fortran_order': True, 'shape': (2, 3, 1, 1), }",
      "'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1)",
      "{'descr': '<u2', 'fortran_order': True, 'shape': (2, 3, 1, 1), ",
      "",
    ];
    for (const d of bad) await expectDecodeFailed(handMade(d, data), c);
  });

  it("data one byte short, one byte long, or missing", async () => {
    await expectDecodeFailed(good.slice(0, good.byteLength - 1), c, "truncated file");
    await expectDecodeFailed(concat(good, Uint8Array.of(0)), c, "trailing bytes");
    await expectDecodeFailed(good.slice(0, 128), c, "has 0 bytes of data");
    // the right length for another dtype is still wrong for this one
    await expectDecodeFailed(handMade(dict, data.subarray(0, 6)), c, "expected 12");
  });

  it("every cut of a valid file fails", async () => {
    for (let n = 0; n < good.byteLength; n++) await expectDecodeFailed(good.slice(0, n), c);
  });
});
