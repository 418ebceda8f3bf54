import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isCloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, type ByteCodecGolden } from "@cloudvolume/testing";
// The package name resolves to the Node entry (src/node.ts) under vitest, as under Node.
import { brotli, brotliCodec, BROTLI_SUFFIX, DEFAULT_BROTLI_QUALITY } from "@cloudvolume/codec-brotli";
import { brotli as webBrotli, brotliCodec as webBrotliCodec, brotliDecoderBackend } from "../src/index.js";

/** Every .br chunk CloudVolume wrote, against the same chunk stored uncompressed by CloudVolume. */
function brotliGoldens(): ByteCodecGolden[] {
  if (!hasFixture("pc_image_u8_raw_br") || !hasFixture("pc_image_u8_raw")) return [];
  const dir = join(fixturePath("pc_image_u8_raw_br"), "4_4_40");
  const bare = join(fixturePath("pc_image_u8_raw"), "4_4_40");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".br"))
    .sort()
    .map((f) => ({
      name: `4_4_40/${f}`,
      encoded: new Uint8Array(readFileSync(join(dir, f))),
      decoded: new Uint8Array(readFileSync(join(bare, f.slice(0, -BROTLI_SUFFIX.length)))),
    }));
}
const golden = brotliGoldens();

describeByteCodec("br (node:zlib, async)", () => brotli().load(), { golden, levels: [1, 9, 11] });
describeByteCodec(
  "br (node:zlib, sync)",
  () => ({ name: "br", suffix: ".br", decode: brotliCodec.decodeSync, encode: brotliCodec.encodeSync }) satisfies ByteCodec,
  { golden },
);

/*
 * The web entry's pure-JS fallback, as Chromium (no brotli in DecompressionStream yet)
 * runs it. Node 20 has no brotli stream either, so this is the real fallback path; it
 * cannot encode, so the suite borrows node's encoder for the round trips.
 *
 * Tolerated: the `brotli` package's decoder reports neither where the stream ended
 * nor reading past the end of the input, so a stream cut by one byte (when that byte
 * held only the final empty meta-block) or garbage whose first byte forms a complete
 * empty stream can decode without error. Everything else must still be DECODE_FAILED.
 */
describeByteCodec("br (web entry, pure-JS fallback decoder)", async () => ({ ...(await webBrotli().load()), encode: brotliCodec.encode }), {
  golden,
  truncation: "tolerate",
  garbage: "tolerate",
});

/**
 * A stand-in for a runtime with Compression Streams brotli (Safari, Firefox, Node
 * 24.7+), following the WHATWG semantics: truncated input and bytes after the end of
 * the stream are errors. Other formats go to the real constructor.
 */
function specBrotliStream(kind: "decompress" | "compress", Real: new (f: CompressionFormat) => object): unknown {
  // A plain function, so `new` can hand back the real stream for other formats.
  return function SpecBrotliStream(format: string): object {
    if (format !== "brotli") return new Real(format as CompressionFormat);
    const parts: Uint8Array[] = [];
    return new TransformStream<BufferSource, Uint8Array>({
      transform(chunk) {
        const view = ArrayBuffer.isView(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : new Uint8Array(chunk);
        parts.push(view.slice());
      },
      flush(controller) {
        const all = Buffer.concat(parts);
        if (kind === "compress") return controller.enqueue(new Uint8Array(zlib.brotliCompressSync(all)));
        const r = zlib.brotliDecompressSync(all, { info: true } as zlib.BrotliOptions) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
        if (r.engine.bytesWritten !== all.byteLength) throw new TypeError("Junk found after end of compressed data.");
        // Emit in pieces, as a real stream would.
        for (let o = 0; o < r.buffer.byteLength; o += 65536) controller.enqueue(new Uint8Array(r.buffer.subarray(o, o + 65536)));
      },
    });
  };
}

describe("web entry with native brotli streams", () => {
  beforeAll(() => {
    vi.stubGlobal("DecompressionStream", specBrotliStream("decompress", DecompressionStream));
    vi.stubGlobal("CompressionStream", specBrotliStream("compress", CompressionStream));
  });
  afterAll(() => {
    vi.unstubAllGlobals();
  });

  it("uses the native stream", () => {
    expect(brotliDecoderBackend()).toBe("native:brotli");
  });

  describeByteCodec("br (web entry, DecompressionStream('brotli'))", () => webBrotli().load(), { golden });
});

describe("brotli specifics", () => {
  const data = randomTestBytes(5000, 1).map((b) => b & 0x0f);

  it("found all 8 CloudVolume .br chunks", () => {
    expect(golden.length).toBe(8);
  });

  it("this Node has no brotli stream, so the web tests above ran the pure-JS fallback", () => {
    expect(brotliDecoderBackend()).toBe("brotli.js");
  });

  it("plugin descriptors are metadata-only and load their codec", async () => {
    for (const [p, codec] of [
      [brotli(), brotliCodec],
      [webBrotli(), webBrotliCodec],
    ] as const) {
      expect(p).toMatchObject({ kind: "compression", names: ["br"], package: "@cloudvolume/codec-brotli" });
      expect(await p.load()).toBe(codec);
      expect(codec).toMatchObject({ name: "br", suffix: ".br" });
    }
  });

  it("node encode defaults to quality 5, like CloudFiles", async () => {
    expect(DEFAULT_BROTLI_QUALITY).toBe(5);
    const q5 = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength } });
    expect(await brotliCodec.encode(data)).toEqual(new Uint8Array(q5));
    expect(brotliCodec.encodeSync(data)).toEqual(new Uint8Array(q5));
  });

  it("cross-implementation: our encodes of the CloudVolume chunks decode in node's zlib, and node's in the pure-JS decoder", async () => {
    for (const g of golden) {
      const ours = await brotliCodec.encode(g.decoded, { level: 11 });
      expect(new Uint8Array(zlib.brotliDecompressSync(ours))).toEqual(g.decoded);
      expect(await webBrotliCodec.decode(ours)).toEqual(g.decoded);
    }
  });

  it("bytes after the end of the stream are DECODE_FAILED in the node entry", async () => {
    const junk = new Uint8Array([...zlib.brotliCompressSync(data), 1, 2, 3]);
    const err = await Promise.resolve(brotliCodec.decode(junk, { key: "k.br" })).catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect((err as Error).message).toMatch(/3 byte\(s\) follow the end/);
    expect(() => brotliCodec.decodeSync(junk, { key: "k.br" })).toThrow(expect.objectContaining({ code: "DECODE_FAILED", key: "k.br" }));
  });

  it("the pure-JS fallback decodes multi-meta-block streams when the size is unknown or short", async () => {
    // 3 MiB of mildly compressible bytes: several meta-blocks at quality 1.
    const big = randomTestBytes(3 << 20, 5).map((b) => b & 0x3f);
    const enc = zlib.brotliCompressSync(big, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
    // Buffer.compare, not toEqual: vitest's deep equality takes seconds on 3 MiB.
    expect(Buffer.compare(await webBrotliCodec.decode(enc), big)).toBe(0);
    expect(Buffer.compare(await webBrotliCodec.decode(enc, { decodedSize: 1000 }), big)).toBe(0);
  });

  it("decode errors are DECODE_FAILED with the key and the decoder's error as cause", async () => {
    const bad = new Uint8Array(zlib.brotliCompressSync(randomTestBytes(4000, 2))).subarray(0, 100);
    for (const codec of [brotliCodec, webBrotliCodec]) {
      const err = await Promise.resolve(codec.decode(bad, { key: "a/b.br" })).catch((e: unknown) => e);
      expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
      expect(err).toMatchObject({ key: "a/b.br" });
      expect((err as Error).cause).toBeInstanceOf(Error);
    }
  });

  it("web encode without a native brotli CompressionStream is UNAVAILABLE, naming the fix", async () => {
    const err = await Promise.resolve(webBrotliCodec.encode(data)).catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "UNAVAILABLE")).toBe(true);
    expect((err as Error).message).toMatch(/Node/);
    expect((err as Error).message).toMatch(/CompressionStream\('brotli'\)/);
  });

  it("an invalid quality is INVALID_ARGUMENT", async () => {
    for (const codec of [brotliCodec, webBrotliCodec]) {
      await expect(Promise.resolve().then(() => codec.encode(data, { level: 12 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });
});
