import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import jpegjs from "jpeg-js";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ArrayCodec, type ChunkSpec, type Vec3 } from "@cloudvolume/core";
import { describeArrayCodec, fixturePath, hasFixture, readGroundTruth, voxelRmse, type ArrayCodecGolden } from "@cloudvolume/testing";
// The package name resolves to the Node entry (src/node.ts) under vitest, as under Node.
import { DEFAULT_JPEG_QUALITY, createJpegCodec, jpeg, jpegBackend, jpegCodec, jpegWasmCodec, readJpegFrame } from "@cloudvolume/codec-jpeg";
import { jpeg as webJpeg, jpegCodec as webJpegCodec } from "../src/index.js";

/** Cut the box [x0,x1) x [y0,y1) x [z0,z1), all channels, out of a Fortran-order volume. */
function cut(vol: Uint8Array, shape: number[], box: number[]): Uint8Array {
  const [X, Y, Z] = shape;
  const C = shape[3] ?? 1;
  const [x0, x1, y0, y1, z0, z1] = box;
  const w = x1 - x0;
  const out = new Uint8Array(w * (y1 - y0) * (z1 - z0) * C);
  let o = 0;
  for (let c = 0; c < C; c++)
    for (let z = z0; z < z1; z++)
      for (let y = y0; y < y1; y++) {
        const start = ((c * Z + z) * Y + y) * X + x0;
        out.set(vol.subarray(start, start + w), o);
        o += w;
      }
  return out;
}

interface FixtureChunk extends ArrayCodecGolden {
  /** The same box of another decode of the fixture (CloudVolume's own, or Pillow's). */
  reference?: Uint8Array;
}

/** Every chunk of a CloudVolume jpeg fixture, with its ground truth box and a reference decode. */
function fixtureChunks(name: string, referenceFile: string): FixtureChunk[] {
  if (!hasFixture(name)) return [];
  const dir = fixturePath(name);
  const info = JSON.parse(readFileSync(join(dir, "info"), "utf8"));
  const scale = info.scales[0];
  const gt = readGroundTruth(name);
  const reference = new Uint8Array(readFileSync(join(dir, referenceFile)));
  const out: FixtureChunk[] = [];
  for (const file of readdirSync(join(dir, scale.key)).sort()) {
    const m = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)$/.exec(file);
    if (!m) continue;
    const box = m.slice(1).map(Number);
    const shape: Vec3 = [box[1] - box[0], box[3] - box[2], box[5] - box[4]];
    out.push({
      name: `${name}/${file}`,
      encoded: new Uint8Array(readFileSync(join(dir, scale.key, file))),
      expected: cut(gt.bytes, gt.shape, box),
      reference: cut(reference, gt.shape, box),
      chunk: { shape, channels: info.num_channels, dtype: "uint8", key: `${scale.key}/${file}` },
    });
  }
  return out;
}

const grayChunks = fixtureChunks("pc_image_u8_jpeg", "decoded_by_reference.bin");
// decoded_by_reference.bin of the RGB fixture is CloudVolume's mis-decode (see its
// expected.json WARNING); Pillow's decode, laid out correctly, is the reference.
const rgbChunks = fixtureChunks("pc_image_rgb_jpeg", "decoded_by_pillow_as2d_inverse.bin");
const goldens: ArrayCodecGolden[] = [...grayChunks, ...rgbChunks].map(({ reference: _, ...g }) => g);

/**
 * Smooth pictures: JPEG is built for them, and full-range random voxels are its worst case
 * (RMSE 6-29 at quality 85 on the suite's shapes). A different phase per channel and per
 * seed keeps a swapped or scrambled channel far outside the bound.
 */
function smoothVoxels(chunk: ChunkSpec, seed: number): Uint8Array {
  const [X, Y, Z] = chunk.shape;
  const n = X * Y * Z;
  const out = new Uint8Array(n * chunk.channels);
  const phase = (seed % 1000) / 100;
  for (let c = 0; c < chunk.channels; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          const v = 128 + 70 * Math.sin(x / 9 + 2 * c + z / 5 + phase) * Math.cos(y / 12 - c) + 30 * Math.sin((x + y) / 14 + z / 4);
          out[c * n + x + X * (y + Y * z)] = Math.round(v);
        }
  return out;
}

describeArrayCodec("jpeg (smooth voxels)", () => jpeg().load(), { dtypes: ["uint8"], channels: [1, 3], maxRmse: 3, makeVoxels: smoothVoxels, golden: goldens });
// Full-range random voxels, loose bound: extremes survive, and a channel mix-up (RMSE ~100) would not pass.
describeArrayCodec("jpeg (random voxels, quality 95)", () => jpeg().load(), { dtypes: ["uint8"], channels: [1, 3], maxRmse: 40, params: { jpeg_quality: 95 } });

function maxAbs(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** SOF fields plus each component's sampling factors. */
function frameInfo(file: Uint8Array): { marker: number; components: number; sampling: number[] } {
  const f = readJpegFrame(file);
  let pos = 2;
  for (;;) {
    while (file[pos] === 0xff) pos++;
    const marker = file[pos++];
    const length = (file[pos] << 8) | file[pos + 1];
    if (marker === f.marker) {
      const sampling = [];
      for (let k = 0; k < f.components; k++) sampling.push(file[pos + 9 + 3 * k]);
      return { marker, components: f.components, sampling };
    }
    pos += length;
  }
}

async function decodeError(codec: ArrayCodec, bytes: Uint8Array, chunk: ChunkSpec): Promise<CloudVolumeErrorLike> {
  try {
    await codec.decode(bytes, chunk);
  } catch (err) {
    return err as CloudVolumeErrorLike;
  }
  throw new Error("decode returned normally");
}
type CloudVolumeErrorLike = Error & { code?: string; key?: string };

describe("jpeg specifics", () => {
  it("found the CloudVolume fixtures: 8 gray chunks and 1 RGB chunk", () => {
    expect(grayChunks.length).toBe(8);
    expect(rgbChunks.length).toBe(1);
  });

  it("plugin descriptors are metadata-only and load their codec", async () => {
    for (const [p, codec] of [
      [jpeg(), jpegCodec],
      [webJpeg(), webJpegCodec],
    ] as const) {
      expect(p).toMatchObject({ kind: "codec", names: ["jpeg"], package: "@cloudvolume/codec-jpeg" });
      expect(await p.load()).toBe(codec);
      expect(codec.name).toBe("jpeg");
    }
  });

  it("gray fixture: bit-exact with CloudVolume's own decode (simplejpeg), RMSE < 3 vs ground truth", async () => {
    for (const g of grayChunks) {
      const ours = await jpegCodec.decode(g.encoded, g.chunk);
      expect(maxAbs(ours, g.reference!), `${g.name} vs CloudVolume's decode`).toBe(0);
      expect(voxelRmse(ours, g.expected, "uint8"), g.name).toBeLessThan(3);
    }
  });

  it("RGB fixture: bit-exact with Pillow's decode laid out as CloudVolume wrote it, RMSE < 3 vs ground truth", async () => {
    const [g] = rgbChunks;
    const ours = await jpegCodec.decode(g.encoded, g.chunk);
    expect(maxAbs(ours, g.reference!)).toBe(0);
    expect(voxelRmse(ours, g.expected, "uint8")).toBeLessThan(3);
    // CloudVolume's decoded_by_reference.bin reads the interleaved picture as planar: far off.
    const cvDecode = new Uint8Array(readFileSync(join(fixturePath("pc_image_rgb_jpeg"), "decoded_by_reference.bin")));
    expect(voxelRmse(cvDecode, g.expected, "uint8")).toBeGreaterThan(50);
  });

  it("cross-implementation: our encodes of the ground truth decode in jpeg-js within RMSE 3", async () => {
    for (const g of [...grayChunks, ...rgbChunks]) {
      const ours = await jpegCodec.encode!(g.expected, g.chunk);
      const img = jpegjs.decode(ours, { useTArray: true, formatAsRGBA: true });
      const [X, Y, Z] = g.chunk.shape;
      const n = X * Y * Z;
      expect([img.width, img.height]).toEqual([X, Y * Z]);
      const planar = new Uint8Array(n * g.chunk.channels);
      for (let c = 0; c < g.chunk.channels; c++) for (let p = 0; p < n; p++) planar[c * n + p] = img.data[p * 4 + c];
      expect(voxelRmse(planar, g.expected, "uint8"), g.name).toBeLessThan(3);
    }
  });

  it("writes baseline JPEG: grayscale for 1 channel, YCbCr 4:4:4 for 3 (simplejpeg's default, as in the RGB fixture)", async () => {
    const [gray] = grayChunks;
    const [rgb] = rgbChunks;
    expect(frameInfo(await jpegCodec.encode!(gray.expected, gray.chunk))).toEqual({ marker: 0xc0, components: 1, sampling: [0x11] });
    expect(frameInfo(await jpegCodec.encode!(rgb.expected, rgb.chunk))).toEqual({ marker: 0xc0, components: 3, sampling: [0x11, 0x11, 0x11] });
    expect(frameInfo(rgb.encoded)).toEqual({ marker: 0xc0, components: 3, sampling: [0x11, 0x11, 0x11] });
  });

  it(`jpeg_quality: default ${DEFAULT_JPEG_QUALITY} like CloudVolume; higher is larger and closer; bad values are INVALID_ARGUMENT`, async () => {
    const g = grayChunks[3];
    const at = async (q?: number) => {
      const chunk = { ...g.chunk, params: q === undefined ? {} : { jpeg_quality: q } };
      const bytes = await jpegCodec.encode!(g.expected, chunk);
      return { bytes, rmse: voxelRmse(await jpegCodec.decode(bytes, chunk), g.expected, "uint8") };
    };
    expect((await at()).bytes).toEqual((await at(85)).bytes);
    const [q50, q95] = [await at(50), await at(95)];
    expect(q95.bytes.byteLength).toBeGreaterThan(q50.bytes.byteLength);
    expect(q95.rmse).toBeLessThan(q50.rmse);
    for (const bad of [0, 101, 85.5, "85"]) {
      await expect(Promise.resolve().then(() => jpegCodec.encode!(g.expected, { ...g.chunk, params: { jpeg_quality: bad } }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("a picture of the wrong size, component count or precision is DECODE_FAILED naming the key", async () => {
    const g = grayChunks[0]; // 32x32x16 gray: a 32x512 picture
    const cases: [Partial<ChunkSpec>, Uint8Array, RegExp][] = [
      [{ shape: [32, 16, 16] }, g.encoded, /32x512 pixels, the chunk needs 32x256/],
      [{ channels: 3 }, g.encoded, /1 colour component\(s\), the layer has 3/],
      [{}, withPrecision(g.encoded, 12), /12-bit samples/],
    ];
    for (const [over, bytes, message] of cases) {
      const err = await decodeError(jpegCodec, bytes, { ...g.chunk, ...over });
      expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
      expect(err.key).toBe(g.chunk.key);
      expect(err.message).toMatch(message);
    }
  });

  it("a cut-short scan that still ends in FF D9 is DECODE_FAILED with libjpeg's warning, not gray voxels", async () => {
    const g = grayChunks[2];
    const bytes = new Uint8Array([...g.encoded.subarray(0, Math.floor(g.encoded.byteLength * 0.6)), 0xff, 0xd9]);
    const err = await decodeError(jpegCodec, bytes, g.chunk);
    expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
    expect(err.message).toMatch(/libjpeg: .*(Corrupt|Premature)/);
    // ...and the codec still works afterwards.
    expect(await jpegCodec.decode(g.encoded, g.chunk)).toEqual(g.reference);
  });

  it("errors thrown inside the WebAssembly decoder are DECODE_FAILED, and the next decodes still work", async () => {
    const g = grayChunks[4];
    const bad = bogusHuffmanTable(g.encoded);
    for (let i = 0; i < 25; i++) {
      const err = await decodeError(jpegWasmCodec, bad, g.chunk);
      expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
      expect(err.message).toMatch(/libjpeg rejected the data: .*Huffman/);
      expect(err.cause).toBeDefined();
    }
    expect(await jpegWasmCodec.decode(g.encoded, g.chunk)).toEqual(g.reference);
  });

  it("unsupported dtypes, channel counts and oversized pictures are INVALID_ARGUMENT", async () => {
    const bytes = grayChunks[0].encoded;
    for (const over of [{ dtype: "uint16" }, { dtype: "float32" }, { channels: 2 }, { channels: 4 }, { shape: [64, 256, 257] }] as Partial<ChunkSpec>[]) {
      const chunk: ChunkSpec = { shape: [32, 32, 16], channels: 1, dtype: "uint8", key: "k/x", ...over };
      const err = await decodeError(jpegCodec, bytes, chunk);
      expect(isCloudVolumeError(err, "INVALID_ARGUMENT"), String(err)).toBe(true);
      expect(err.key).toBe("k/x");
      await expect(Promise.resolve().then(() => jpegCodec.encode!(new Uint8Array(16), chunk))).rejects.toMatchObject({ code: "INVALID_ARGUMENT", key: "k/x" });
    }
  });

  it("an out buffer of the wrong size and voxels of the wrong length are INVALID_ARGUMENT", async () => {
    const g = grayChunks[0];
    await expect(jpegCodec.decode(g.encoded, g.chunk, new Uint8Array(g.expected.byteLength + 1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(jpegCodec.encode!(g.expected.subarray(1), g.chunk)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("without a way to load the .wasm (the browser entry under plain Node) decode is UNAVAILABLE and says what to do", async () => {
    const g = grayChunks[0];
    const err = await decodeError(webJpegCodec, g.encoded, g.chunk);
    expect(isCloudVolumeError(err, "UNAVAILABLE"), String(err)).toBe(true);
    expect(err.message).toMatch(/MozJPEG decoder WebAssembly module/);
    expect(err.message).toMatch(/`node` export condition/);
  });

  it("a failing wasm source is UNAVAILABLE and is retried on the next call", async () => {
    let calls = 0;
    const real = await WebAssembly.compile(readFileSync(new URL(import.meta.resolve("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm"))));
    const codec = createJpegCodec({
      decoder: async () => {
        if (++calls === 1) throw new Error("disk on fire");
        return real;
      },
      hint: "Try again.",
    });
    const g = grayChunks[0];
    const err = await decodeError(codec, g.encoded, g.chunk);
    expect(err).toMatchObject({ code: "UNAVAILABLE" });
    expect(err.message).toMatch(/disk on fire\. Try again\./);
    expect(await codec.decode(g.encoded, g.chunk)).toEqual(g.reference);
    expect(calls).toBe(2);
  });
});

/** A copy of `file` whose SOF0 precision byte says `bits`. */
function withPrecision(file: Uint8Array, bits: number): Uint8Array {
  const out = file.slice();
  let pos = 2;
  for (;;) {
    const marker = out[pos + 1];
    const length = (out[pos + 2] << 8) | out[pos + 3];
    if (marker === 0xc0) {
      out[pos + 4] = bits;
      return out;
    }
    pos += 2 + length;
  }
}

/** A copy of `file` whose first DHT claims 255 codes of length 1: libjpeg's "Bogus Huffman table definition". */
function bogusHuffmanTable(file: Uint8Array): Uint8Array {
  const out = file.slice();
  let pos = 2;
  for (;;) {
    const marker = out[pos + 1];
    const length = (out[pos + 2] << 8) | out[pos + 3];
    if (marker === 0xc4) {
      out[pos + 5] = 255;
      return out;
    }
    pos += 2 + length;
  }
}

describe("public API", () => {
  it("both entries export exactly these names", async () => {
    const names = ["DEFAULT_JPEG_QUALITY", "compileOnce", "createJpegCodec", "jpeg", "jpegBackend", "jpegCodec", "jpegQuality", "jpegWasmCodec", "readJpegFrame"];
    expect(Object.keys(await import("@cloudvolume/codec-jpeg")).sort()).toEqual(names);
    expect(Object.keys(await import("../src/index.js")).sort()).toEqual(names);
  });
});
