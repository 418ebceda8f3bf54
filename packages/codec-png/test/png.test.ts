import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ChunkSpec, type DataType, type Vec3 } from "@cloudvolume/core";
import {
  describeArrayCodec,
  fixturePath,
  hasFixture,
  randomVoxelBytes,
  readGroundTruth,
  type ArrayCodecGolden,
} from "@cloudvolume/testing";
import { DEFAULT_PNG_LEVEL, png, pngCodec } from "@cloudvolume/codec-png";

const FIXTURE = "pc_image_u8_png";

/** Every chunk CloudVolume (pyspng/libspng) wrote, against the same box of the ground truth. */
function cloudVolumeGoldens(): ArrayCodecGolden[] {
  if (!hasFixture(FIXTURE)) return [];
  const info = JSON.parse(readFileSync(join(fixturePath(FIXTURE), "info"), "utf8"));
  const scale = info.scales[0];
  const gt = readGroundTruth(FIXTURE);
  const [X, Y] = gt.shape;
  const dir = join(fixturePath(FIXTURE), scale.key);
  const out: ArrayCodecGolden[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)$/.exec(file);
    if (!m) continue;
    const [x0, x1, y0, y1, z0, z1] = m.slice(1).map(Number);
    const shape: Vec3 = [x1 - x0, y1 - y0, z1 - z0];
    const expected = new Uint8Array(shape[0] * shape[1] * shape[2]);
    let o = 0;
    for (let z = z0; z < z1; z++)
      for (let y = y0; y < y1; y++) {
        const start = (z * Y + y) * X + x0;
        expected.set(gt.bytes.subarray(start, start + shape[0]), o);
        o += shape[0];
      }
    out.push({
      name: `${FIXTURE}/${file}`,
      encoded: new Uint8Array(readFileSync(join(dir, file))),
      expected,
      chunk: { shape, channels: 1, dtype: "uint8", key: `${scale.key}/${file}` },
    });
  }
  return out;
}

/** 16-bit and multi-channel chunks written by libspng and libpng (test/fixtures/generate.py). */
function localGoldens(): ArrayCodecGolden[] {
  const dir = join(import.meta.dirname, "fixtures");
  const cases = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")).cases as {
    name: string;
    shape: Vec3;
    channels: number;
    dtype: DataType;
  }[];
  return cases.map((c) => ({
    name: `libspng/${c.name}`,
    encoded: new Uint8Array(readFileSync(join(dir, `${c.name}.png`))),
    expected: new Uint8Array(readFileSync(join(dir, `${c.name}.bin`))),
    chunk: { shape: c.shape, channels: c.channels, dtype: c.dtype, key: `fixtures/${c.name}` },
  }));
}

const cvGoldens = cloudVolumeGoldens();
const goldens = [...cvGoldens, ...localGoldens()];

describeArrayCodec("png", () => png().load(), { dtypes: ["uint8", "uint16"], channels: [1, 2, 3, 4], golden: goldens });
describeArrayCodec("png (png_level 0)", () => png().load(), { dtypes: ["uint8", "uint16"], channels: [3], params: { png_level: 0 } });

/** The IHDR fields and the inflated, unfiltered scanlines of a PNG we wrote (filter type 0 only). */
function rawScanlines(file: Uint8Array): { width: number; height: number; depth: number; colourType: number; rows: Uint8Array[] } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colourType = 0;
  const idat: Uint8Array[] = [];
  while (pos < file.byteLength) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...file.subarray(pos + 4, pos + 8));
    const body = file.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = dv.getUint32(pos + 8);
      height = dv.getUint32(pos + 12);
      depth = body[8];
      colourType = body[9];
    } else if (type === "IDAT") idat.push(body);
    pos += 12 + len;
  }
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  const stride = raw.byteLength / height;
  const rows: Uint8Array[] = [];
  for (let r = 0; r < height; r++) {
    expect(raw[r * stride], "this check reads filter-type-0 rows only").toBe(0);
    rows.push(raw.subarray(r * stride + 1, (r + 1) * stride));
  }
  return { width, height, depth, colourType, rows };
}

async function decodeError(bytes: Uint8Array, chunk: ChunkSpec): Promise<unknown> {
  try {
    await pngCodec.decode(bytes, chunk);
  } catch (err) {
    return err;
  }
  throw new Error("decode returned normally");
}

describe("png specifics", () => {
  it("found the 8 CloudVolume chunks and the 6 libspng/libpng chunks", () => {
    expect(cvGoldens.length).toBe(8);
    expect(goldens.length).toBe(14);
  });

  it("plugin descriptor is metadata-only and loads the codec", async () => {
    const p = png();
    expect(p).toMatchObject({ kind: "codec", names: ["png"], package: "@cloudvolume/codec-png" });
    expect(await p.load()).toBe(pngCodec);
    expect(pngCodec.name).toBe("png");
  });

  it("uint16 samples are big-endian in the file (PNG spec §7.1), numbers in the voxels", async () => {
    const chunk: ChunkSpec = { shape: [2, 1, 1], channels: 1, dtype: "uint16" };
    const voxels = new Uint8Array(new Uint16Array([0x0102, 0xa0b0]).buffer);
    const file = await pngCodec.encode!(voxels, chunk);
    const { depth, colourType, rows } = rawScanlines(file);
    expect([depth, colourType]).toEqual([16, 0]);
    expect([...rows[0]]).toEqual([0x01, 0x02, 0xa0, 0xb0]);
    expect(new Uint16Array((await pngCodec.decode(file, chunk)).slice().buffer)).toEqual(new Uint16Array([0x0102, 0xa0b0]));
  });

  it("the picture is x wide, y*z tall, z slices stacked, channels interleaved (CloudVolume's as2d)", async () => {
    const [X, Y, Z, C] = [3, 2, 2, 3];
    const chunk: ChunkSpec = { shape: [X, Y, Z], channels: C, dtype: "uint8" };
    const n = X * Y * Z;
    // voxel (x, y, z, c) = 100*c + 10*(y + Y*z) + x, Fortran order
    const voxels = new Uint8Array(n * C);
    for (let c = 0; c < C; c++) for (let p = 0; p < n; p++) voxels[c * n + p] = 100 * c + 10 * Math.floor(p / X) + (p % X);
    const { width, height, colourType, rows } = rawScanlines(await pngCodec.encode!(voxels, { ...chunk, params: { png_level: 0 } }));
    expect([width, height, colourType]).toEqual([X, Y * Z, 2]);
    for (let r = 0; r < Y * Z; r++) {
      for (let x = 0; x < X; x++) expect([...rows[r].subarray(x * C, x * C + C)]).toEqual([10 * r + x, 100 + 10 * r + x, 200 + 10 * r + x]);
    }
  });

  it("cross-implementation: our encodes of the CloudVolume ground truth decode in pngjs", async () => {
    for (const g of cvGoldens) {
      const ours = await pngCodec.encode!(g.expected, g.chunk);
      const img = PNG.sync.read(Buffer.from(ours));
      const [X, Y, Z] = g.chunk.shape;
      expect([img.width, img.height]).toEqual([X, Y * Z]);
      // pngjs expands to RGBA; gray lands in R, G and B.
      const gray = new Uint8Array(X * Y * Z);
      for (let p = 0; p < gray.length; p++) gray[p] = img.data[p * 4];
      expect(gray).toEqual(g.expected);
    }
  });

  it("cross-implementation: uint16 and 2-4 channel encodes decode in pngjs", async () => {
    for (const [dtype, channels] of [["uint16", 1], ["uint16", 3], ["uint8", 2], ["uint8", 4], ["uint16", 4]] as const) {
      const chunk: ChunkSpec = { shape: [7, 5, 3], channels, dtype };
      const n = 7 * 5 * 3;
      const voxels = randomVoxelBytes(dtype, n * channels, 17 + channels);
      const img = PNG.sync.read(Buffer.from(await pngCodec.encode!(voxels, chunk)), { skipRescale: true });
      const values = dtype === "uint16" ? new Uint16Array(voxels.slice().buffer) : voxels;
      const data = img.data as unknown as ArrayLike<number>;
      // pngjs outputs RGBA: gray -> R=G=B, gray+alpha -> (g, g, g, a).
      const sample = (p: number, c: number) => data[p * 4 + (channels === 2 && c === 1 ? 3 : c)];
      for (let c = 0; c < channels; c++) for (let p = 0; p < n; p++) {
        if (sample(p, c) !== values[c * n + p]) throw new Error(`${dtype} x${channels}: pixel ${p} channel ${c}: pngjs ${sample(p, c)}, ours ${values[c * n + p]}`);
      }
    }
  });

  it(`png_level picks the zlib level, default ${DEFAULT_PNG_LEVEL} like CloudVolume; bad levels are INVALID_ARGUMENT`, async () => {
    const g = cvGoldens[0];
    const at = async (level?: number) => (await pngCodec.encode!(g.expected, { ...g.chunk, params: level === undefined ? {} : { png_level: level } })).byteLength;
    expect(await at()).toBe(await at(9));
    expect(await at(0)).toBeGreaterThan(g.expected.byteLength);
    expect(await at(9)).toBeLessThan(await at(0));
    for (const bad of [10, -1, 1.5, "9"]) {
      expect(() => pngCodec.encode!(g.expected, { ...g.chunk, params: { png_level: bad } })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("a picture of the wrong size, channel count or bit depth is DECODE_FAILED naming the key", async () => {
    const g = cvGoldens[0]; // 32x32x16 gray uint8
    const cases: [Partial<ChunkSpec>, RegExp][] = [
      [{ shape: [32, 16, 16] }, /32x512 pixels, the chunk needs 32x256/],
      [{ shape: [16, 32, 32] }, /32x512 pixels, the chunk needs 16x1024/],
      [{ channels: 3 }, /1 channel\(s\) \(gray\), the layer has 3/],
      [{ dtype: "uint16" }, /8-bit samples, uint16 needs 16-bit/],
    ];
    for (const [over, message] of cases) {
      const chunk = { ...g.chunk, ...over };
      const err = await decodeError(g.encoded, chunk);
      expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
      expect(err).toMatchObject({ key: g.chunk.key });
      expect((err as Error).message).toMatch(message);
    }
  });

  it("a palette PNG is DECODE_FAILED (sample values, not colour indices, are the data)", async () => {
    // fast-png is a dependency of the codec itself; here it only writes the test input.
    const { encode } = await import("fast-png");
    const paletted = encode({ width: 2, height: 2, data: new Uint8Array([0, 1, 1, 0]), depth: 8, channels: 1, palette: [[0, 0, 0], [255, 255, 255]] });
    const err = await decodeError(paletted, { shape: [2, 2, 1], channels: 1, dtype: "uint8", key: "k/pal" });
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect((err as Error).message).toMatch(/palette/);
  });

  it("one flipped byte inside the compressed data is DECODE_FAILED (CRC), not wrong voxels", async () => {
    const g = cvGoldens[1];
    const bad = g.encoded.slice();
    bad[60] ^= 0x10; // inside IDAT: 8 signature + 25 IHDR + 8 IDAT header = 41
    const err = await decodeError(bad, g.chunk);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err).toMatchObject({ key: g.chunk.key });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it("unsupported dtypes and channel counts are INVALID_ARGUMENT, for decode and encode", async () => {
    const bytes = cvGoldens[0].encoded;
    for (const over of [{ dtype: "float32" }, { dtype: "uint32" }, { dtype: "int16" }, { channels: 5 }, { channels: 0 }] as Partial<ChunkSpec>[]) {
      const chunk: ChunkSpec = { shape: [4, 4, 2], channels: 1, dtype: "uint8", key: "k/x", ...over };
      const err = await decodeError(bytes, chunk);
      expect(isCloudVolumeError(err, "INVALID_ARGUMENT"), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/png decode of k\/x/);
      expect(() => pngCodec.encode!(new Uint8Array(1024), chunk)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", key: "k/x" }));
    }
  });

  it("an out buffer of the wrong size and voxels of the wrong length are INVALID_ARGUMENT", async () => {
    const g = cvGoldens[0];
    expect(() => pngCodec.decode(g.encoded, g.chunk, new Uint8Array(g.expected.byteLength - 1))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => pngCodec.encode!(g.expected.subarray(1), g.chunk)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("uint16 decodes into an odd-offset out buffer", async () => {
    const g = goldens.find((x) => x.chunk.dtype === "uint16")!;
    const backing = new Uint8Array(g.expected.byteLength + 1);
    const out = backing.subarray(1);
    expect(await pngCodec.decode(g.encoded, g.chunk, out)).toBe(out);
    expect(out).toEqual(g.expected);
  });
});

describe("public API", () => {
  it("both entries export exactly these names", async () => {
    const names = ["DEFAULT_PNG_LEVEL", "fastPngCodec", "png", "pngBackend", "pngCodec", "pngLevel"];
    expect(Object.keys(await import("@cloudvolume/codec-png")).sort()).toEqual(names);
    expect(Object.keys(await import("../src/index.js")).sort()).toEqual(names);
  });
});
