import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { byteCodecChecks, describeByteCodec, fixturePath, hasFixture, randomTestBytes, type ByteCodecGolden } from "@cloudvolume/testing";
// The package name resolves to the Node entry (src/node.ts) under vitest, as under Node.
import { gzip, gzipCodec, GZIP_SUFFIX } from "@cloudvolume/codec-gzip";
import { gzip as webGzip, gzipCodec as webGzipCodec } from "../src/index.js";
import { decodeGzipMembers } from "../src/web.js";
import { useLibdeflate } from "../src/libdeflate.js";

/** Every .gz chunk CloudVolume wrote, against the same chunk stored uncompressed by CloudVolume. */
function gzipGoldens(): ByteCodecGolden[] {
  if (!hasFixture("pc_image_u8_raw_gzip") || !hasFixture("pc_image_u8_raw")) return [];
  const dir = join(fixturePath("pc_image_u8_raw_gzip"), "4_4_40");
  const bare = join(fixturePath("pc_image_u8_raw"), "4_4_40");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".gz"))
    .sort()
    .map((f) => ({
      name: `4_4_40/${f}`,
      encoded: new Uint8Array(readFileSync(join(dir, f))),
      decoded: new Uint8Array(readFileSync(join(bare, f.slice(0, -GZIP_SUFFIX.length)))),
    }));
}
const golden = gzipGoldens();

describeByteCodec("gzip (Node entry, async: libdeflate where built, else node:zlib)", () => gzip().load(), { golden });
// The same with libdeflate turned off for each call: node:zlib's path, which must agree.
const zlibOnly: ByteCodec = {
  name: "gzip",
  suffix: ".gz",
  decode: (bytes, opts) => {
    useLibdeflate(false);
    try {
      return gzipCodec.decode(bytes, opts);
    } finally {
      useLibdeflate(true);
    }
  },
  encode: gzipCodec.encode,
};
describeByteCodec("gzip (node:zlib, async)", () => zlibOnly, { golden });
describeByteCodec(
  "gzip (node:zlib, sync)",
  () => ({ name: "gzip", suffix: ".gz", decode: gzipCodec.decodeSync, encode: gzipCodec.encodeSync }) satisfies ByteCodec,
  { golden },
);
describeByteCodec("gzip (Compression Streams)", () => webGzip().load(), { golden });

describe("gzip specifics", () => {
  const data = randomTestBytes(5000, 1).map((b) => b & 0x0f);

  it("found all 8 CloudVolume .gz chunks", () => {
    expect(golden.length).toBe(8);
  });

  it("plugin descriptors are metadata-only and load their codec", async () => {
    for (const [p, codec] of [
      [gzip(), gzipCodec],
      [webGzip(), webGzipCodec],
    ] as const) {
      expect(p).toMatchObject({ kind: "compression", names: ["gzip"], package: "@cloudvolume/codec-gzip" });
      expect(await p.load()).toBe(codec);
      expect(codec).toMatchObject({ name: "gzip", suffix: ".gz" });
    }
  });

  it("node encode defaults to level 9, like CloudVolume", async () => {
    expect(await gzipCodec.encode(data)).toEqual(new Uint8Array(zlib.gzipSync(data, { level: 9 })));
    expect(gzipCodec.encodeSync(data)).toEqual(new Uint8Array(zlib.gzipSync(data, { level: 9 })));
    expect(await gzipCodec.encode(data, { level: 1 })).toEqual(new Uint8Array(zlib.gzipSync(data, { level: 1 })));
  });

  it("cross-implementation: our encodes of the CloudVolume chunks decode in node's zlib", async () => {
    for (const g of golden) {
      for (const codec of [gzipCodec, webGzipCodec]) {
        const ours = await codec.encode(g.decoded);
        expect(new Uint8Array(zlib.gunzipSync(ours))).toEqual(g.decoded);
      }
    }
  });

  it("concatenated members decode fully (RFC 1952 §2.2)", async () => {
    const a = randomTestBytes(3000, 2);
    const b = new TextEncoder().encode("second member");
    const two = new Uint8Array([...zlib.gzipSync(a), ...zlib.gzipSync(b), ...zlib.gzipSync(new Uint8Array(0))]);
    const expected = new Uint8Array([...a, ...b]);
    expect(await gzipCodec.decode(two)).toEqual(expected);
    expect(gzipCodec.decodeSync(two, { decodedSize: 10 })).toEqual(expected);
    expect(await webGzipCodec.decode(two)).toEqual(expected);
  });

  it("member splitting works with a one-member-only decoder (as browsers have)", async () => {
    // A strict decoder like a browser's DecompressionStream: inflate one member and
    // reject anything after its trailer. Node's gzip writes a 10-byte header (FLG = 0).
    let calls = 0;
    const strict = async (m: Uint8Array): Promise<Uint8Array> => {
      calls++;
      const r = zlib.inflateRawSync(m.subarray(10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      if (10 + r.engine.bytesWritten + 8 !== m.byteLength) throw new TypeError("Junk found after end of compressed data.");
      return new Uint8Array(r.buffer);
    };
    const parts = [randomTestBytes(2000, 3), new Uint8Array(0), new Uint8Array(300).fill(7), randomTestBytes(10, 4)];
    const stream = new Uint8Array(parts.flatMap((p) => [...zlib.gzipSync(p)]));
    const expected = new Uint8Array(parts.flatMap((p) => [...p]));
    expect(await decodeGzipMembers(stream, strict)).toEqual(expected);
    expect(calls).toBeGreaterThan(parts.length);
    // A truncated last member still fails, with the decoder's own error.
    await expect(decodeGzipMembers(stream.subarray(0, stream.byteLength - 3), strict)).rejects.toThrow(TypeError);
  });

  it("trailing zero padding is accepted by the node entry (as by Python's gzip)", async () => {
    const padded = new Uint8Array([...zlib.gzipSync(data), 0, 0, 0, 0]);
    expect(await gzipCodec.decode(padded)).toEqual(data);
  });

  it("decode errors are DECODE_FAILED with the key and the decoder's error as cause", async () => {
    const bad = new Uint8Array(zlib.gzipSync(data)).subarray(0, 40);
    for (const codec of [gzipCodec, webGzipCodec]) {
      const err = await Promise.resolve(codec.decode(bad, { key: "a/b.gz" })).catch((e: unknown) => e);
      expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
      expect(err).toMatchObject({ key: "a/b.gz" });
      expect((err as Error).cause).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("a/b.gz");
    }
  });

  it("an invalid level is INVALID_ARGUMENT", async () => {
    for (const codec of [gzipCodec, webGzipCodec]) {
      await expect(Promise.resolve().then(() => codec.encode(data, { level: 12 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(Promise.resolve().then(() => codec.encode(data, { level: 1.5 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("decoded output is a plain Uint8Array, not a Buffer", async () => {
    const out = await gzipCodec.decode(zlib.gzipSync(data), { decodedSize: data.byteLength });
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
  });
});

/** The byte-codec checks must fail for codecs that break the contract. */
describe("byte-codec conformance checks have teeth", () => {
  const data = new Uint8Array(20000).map((_, i) => (i >> 7) & 0xff);
  const encoded = zlib.gzipSync(data);
  const broken = (decode: ByteCodec["decode"]): ByteCodec => ({ ...gzipCodec, decode });

  it("the real codec passes", async () => {
    await byteCodecChecks.hints(gzipCodec, encoded, data);
    await byteCodecChecks.truncated(gzipCodec, encoded, data.byteLength, "k", "detect");
    await byteCodecChecks.garbage(gzipCodec, "k", "detect");
  });

  it("trusting decodedSize fails the hint check", async () => {
    const c = broken(async (b, o) => (await gzipCodec.decode(b, o)).subarray(0, o?.decodedSize ?? Infinity));
    await expect(byteCodecChecks.hints(c, encoded, data)).rejects.toThrow(/decodedSize/);
  });

  it("swallowing errors fails the truncation check", async () => {
    const c = broken(async (b, o) => Promise.resolve(gzipCodec.decode(b, o)).catch(() => new Uint8Array(0)));
    await expect(byteCodecChecks.truncated(c, encoded, data.byteLength, "k", "detect")).rejects.toThrow(/returned normally/);
  });

  it("DECODE_FAILED without the key fails the garbage check", async () => {
    const c = broken((b) => gzipCodec.decode(b));
    await expect(byteCodecChecks.garbage(c, "k", "detect")).rejects.toThrow(/should name key/);
  });

  it("a raw zlib error fails the garbage check", async () => {
    const c = broken(async (b) => new Uint8Array(zlib.gunzipSync(b)));
    await expect(byteCodecChecks.garbage(c, "k", "detect")).rejects.toThrow(/expected CloudVolumeError DECODE_FAILED/);
  });
});
