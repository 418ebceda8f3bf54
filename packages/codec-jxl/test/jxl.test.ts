import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ChunkSpec, type Vec3 } from "@cloudvolume/core";
import { describeArrayCodec, voxelRmse, type ArrayCodecGolden } from "@cloudvolume/testing";
// The package name resolves to the Node entry (src/node.ts) under vitest, as under Node.
import { DEFAULT_JXL_QUALITY, jxl, jxlCodec, readJxlHeader } from "@cloudvolume/codec-jxl";
import { jxl as webJxl, jxlCodec as webJxlCodec } from "../src/index.js";

interface Case {
  name: string;
  shape: Vec3;
  channels: number;
  dtype: "uint8" | "uint16";
  note: string;
  lossy?: boolean;
  unreadable?: boolean;
  libjxl_decode?: string;
}

const FIXTURES = join(import.meta.dirname, "fixtures");
const cases = (JSON.parse(readFileSync(join(FIXTURES, "cases.json"), "utf8")).cases as Case[]).map((c) => ({
  ...c,
  encoded: new Uint8Array(readFileSync(join(FIXTURES, `${c.name}.jxl`))),
  expected: new Uint8Array(readFileSync(join(FIXTURES, `${c.name}.bin`))),
  libjxl: c.libjxl_decode ? new Uint8Array(readFileSync(join(FIXTURES, c.libjxl_decode))) : undefined,
  chunk: { shape: c.shape, channels: c.channels, dtype: c.dtype, key: `fixtures/${c.name}` } as ChunkSpec,
}));
const byName = (name: string) => cases.find((c) => c.name === name)!;

const losslessGoldens: ArrayCodecGolden[] = cases
  .filter((c) => !c.lossy && !c.unreadable)
  .map((c) => ({ name: `libjxl/${c.name}`, encoded: c.encoded, expected: c.expected, chunk: c.chunk }));

/** Smooth pictures with a per-channel, per-seed phase (lossy coding is built for them). */
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

describeArrayCodec("jxl (lossless, the default)", () => jxl().load(), { dtypes: ["uint8"], channels: [1, 3, 4], golden: losslessGoldens });
// Lossy: small pictures with colour are the hard case (RMSE up to ~4.2 at 5x7x3, 4 channels).
describeArrayCodec("jxl (jxl_quality 85, smooth voxels)", () => jxl().load(), {
  dtypes: ["uint8"],
  channels: [1, 3, 4],
  maxRmse: 5,
  params: { jxl_quality: 85 },
  makeVoxels: smoothVoxels,
});

async function decodeError(bytes: Uint8Array, chunk: ChunkSpec, codec = jxlCodec): Promise<Error & { code?: string; key?: string }> {
  try {
    await codec.decode(bytes, chunk);
  } catch (err) {
    return err as Error & { code?: string; key?: string };
  }
  throw new Error("decode returned normally");
}

function maxAbs(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("jxl specifics", () => {
  it("found the 7 libjxl fixtures", () => {
    expect(cases.length).toBe(7);
    expect(losslessGoldens.length).toBe(4);
  });

  it("plugin descriptors are metadata-only and load their codec", async () => {
    for (const [p, codec] of [
      [jxl(), jxlCodec],
      [webJxl(), webJxlCodec],
    ] as const) {
      expect(p).toMatchObject({ kind: "codec", names: ["jxl", "jpegxl"], package: "@cloudvolume/codec-jxl" });
      expect(await p.load()).toBe(codec);
      expect(codec.name).toBe("jxl");
    }
  });

  it("CloudVolume's default (lossy level 85) grey file: decodes as libjxl decodes it", async () => {
    const c = byName("gray_q85");
    const ours = await jxlCodec.decode(c.encoded, c.chunk);
    // The fixture's voxels carry noise (sigma 12), so level 85 loses about as much (RMSE ~4.7)
    // in libjxl's own decode as in ours; what matters is that the two decoders agree.
    const theirs = voxelRmse(c.libjxl!, c.expected, "uint8");
    expect(Math.abs(voxelRmse(ours, c.expected, "uint8") - theirs)).toBeLessThan(0.05);
    expect(maxAbs(ours, c.libjxl!)).toBeLessThanOrEqual(1);
  });

  it("uint16: a libjxl 16-bit grey file decodes exactly; uint16 encode is INVALID_ARGUMENT (the WebAssembly encoder is 8-bit)", async () => {
    const c = byName("gray16_lossless");
    expect(await jxlCodec.decode(c.encoded, c.chunk)).toEqual(c.expected);
    const backing = new Uint8Array(c.expected.byteLength + 1);
    expect(await jxlCodec.decode(c.encoded, c.chunk, backing.subarray(1))).toEqual(c.expected);
    await expect(Promise.resolve().then(() => jxlCodec.encode!(c.expected, c.chunk))).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/writes uint8 voxels only/) });
    const err = await decodeError(byName("gray_lossless").encoded, { ...byName("gray_lossless").chunk, dtype: "uint16" });
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err.message).toMatch(/8-bit integer samples; uint16 chunks are 16-bit pictures/);
  });

  it("header reader agrees with libjxl on every fixture", () => {
    const summary = Object.fromEntries(
      cases.map((c) => {
        const h = readJxlHeader(c.encoded);
        return [c.name, [h.width, h.height, h.bitsPerSample, h.colourChannels, h.extraChannels.length, h.animation]];
      }),
    );
    expect(summary).toEqual({
      gray_lossless: [24, 96, 8, 1, 0, false],
      gray_q85: [24, 96, 8, 1, 0, false],
      gray_lossless_container: [24, 96, 8, 1, 0, false],
      rgb_lossless: [24, 96, 8, 3, 0, false],
      rgba_lossless: [24, 96, 8, 3, 1, false],
      rgb_cloudvolume_planar: [24, 96, 8, 1, 0, true],
      gray16_lossless: [24, 96, 16, 1, 0, false],
    });
  });

  it("header reader handles every SizeHeader form our encoder writes (small, ratio, explicit)", async () => {
    for (const shape of [[16, 16, 1], [24, 16, 1], [8, 4, 4], [7, 5, 1], [1, 1, 1], [300, 2, 1], [5, 7, 3]] as Vec3[]) {
      const chunk: ChunkSpec = { shape, channels: 1, dtype: "uint8" };
      const h = readJxlHeader(await jxlCodec.encode!(new Uint8Array(shape[0] * shape[1] * shape[2]).fill(9), chunk));
      expect([h.width, h.height], shape.join("x")).toEqual([shape[0], shape[1] * shape[2]]);
    }
  });

  it("files CloudVolume writes that we cannot read give DECODE_FAILED saying why", async () => {
    const planar = byName("rgb_cloudvolume_planar");
    expect((await decodeError(planar.encoded, planar.chunk)).message).toMatch(/several frames.*CloudVolume writes 3-channel jpegxl/);
    const g16 = byName("gray16_lossless");
    const err = await decodeError(g16.encoded, { ...g16.chunk, dtype: "uint8" });
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err.message).toMatch(/16-bit integer samples/);
  });

  it("a picture with the wrong size or channels for the layer is DECODE_FAILED naming the key", async () => {
    const rgb = byName("rgb_lossless");
    const grey = byName("gray_lossless");
    const checks: [Uint8Array, ChunkSpec, RegExp][] = [
      [rgb.encoded, { ...rgb.chunk, channels: 1 }, /in colour \(R, G and B differ by up to \d+\), the layer has 1 channel/],
      [rgb.encoded, { ...rgb.chunk, channels: 4 }, /RGB without alpha, the layer has 4/],
      [grey.encoded, { ...grey.chunk, channels: 3 }, /grey \(one channel\), the layer has 3/],
      [grey.encoded, { ...grey.chunk, shape: [12, 16, 6] }, /24x96 pixels, the chunk needs 12x96/],
    ];
    for (const [bytes, chunk, message] of checks) {
      const err = await decodeError(bytes, chunk);
      expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
      expect(err.key).toBe(chunk.key);
      expect(err.message).toMatch(message);
    }
  });

  it(`jxl_quality: absent = ${DEFAULT_JXL_QUALITY} = lossless; lower is lossy and smaller; bad values are INVALID_ARGUMENT`, async () => {
    const c = byName("rgb_lossless");
    const at = async (params: Record<string, unknown>) => {
      const chunk = { ...c.chunk, params };
      const bytes = await jxlCodec.encode!(c.expected, chunk);
      return { bytes, decoded: await jxlCodec.decode(bytes, chunk) };
    };
    const [none, q100, q60] = [await at({}), await at({ jxl_quality: 100 }), await at({ jxl_quality: 60 })];
    expect(none.decoded).toEqual(c.expected);
    expect(q100.decoded).toEqual(c.expected);
    expect(readJxlHeader(q100.bytes).xybEncoded).toBe(false);
    expect(readJxlHeader(q60.bytes).xybEncoded).toBe(true);
    expect(q60.bytes.byteLength).toBeLessThan(q100.bytes.byteLength);
    expect(voxelRmse(q60.decoded, c.expected, "uint8")).toBeGreaterThan(0);
    for (const params of [{ jxl_quality: 0 }, { jxl_quality: 101 }, { jxl_quality: 90.5 }, { jxl_quality: "90" }, { jxl_effort: 0 }, { jxl_effort: 10 }]) {
      await expect(Promise.resolve().then(() => jxlCodec.encode!(c.expected, { ...c.chunk, params }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("our 1-channel files are RGBA pictures with R = G = B (the library cannot write grey) and read back exactly", async () => {
    const c = byName("gray_lossless");
    const ours = await jxlCodec.encode!(c.expected, c.chunk);
    const h = readJxlHeader(ours);
    expect([h.colourChannels, h.extraChannels]).toEqual([3, [0]]);
    expect(await jxlCodec.decode(ours, c.chunk)).toEqual(c.expected);
  });

  it("unsupported dtypes and channel counts are INVALID_ARGUMENT, for decode and encode", async () => {
    const bytes = byName("gray_lossless").encoded;
    for (const over of [{ dtype: "int16" }, { dtype: "float32" }, { channels: 2 }, { channels: 5 }] as Partial<ChunkSpec>[]) {
      const chunk: ChunkSpec = { shape: [24, 16, 6], channels: 1, dtype: "uint8", key: "k/x", ...over };
      const err = await decodeError(bytes, chunk);
      expect(isCloudVolumeError(err, "INVALID_ARGUMENT"), String(err)).toBe(true);
      expect(err.key).toBe("k/x");
      await expect(Promise.resolve().then(() => jxlCodec.encode!(new Uint8Array(16), chunk))).rejects.toMatchObject({ code: "INVALID_ARGUMENT", key: "k/x" });
    }
  });

  it("an out buffer of the wrong size and voxels of the wrong length are INVALID_ARGUMENT", async () => {
    const c = byName("gray_lossless");
    await expect(jxlCodec.decode(c.encoded, c.chunk, new Uint8Array(c.expected.byteLength - 1))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(jxlCodec.encode!(c.expected.subarray(1), c.chunk)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("without a way to load the .wasm (the browser entry under plain Node) encode is UNAVAILABLE and says what to do", async () => {
    // (The decoder's jxl-oxide module is a process-wide singleton that the Node entry has
    // already initialised here, so the encoder shows this path.)
    const c = byName("gray_lossless");
    const err = await Promise.resolve(webJxlCodec.encode!(c.expected, c.chunk)).catch((e: unknown) => e as Error);
    expect(isCloudVolumeError(err, "UNAVAILABLE"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/libjxl encoder WebAssembly module/);
    expect((err as Error).message).toMatch(/`node` export condition/);
  });
});

describe("public API", () => {
  it("both entries export exactly these names", async () => {
    const names = ["DEFAULT_JXL_EFFORT", "DEFAULT_JXL_QUALITY", "compileOnce", "createJxlCodec", "jxl", "jxlCodec", "jxlSettings", "readJxlHeader"];
    expect(Object.keys(await import("@cloudvolume/codec-jxl")).sort()).toEqual(names);
    expect(Object.keys(await import("../src/index.js")).sort()).toEqual(names);
  });
});
