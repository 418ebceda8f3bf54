import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATA_TYPES, isCloudVolumeError, type ArrayCodec, type ChunkSpec, type DataType, type Vec3, dtypeInfo } from "@cloudvolume/core";
import {
  arrayCodecChecks,
  describeArrayCodec,
  fixturePath,
  hasFixture,
  randomVoxelBytes,
  readGroundTruth,
  type ArrayCodecGolden,
} from "@cloudvolume/testing";
import { raw, rawCodec } from "@cloudvolume/codec-raw";
import { byteswapInPlace } from "@cloudvolume/core";

/**
 * Golden vectors from CloudVolume itself: every bare chunk file of a raw fixture
 * against the same box cut out of the fixture's ground truth (Fortran order).
 */
function rawGoldens(name: string): ArrayCodecGolden[] {
  if (!hasFixture(name)) return [];
  const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
  const scale = info.scales[0];
  const dtype = info.data_type as DataType;
  const channels = info.num_channels as number;
  const width = dtypeInfo(dtype).bytes;
  const gt = readGroundTruth(name);
  const [X, Y, Z] = gt.shape;
  const dir = join(fixturePath(name), scale.key);
  const goldens: ArrayCodecGolden[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)$/.exec(file);
    if (!m) continue;
    const [x0, x1, y0, y1, z0, z1] = m.slice(1).map(Number);
    const shape: Vec3 = [x1 - x0, y1 - y0, z1 - z0];
    const expected = new Uint8Array(shape[0] * shape[1] * shape[2] * channels * width);
    // Ground-truth coordinates are relative to the scale's voxel_offset.
    const [ox, oy, oz] = scale.voxel_offset as number[];
    let o = 0;
    for (let c = 0; c < channels; c++)
      for (let z = z0; z < z1; z++)
        for (let y = y0; y < y1; y++) {
          const start = ((((c * Z + (z - oz)) * Y + (y - oy)) * X) + (x0 - ox)) * width;
          expected.set(gt.bytes.subarray(start, start + shape[0] * width), o);
          o += shape[0] * width;
        }
    const encoded = new Uint8Array(readFileSync(join(dir, file)));
    goldens.push({ name: `${name}/${file}`, encoded, expected, chunk: { shape, channels, dtype, key: `${scale.key}/${file}` } });
  }
  return goldens;
}

const goldens = [
  ...rawGoldens("pc_image_u8_raw"),
  ...rawGoldens("pc_image_u16_raw"),
  ...rawGoldens("pc_image_u8_2ch_raw"),
  ...rawGoldens("pc_float32_raw"),
  ...rawGoldens("pc_image_u8_raw_ragged_offset"),
];

describeArrayCodec("raw", () => raw().load(), { dtypes: DATA_TYPES, channels: [1, 3], golden: goldens });

describe("raw specifics", () => {
  const chunk: ChunkSpec = { shape: [4, 3, 2], channels: 2, dtype: "uint16", key: "8_8_8/0-4_0-3_0-2" };
  const size = 4 * 3 * 2 * 2 * 2;

  it("found the CloudVolume fixtures (ragged edge chunks included)", () => {
    expect(goldens.length).toBeGreaterThanOrEqual(4 * 8 + 18);
    expect(goldens.some((g) => g.chunk.shape[0] === 2)).toBe(true);
  });

  it("decode without out returns the input itself (no copy)", () => {
    const bytes = randomVoxelBytes("uint16", size / 2, 1);
    expect(rawCodec.decode(bytes, chunk)).toBe(bytes);
  });

  it("decode with out copies into out and returns it", () => {
    const bytes = randomVoxelBytes("uint16", size / 2, 2);
    const out = new Uint8Array(size);
    expect(rawCodec.decode(bytes, chunk, out)).toBe(out);
    expect(out).toEqual(bytes);
  });

  it("a wrong length is DECODE_FAILED naming the key and both sizes", () => {
    for (const n of [0, size - 1, size + 1, size / 2]) {
      let err: unknown;
      try {
        rawCodec.decode(new Uint8Array(n), chunk);
      } catch (e) {
        err = e;
      }
      expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
      if (!isCloudVolumeError(err)) return;
      expect(err.key).toBe(chunk.key);
      expect(err.message).toContain(String(n));
      expect(err.message).toContain(`expected ${size} bytes`);
      expect(err.message).toContain(chunk.key!);
    }
  });

  it("encode returns the voxels and rejects a wrong length with INVALID_ARGUMENT", () => {
    const voxels = randomVoxelBytes("uint16", size / 2, 3);
    expect(rawCodec.encode!(voxels, chunk)).toBe(voxels);
    expect(() => rawCodec.encode!(voxels.subarray(1), chunk)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", key: chunk.key }));
  });

  it("an out buffer of the wrong size is INVALID_ARGUMENT, not a silent partial copy", () => {
    expect(() => rawCodec.decode(new Uint8Array(size), chunk, new Uint8Array(size - 2))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("byteswap (big-endian hosts only) reverses each word and is its own inverse", () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...byteswapInPlace(b.slice(), 2)]).toEqual([2, 1, 4, 3, 6, 5, 8, 7]);
    expect([...byteswapInPlace(b.slice(), 4)]).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    expect([...byteswapInPlace(b.slice(), 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect([...byteswapInPlace(byteswapInPlace(b.slice(), 4), 4)]).toEqual([...b]);
    expect(byteswapInPlace(b, 1)).toBe(b);
  });

  it("plugin descriptor is metadata-only and loads the codec", async () => {
    const p = raw();
    expect(p).toMatchObject({ kind: "codec", names: ["raw"], package: "@cloudvolume/codec-raw" });
    expect(await p.load()).toBe(rawCodec);
    expect(rawCodec.name).toBe("raw");
  });
});

/** The conformance checks must fail for codecs that break the contract. */
describe("conformance checks have teeth", () => {
  const chunk: ChunkSpec = { shape: [5, 7, 3], channels: 1, dtype: "uint32", key: "teeth/0-5_0-7_0-3" };
  const voxels = randomVoxelBytes("uint32", 105, 9);
  const lossless = { lossless: true };
  const broken = (over: Partial<ArrayCodec>): ArrayCodec => ({ ...rawCodec, ...over });

  it("the real codec passes", async () => {
    await arrayCodecChecks.roundTrip(rawCodec, { chunk, voxels }, lossless);
    await arrayCodecChecks.truncated(rawCodec, voxels, chunk, "detect");
    await arrayCodecChecks.garbage(rawCodec, chunk);
  });

  it("ignoring `out` fails the round trip", async () => {
    const c = broken({ decode: (b, ch) => rawCodec.decode(b, ch) as Uint8Array });
    await expect(arrayCodecChecks.roundTrip(c, { chunk, voxels }, lossless)).rejects.toThrow(/view of `out`/);
  });

  it("assuming byteOffset 0 fails the round trip", async () => {
    const c = broken({ decode: (b, ch) => new Uint8Array(b.buffer, 0, b.byteLength) });
    await expect(arrayCodecChecks.roundTrip(c, { chunk, voxels }, lossless)).rejects.toThrow();
  });

  it("not checking the length fails the truncation check", async () => {
    const c = broken({ decode: (b) => b });
    await expect(arrayCodecChecks.truncated(c, voxels, chunk, "detect")).rejects.toThrow(/DECODE_FAILED/);
  });

  it("throwing a plain Error fails the garbage check", async () => {
    const c = broken({
      decode: () => {
        throw new RangeError("offset out of bounds");
      },
    });
    await expect(arrayCodecChecks.garbage(c, chunk)).rejects.toThrow(/RangeError/);
  });

  it("DECODE_FAILED without the key fails the truncation check", async () => {
    const c = broken({
      decode: (b, ch) => rawCodec.decode(b, { ...ch, key: undefined }),
    });
    await expect(arrayCodecChecks.truncated(c, voxels, chunk, "detect")).rejects.toThrow(/should name key/);
  });
});
