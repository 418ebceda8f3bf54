import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, readGroundTruth, type ByteCodecGolden } from "@cloudvolume/testing";
import { bitShuffle, bitUnshuffle, blosc, bloscCodec, bloscCompress, bloscDecompress, blosclzDecode, blosclzEncode, byteShuffle, byteUnshuffle, readBloscHeader } from "@cloudvolume/codec-blosc";
import { NO_PYTHON_REASON, PYTHON_NUMCODECS, pyBatch, sameBytes } from "./python.js";

/**
 * Blosc buffers numcodecs (c-blosc 1.21, lz4, byte shuffle) wrote: the zarr2_u16_blosc_forder
 * chunks (uint16 (64,64,32), chunks (32,32,16), order F: chunk bytes are Fortran over the
 * zarr index order), the zarr-python testdata's blosc chunks, and tensorstore's n5 blosc
 * blocks (whose raw twins give the decoded bytes).
 */
function goldens(): ByteCodecGolden[] {
  const out: ByteCodecGolden[] = [];
  if (hasFixture("zarr2_u16_blosc_forder")) {
    const gt = readGroundTruth("zarr2_u16_blosc_forder");
    const [A, B, C] = gt.shape;
    const src = new Uint16Array(gt.bytes.slice().buffer);
    for (const [i, j, k] of [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]) {
      const chunk = new Uint16Array(32 * 32 * 16);
      for (let a = 0; a < 32; a++) for (let b = 0; b < 32; b++) for (let c = 0; c < 16; c++) {
        chunk[a + 32 * (b + 32 * c)] = src[(32 * i + a) * B * C + (32 * j + b) * C + (16 * k + c)];
      }
      void A;
      out.push({ name: `zarr2_u16_blosc_forder/${i}.${j}.${k}`, encoded: new Uint8Array(readFileSync(join(fixturePath("zarr2_u16_blosc_forder"), "data.zarr", `${i}.${j}.${k}`))), decoded: new Uint8Array(chunk.buffer) });
    }
  }
  if (hasFixture("thirdparty_zarr2_from_zarr_python")) {
    const dir = join(fixturePath("thirdparty_zarr2_from_zarr_python"), "data.zarr");
    out.push({ name: "thirdparty 1d.contiguous.blosc.i2/0", encoded: new Uint8Array(readFileSync(join(dir, "1d.contiguous.blosc.i2", "0"))), decoded: new Uint8Array(new Int16Array([1, 2, 3, 4]).buffer) });
    out.push({ name: "thirdparty 1d.contiguous.f8/0", encoded: new Uint8Array(readFileSync(join(dir, "1d.contiguous.f8", "0"))), decoded: new Uint8Array(new Float64Array([1.5, 2.5, 3.5, 4.5]).buffer) });
  }
  const n5 = "thirdparty_n5_tensorstore_testdata";
  if (hasFixture(n5)) {
    for (const b of ["0/0", "0/1", "1/0", "1/1"]) {
      const enc = readFileSync(join(fixturePath(n5), "blosc", b));
      const raw = readFileSync(join(fixturePath(n5), "raw", b));
      const header = 4 + 4 * raw.readUInt16BE(2);
      out.push({ name: `n5 blosc/${b}`, encoded: new Uint8Array(enc.subarray(header)), decoded: new Uint8Array(raw.subarray(header)) });
    }
  }
  return out;
}
const golden = goldens();

describeByteCodec("blosc (defaults: lz4, byte shuffle)", () => blosc().load(), { golden });
for (const cname of ["blosclz", "zstd", "zlib", "lz4hc"]) {
  for (const shuffle of [0, 2]) {
    describeByteCodec(`blosc ${cname} shuffle ${shuffle} typesize 4`, () => ({
      name: "blosc", suffix: ".blosc",
      decode: bloscCodec.decode,
      encode: (b, o = {}) => bloscCodec.encode(b, { ...o, params: { cname, shuffle, typesize: 4 } }),
    }));
  }
}

/** Structured data like a volume: smooth values of `typesize`-byte elements with some noise. */
function volumeLike(n: number, typesize: number, seed: number): Uint8Array {
  const noise = randomTestBytes(n, seed);
  const out = new Uint8Array(n * typesize);
  for (let i = 0; i < n; i++) {
    const v = Math.floor(1000 + 500 * Math.sin(i / 300)) + (noise[i] & 3);
    for (let b = 0; b < typesize; b++) out[i * typesize + b] = b < 4 ? (v >>> (8 * b)) & 255 : 0;
  }
  return out;
}

describe("blosc specifics", () => {
  it("found the numcodecs-written buffers", () => expect(golden.length).toBe(10));

  it("headers: what numcodecs wrote for the zarr fixture", () => {
    const h = readBloscHeader(golden[0].encoded);
    expect(h).toMatchObject({ version: 2, typesize: 2, nbytes: 32 * 32 * 16 * 2, compressor: "lz4/lz4hc", shuffle: "byte", memcpyed: false });
  });

  it("shuffles invert, for every type size and ragged lengths", () => {
    for (const typesize of [1, 2, 3, 4, 8, 16, 17]) {
      for (const n of [0, 5, 64, 1000, 4099]) {
        const data = randomTestBytes(n, n + typesize);
        const a = new Uint8Array(n), b = new Uint8Array(n);
        byteShuffle(data, a, typesize);
        byteUnshuffle(a, b, typesize);
        expect(b).toEqual(data);
        bitShuffle(data, a, typesize);
        bitUnshuffle(a, b, typesize);
        expect(b).toEqual(data);
      }
    }
  });

  it("blosclz round-trips on its own and finds matches", () => {
    const data = new Uint8Array(40000);
    byteShuffle(volumeLike(20000, 2, 1), data, 2);
    const enc = blosclzEncode(data, data.length)!;
    expect(enc.byteLength).toBeLessThan(data.length * 0.7);
    const out = new Uint8Array(data.length);
    expect(blosclzDecode(enc, out)).toBe(data.length);
    expect(out).toEqual(data);
  });

  it("typesize comes from params.typesize and selects the split (one stream per byte of the type)", async () => {
    const data = volumeLike(50_000, 4, 2);
    const enc = await bloscCompress(data, { cname: "lz4", clevel: 5, shuffle: 1, typesize: 4 });
    expect(readBloscHeader(enc)).toMatchObject({ typesize: 4, shuffle: "byte" });
    expect(enc[2] & 0x10).toBe(0); // split
    expect(await bloscDecompress(enc)).toEqual(data);
    const zstd = await bloscCompress(data, { cname: "zstd", clevel: 5, shuffle: 1, typesize: 4 });
    expect(zstd[2] & 0x10).toBe(0x10); // zstd never splits (c-blosc 1.21)
  });

  it("a corrupt stream inside a well-formed header is DECODE_FAILED naming the key", async () => {
    const data = volumeLike(50_000, 2, 3);
    for (const cname of ["lz4", "blosclz", "zlib", "zstd"]) {
      const enc = await bloscCompress(data, { cname, typesize: 2 });
      const bad = enc.slice();
      for (let i = 40; i < bad.length; i += 5) bad[i] ^= 0xa5;
      const err = await bloscDecompress(bad, "c/1.2.3").catch((e: unknown) => e);
      // zstd without checksums can decode corrupt literals to the right size; blosc has no checksum either.
      if (err instanceof Uint8Array) {
        expect(cname).toBe("zstd");
        continue;
      }
      expect(isCloudVolumeError(err, "DECODE_FAILED"), `${cname}: ${String(err)}`).toBe(true);
      expect((err as { key?: string }).key).toBe("c/1.2.3");
    }
  });

  it("snappy buffers are refused by name", async () => {
    const enc = await bloscCompress(volumeLike(1000, 2, 4), { cname: "lz4", typesize: 2 });
    enc[2] = (enc[2] & 0x1f) | (2 << 5);
    await expect(bloscDecompress(enc, "k")).rejects.toThrow(/snappy/);
    await expect(Promise.resolve().then(() => bloscCompress(enc, { cname: "snappy" }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  const pyCases: [string, number, string][] = [];
  for (const cname of ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]) for (const shuffle of [0, 1, 2]) for (const dtype of ["u1", "u2", "u8"]) pyCases.push([cname, shuffle, dtype]);
  it.skipIf(!PYTHON_NUMCODECS)(`numcodecs (Python, c-blosc 1.21) decodes ours and we decode its: ${pyCases.length} cname x shuffle x dtype cases (${PYTHON_NUMCODECS ? "python3-numcodecs" : NO_PYTHON_REASON})`, async () => {
    const cases = pyCases.flatMap(([cname, shuffle, dtype]) => {
      const typesize = Number(dtype.slice(1));
      return [volumeLike(70_001, typesize, 5), new Uint8Array(typesize * 3000), randomTestBytes(typesize * 997, 6)].map((data) => ({
        cname, shuffle, dtype, typesize, data, cfg: { id: "blosc", cname, clevel: 5, shuffle, blocksize: 0 }, what: `${cname} shuffle ${shuffle} ${dtype} ${data.length} bytes`,
      }));
    });
    const theirs = pyBatch(cases.map((c) => ({ op: "encode", config: c.cfg, data: c.data, dtype: c.dtype })));
    const ours = await Promise.all(cases.map((c) => bloscCodec.encode(c.data, { params: { ...c.cfg, typesize: c.typesize } })));
    const back = pyBatch(cases.map((c, i) => ({ op: "decode", config: c.cfg, data: ours[i] })));
    for (const [i, c] of cases.entries()) {
      expect(sameBytes(await bloscCodec.decode(theirs[i], { key: c.what }), c.data), `${c.what}: we decode numcodecs'`).toBe(true);
      expect(sameBytes(back[i], c.data), `${c.what}: numcodecs decodes ours`).toBe(true);
      // Same header decisions as c-blosc 1.21: typesize, shuffle flags, split flag, compressor.
      expect(ours[i][2] & 0xf5, `${c.what}: flags (ours ${ours[i][2].toString(16)}, numcodecs ${theirs[i][2].toString(16)})`).toBe(theirs[i][2] & 0xf5);
      expect(ours[i][3], `${c.what}: typesize`).toBe(theirs[i][3]);
    }
  });

  it.skipIf(!PYTHON_NUMCODECS)("numcodecs' explicit block sizes and leftover blocks decode", async () => {
    const data = volumeLike(300_007, 2, 7);
    const cases = [256, 1000, 4096].flatMap((blocksize) => ["lz4", "blosclz", "zlib", "zstd"].map((cname) => ({ blocksize, cname })));
    const theirs = pyBatch(cases.map((c) => ({ op: "encode", config: { id: "blosc", cname: c.cname, clevel: 9, shuffle: 2, blocksize: c.blocksize }, data, dtype: "u2" })));
    for (const [i, c] of cases.entries()) {
      // c-blosc enlarges a forced block size for codecs it splits (to 64 KiB at least); either way: several blocks, a partial last one.
      const h = readBloscHeader(theirs[i]);
      expect(h.nbytes / h.blocksize, `${c.cname}: several blocks`).toBeGreaterThan(2);
      expect(h.nbytes % h.blocksize, `${c.cname}: a leftover block`).not.toBe(0);
      expect(sameBytes(await bloscCodec.decode(theirs[i]), data), `${c.cname} blocksize ${c.blocksize}`).toBe(true);
    }
  });
});
