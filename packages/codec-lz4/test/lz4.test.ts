import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, type ByteCodecGolden } from "@cloudvolume/testing";
import { lz4, lz4Codec, lz4Compress, lz4CompressBlock, lz4DecodeBlock, lz4Decompress } from "@cloudvolume/codec-lz4";
import { NO_PYTHON_REASON, PYTHON_NUMCODECS, pyDecode, pyEncode } from "./python.js";

const golden: ByteCodecGolden[] = hasFixture("thirdparty_zarr2_from_zarr_python")
  ? [{
      name: "thirdparty 1d.contiguous.lz4.i2/0 (zarr-python + numcodecs)",
      encoded: new Uint8Array(readFileSync(join(fixturePath("thirdparty_zarr2_from_zarr_python"), "data.zarr", "1d.contiguous.lz4.i2", "0"))),
      decoded: new Uint8Array(new Int16Array([1, 2, 3, 4]).buffer),
    }]
  : [];

describeByteCodec("lz4 (numcodecs framing)", () => lz4().load(), { golden });

/** Data with runs, repeats at many distances and noise: exercises long literals, overlapping and far matches. */
function mixed(n: number, seed: number): Uint8Array {
  const r = randomTestBytes(n, seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const kind = r[i] % 4;
    const len = Math.min(n - i, 1 + ((r[(i + 1) % n] << 4) % 3000));
    if (kind === 0) out.fill(r[(i + 2) % n], i, i + len);
    else if (kind === 1 && i > 70000) out.copyWithin(i, i - 65535, i - 65535 + len);
    else if (kind === 2 && i > 10) for (let k = 0; k < len; k++) out[i + k] = out[i + k - 3];
    else out.set(r.subarray(i, i + len), i);
    i += len;
  }
  return out;
}

describe("lz4 specifics", () => {
  it("found the zarr-python lz4 chunk", () => expect(golden.length).toBe(1));

  it("plugin descriptor is metadata-only and loads the codec", async () => {
    expect(lz4()).toMatchObject({ kind: "compression", names: ["lz4"], package: "@cloudvolume/codec-lz4" });
    expect(await lz4().load()).toBe(lz4Codec);
  });

  it("the frame is a little-endian size and one block, and the block decodes on its own", async () => {
    const data = mixed(300_000, 9);
    const framed = await lz4Compress(data);
    expect(framed[0] | (framed[1] << 8) | (framed[2] << 16) | (framed[3] << 24)).toBe(data.length);
    const block = await lz4CompressBlock(data);
    expect(block).toEqual(framed.subarray(4));
    const out = new Uint8Array(data.length);
    expect(lz4DecodeBlock(block, out)).toBe(data.length);
    expect(out).toEqual(data);
  });

  it("a size header that disagrees with the block, or a corrupt offset, is DECODE_FAILED naming the key", async () => {
    const framed = await lz4Compress(mixed(50_000, 2));
    const bigger = framed.slice();
    bigger[0] ^= 1;
    for (const [what, bytes] of [["size header off by one", bigger], ["size header huge", Uint8Array.of(0xff, 0xff, 0xff, 0x70, 0)]] as const) {
      const err = (() => { try { lz4Decompress(bytes, "c/0.0.0"); } catch (e) { return e; } })();
      expect(isCloudVolumeError(err, "DECODE_FAILED"), what).toBe(true);
      expect((err as { key?: string }).key).toBe("c/0.0.0");
    }
    // Offsets pointing before the start of the output.
    const bad = Uint8Array.of(8, 0, 0, 0, 0x10, 0x41, 0x09, 0x00, 0x40, 0x41);
    expect(() => lz4Decompress(bad, "k")).toThrow(/offset/);
  });

  it.skipIf(!PYTHON_NUMCODECS)(`numcodecs (Python) decodes ours and we decode its (${PYTHON_NUMCODECS ? "python3-numcodecs" : NO_PYTHON_REASON})`, async () => {
    // Not the empty buffer: numcodecs 0.11 cannot decode its own encoding of b"" (LZ4_decompress_safe into 0 bytes fails).
    for (const [i, data] of [Uint8Array.of(7), mixed(200_000, 5), randomTestBytes(70_000, 6)].entries()) {
      for (const acceleration of [1, 8]) {
        const cfg = { id: "lz4", acceleration };
        const ours = await lz4Codec.encode(data, { params: cfg });
        expect(pyDecode(cfg, ours), `sample ${i}: numcodecs decodes ours`).toEqual(data);
        const theirs = pyEncode(cfg, data);
        expect(await lz4Codec.decode(theirs, { key: `py/${i}` }), `sample ${i}: we decode numcodecs'`).toEqual(data);
        // Same compressor (liblz4's LZ4_compress_fast) in another release: not byte-identical, about as small.
        expect(ours.byteLength, `sample ${i}: size vs numcodecs' at acceleration ${acceleration}`).toBeLessThan(theirs.byteLength * 1.05 + 16);
      }
    }
  });
});
