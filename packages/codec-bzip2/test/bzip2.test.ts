import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, type ByteCodecGolden } from "@cloudvolume/testing";
import { bzip2, bzip2Codec } from "@cloudvolume/codec-bzip2";
import { bzip2 as webBzip2 } from "../src/index.js";
import { NO_PYTHON_REASON, PYTHON_NUMCODECS, pyDecode, pyEncode } from "./python.js";

/**
 * tensorstore's committed n5 testdata (written by zarr-python's N5Store with numcodecs'
 * BZ2): each block is an n5 header (mode, ndim, dims: 2 + 2 + 4*ndim bytes) and the
 * bzip2 stream of the data; the raw dataset holds the same blocks uncompressed.
 */
function goldens(): ByteCodecGolden[] {
  const name = "thirdparty_n5_tensorstore_testdata";
  if (!hasFixture(name)) return [];
  return ["0/0", "0/1", "1/0", "1/1"].map((b) => {
    const enc = readFileSync(join(fixturePath(name), "bzip2", b));
    const raw = readFileSync(join(fixturePath(name), "raw", b));
    const header = 4 + 4 * raw.readUInt16BE(2);
    return { name: `n5 bzip2/${b}`, encoded: new Uint8Array(enc.subarray(header)), decoded: new Uint8Array(raw.subarray(header)) };
  });
}
const golden = goldens();

describeByteCodec("bzip2 (libbzip2 WebAssembly)", () => bzip2().load(), { golden });

describe("bzip2 specifics", () => {
  it("found the 4 n5 bzip2 blocks", () => expect(golden.length).toBe(4));

  it("plugin descriptors answer to bzip2 and bz2 and are metadata-only", async () => {
    for (const p of [bzip2(), webBzip2()]) expect(p).toMatchObject({ kind: "compression", names: ["bzip2", "bz2"], package: "@cloudvolume/codec-bzip2" });
    expect(await bzip2().load()).toBe(bzip2Codec);
  });

  it("levels are block sizes: params.level (zarr's bz2 config) is honoured and written in the header", async () => {
    const data = randomTestBytes(300_000, 3).map((b) => b & 0x3f);
    const l1 = await bzip2Codec.encode(data, { params: { id: "bz2", level: 1 } });
    const l9 = await bzip2Codec.encode(data);
    expect(String.fromCharCode(...l1.subarray(0, 4))).toBe("BZh1");
    expect(String.fromCharCode(...l9.subarray(0, 4))).toBe("BZh9");
    expect(await bzip2Codec.decode(l1)).toEqual(data);
    await expect(Promise.resolve().then(() => bzip2Codec.encode(data, { level: 0 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("output larger than the first guess (a highly compressible 8 MiB) decodes by growing", async () => {
    const data = new Uint8Array(8 << 20).fill(7);
    const enc = await bzip2Codec.encode(data);
    expect(enc.byteLength).toBeLessThan(1000);
    const back = await bzip2Codec.decode(enc);
    expect(back.byteLength).toBe(data.byteLength);
    expect(back.every((v) => v === 7)).toBe(true); // (toEqual on 8 MiB is slow in vitest)
  });

  it.skipIf(!PYTHON_NUMCODECS)(`numcodecs' BZ2 (Python) decodes ours and we decode its (${PYTHON_NUMCODECS ? "python3-numcodecs" : NO_PYTHON_REASON})`, async () => {
    for (const [i, data] of [new Uint8Array(0), Uint8Array.of(1), randomTestBytes(100_000, 4).map((b) => b & 0x0f)].entries()) {
      const cfg = { id: "bz2", level: 5 };
      expect(pyDecode(cfg, await bzip2Codec.encode(data, { params: cfg })), `sample ${i}`).toEqual(data);
      expect(await bzip2Codec.decode(pyEncode(cfg, data)), `sample ${i}`).toEqual(data);
    }
  });
});
