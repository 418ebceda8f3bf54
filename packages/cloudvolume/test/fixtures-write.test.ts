import { readFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { copyFixture, fixturePath, listLayerFiles, readExpected, readGroundTruth, tempDir } from "@cloudvolume/testing";
import { CloudVolume, isCloudVolumeError, type DataType } from "../src/index.js";

/**
 * Compatibility of what we WRITE: the fixtures' ground truth, written through
 * our API with the fixture's own info, must produce the same file names as the
 * real CloudVolume did, and each file must decode (with node:zlib, not our
 * codecs) to the same bytes.
 */
const WRITE_FIXTURES = [
  "pc_image_u8_raw",
  "pc_image_u8_raw_gzip",
  "pc_image_u8_raw_br",
  "pc_image_u8_multiscale",
  "pc_image_u8_raw_ragged_offset",
  "pc_image_u8_2ch_raw",
  "pc_image_u16_raw",
  "pc_float32_raw",
  "pc_seg_u32_raw_gzip",
];

const listFiles = (root: string) => listLayerFiles(root);

function decodeFile(path: string): Buffer {
  const buf = readFileSync(path);
  if (path.endsWith(".gz")) return gunzipSync(buf);
  if (path.endsWith(".br")) return brotliDecompressSync(buf);
  return buf;
}

describe.each(WRITE_FIXTURES)("writing %s", (name) => {
  it("produces the fixture's file names, info and decoded chunk bytes", async () => {
    const meta = JSON.parse(readFileSync(join(fixturePath(name), "FIXTURE.json"), "utf8")) as { compress: string | boolean | null };
    const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
    const compress = meta.compress === false ? false : meta.compress === null ? undefined : (meta.compress as "gzip" | "br");
    const dir = tempDir();
    const vol = await CloudVolume.open(`file://${dir}`, { info, compress });
    await vol.commitInfo();
    const exp = readExpected(name);
    const mips = exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];
    for (const mip of mips) {
      const gt = readGroundTruth(name, mip);
      const arr = new (vol.dtype === "float32" ? Float32Array : vol.dtype === "uint16" ? Uint16Array : vol.dtype === "uint32" ? Uint32Array : Uint8Array)(
        gt.bytes.buffer.slice(gt.bytes.byteOffset, gt.bytes.byteOffset + gt.bytes.byteLength),
      );
      await vol.upload(vol.mipBounds(mip), arr, { mip });
    }
    expect(listFiles(dir)).toEqual(listFiles(fixturePath(name)));
    // info: byte-identical to CloudVolume's serialisation (sorted keys, two-space indent).
    expect(readFileSync(join(dir, "info"), "utf8")).toBe(readFileSync(join(fixturePath(name), "info"), "utf8"));
    for (const f of listFiles(dir)) {
      if (f === "info") continue;
      expect(decodeFile(join(dir, f)).equals(decodeFile(join(fixturePath(name), f))), f).toBe(true);
    }
    await vol.close();
  });
});

const u8 = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe("aligned and non-aligned writes into a CloudVolume-written layer", () => {
  it("an aligned write replaces whole chunks and leaves the rest", async () => {
    const dir = copyFixture("pc_image_u8_raw_ragged_offset");
    const vol = await CloudVolume.open(dir);
    const gt = readGroundTruth("pc_image_u8_raw_ragged_offset");
    // Offset (3,5,7), chunk 16x16x8: [19,21,15]-[35,37,23] is exactly one chunk; one
    // touching the upper bound [51,53]x.. is truncated and still aligned.
    const boxes = [[19, 21, 15, 35, 37, 23], [51, 37, 23, 53, 50, 27]];
    for (const box of boxes) {
      const n = (box[3] - box[0]) * (box[4] - box[1]) * (box[5] - box[2]);
      await vol.upload(box, new Uint8Array(n).fill(201));
    }
    const cut = await vol.download(vol.bounds);
    const inside = (x: number, y: number, z: number) => boxes.some((b) => x >= b[0] && x < b[3] && y >= b[1] && y < b[4] && z >= b[2] && z < b[5]);
    for (let z = 0; z < 20; z++) for (let y = 0; y < 45; y++) for (let x = 0; x < 50; x++) {
      const i = x + 50 * (y + 45 * z);
      const want = inside(x + 3, y + 5, z + 7) ? 201 : gt.bytes[i];
      if (cut.data[i] !== want) throw new Error(`voxel ${x + 3},${y + 5},${z + 7}: ${cut.data[i]} != ${want}`);
    }
  });

  it("a non-aligned write without nonAlignedWrites is an ALIGNMENT error and writes nothing", async () => {
    const dir = copyFixture("pc_image_u8_raw_gzip");
    const before = listFiles(dir).map((f) => readFileSync(join(dir, f)).toString("base64"));
    const vol = await CloudVolume.open(dir);
    const err = await vol.upload([5, 5, 5, 20, 20, 10], new Uint8Array(15 * 15 * 5)).catch((e) => e);
    expect(isCloudVolumeError(err, "ALIGNMENT")).toBe(true);
    expect(err.message).toMatch(/not aligned.*nonAlignedWrites/);
    expect(listFiles(dir).map((f) => readFileSync(join(dir, f)).toString("base64"))).toEqual(before);
  });

  it("a non-aligned write reads, paints and rewrites the edge chunks", async () => {
    const dir = copyFixture("pc_image_u8_raw_gzip");
    const vol = await CloudVolume.open(dir, { nonAlignedWrites: true });
    const gt = readGroundTruth("pc_image_u8_raw_gzip");
    const box = [5, 30, 10, 40, 64, 20];
    const [sx, sy, sz] = [35, 34, 10];
    const data = new Uint8Array(sx * sy * sz);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    await vol.upload(box, data);
    const cut = await vol.download([0, 0, 0, 64, 64, 32]);
    for (let z = 0; z < 32; z++) for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      const i = x + 64 * (y + 64 * z);
      const inBox = x >= 5 && x < 40 && y >= 30 && z >= 10 && z < 20;
      const want = inBox ? data[x - 5 + sx * (y - 30 + sy * (z - 10))] : gt.bytes[i];
      if (cut.data[i] !== want) throw new Error(`voxel ${x},${y},${z}`);
    }
    // Still gzip files under the same names, no stray files.
    expect(listFiles(dir)).toEqual(listFiles(fixturePath("pc_image_u8_raw_gzip")));
  });

  it("an out-of-bounds write is OUT_OF_BOUNDS; autocrop writes the part inside", async () => {
    const dir = copyFixture("pc_image_u8_raw");
    const vol = await CloudVolume.open(dir);
    const err = await vol.upload([32, 32, 16, 96, 64, 32], new Uint8Array(64 * 32 * 16)).catch((e) => e);
    expect(isCloudVolumeError(err, "OUT_OF_BOUNDS")).toBe(true);
    expect(err.message).toContain("outside the bounds");
    const cropping = await CloudVolume.open(dir, { autocrop: true });
    await cropping.upload([32, 32, 16, 96, 64, 32], new Uint8Array(64 * 32 * 16).fill(9));
    const cut = await cropping.download([32, 32, 16, 64, 64, 32]);
    expect(cut.data.every((v) => v === 9)).toBe(true);
  });

  it("deleteBlackUploads deletes chunks that are all background instead of writing them", async () => {
    const dir = copyFixture("pc_image_u8_raw_gzip");
    const vol = await CloudVolume.open(dir, { deleteBlackUploads: true });
    const data = new Uint8Array(64 * 32 * 16);
    data.fill(5, 0, 32); // first chunk has a non-background voxel row; second is all 0
    await vol.upload([0, 0, 0, 64, 32, 16], data);
    expect(existsSync(join(dir, "4_4_40/0-32_0-32_0-16.gz"))).toBe(true);
    expect(existsSync(join(dir, "4_4_40/32-64_0-32_0-16.gz"))).toBe(false);
    const withBg = await CloudVolume.open(dir, { deleteBlackUploads: true, backgroundColor: 5 });
    await withBg.upload([0, 0, 0, 32, 32, 16], new Uint8Array(32 * 32 * 16).fill(5));
    expect(existsSync(join(dir, "4_4_40/0-32_0-32_0-16.gz"))).toBe(false);
  });
});

/** Every dtype on TensorStore-like grids: shapes 2x2x1x1 and 10x11x12x4 at voxel offset (1,2,3). */
describe("dtype x shape grid, write then read", () => {
  const DTYPES: DataType[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"];
  const SHAPES: [number, number, number, number][] = [[2, 2, 1, 1], [10, 11, 12, 4]];
  const ctors: Record<DataType, new (n: number) => ArrayBufferView & { length: number; [i: number]: number | bigint }> = {
    uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
    uint64: BigUint64Array, int64: BigInt64Array, float32: Float32Array, float64: Float64Array,
  } as never;
  for (const dtype of DTYPES) for (const shape of SHAPES) for (const url of ["file", "mem"] as const) {
    it(`${dtype} ${shape.join("x")} on ${url}`, async () => {
      const root = url === "file" ? `file://${tempDir()}` : `mem://grid-${dtype}-${shape.join("x")}-${Math.random()}`;
      const info = CloudVolume.createNewInfo({
        layerType: "image", dataType: dtype, encoding: "raw", numChannels: shape[3],
        resolution: [1, 1, 1], voxelOffset: [1, 2, 3], volumeSize: [shape[0], shape[1], shape[2]], chunkSize: [4, 4, 4],
      });
      const vol = await CloudVolume.open(root, { info });
      await vol.commitInfo();
      const n = shape[0] * shape[1] * shape[2] * shape[3];
      const data = new ctors[dtype](n);
      for (let i = 0; i < n; i++) {
        const v = (i * 2654435761) % 2 ** 31;
        data[i] = dtype.endsWith("64") && !dtype.startsWith("float") ? (BigInt(v) << 30n) ^ BigInt(i) : dtype.startsWith("float") ? v / 7 - 1e5 : v;
      }
      await vol.upload([1, 2, 3, 1 + shape[0], 2 + shape[1], 3 + shape[2]], data as never);
      const reopened = await CloudVolume.open(root);
      const cut = await reopened.download(reopened.bounds);
      expect(cut.shape).toEqual(shape);
      expect(Buffer.from(u8(cut.data)).equals(Buffer.from(u8(data)))).toBe(true);
      // A sub-box that crosses chunk boundaries.
      if (shape[0] > 4) {
        const sub = await reopened.download([3, 4, 5, 9, 12, 14]);
        for (let c = 0; c < shape[3]; c++) for (let z = 0; z < 9; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 6; x++) {
          const want = data[x + 2 + shape[0] * (y + 2 + shape[1] * (z + 2 + shape[2] * c))];
          const got = sub.data[x + 6 * (y + 8 * (z + 9 * c))];
          if (!Object.is(got, want) && got !== want) throw new Error(`${dtype} ${x},${y},${z},${c}: ${got} != ${want}`);
        }
      }
    });
  }
});

describe("bad input", () => {
  it("a truncated gzip chunk is DECODE_FAILED naming the key", async () => {
    const dir = copyFixture("pc_image_u8_raw_gzip");
    const f = join(dir, "4_4_40/0-32_32-64_16-32.gz");
    const buf = readFileSync(f);
    writeFileSync(f, buf.subarray(0, buf.length - 9));
    const vol = await CloudVolume.open(dir);
    const err = await vol.download([0, 32, 16, 32, 64, 32]).catch((e) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err.key).toBe("4_4_40/0-32_32-64_16-32");
    expect(err.message).toContain("4_4_40/0-32_32-64_16-32");
  });

  it("a raw chunk of the wrong size is DECODE_FAILED naming the key", async () => {
    const dir = copyFixture("pc_image_u8_raw");
    writeFileSync(join(dir, "4_4_40/0-32_0-32_0-16"), new Uint8Array(100));
    const vol = await CloudVolume.open(dir);
    const err = await vol.download([0, 0, 0, 8, 8, 8]).catch((e) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err.message).toContain("4_4_40/0-32_0-32_0-16");
  });

  it.each([
    ["{not json", /info: not valid JSON/],
    ["[1]", /info: \(root\) must be a JSON object/],
    ['{"type":"image","data_type":"uint8","num_channels":1}', /info: scales must be an array/],
    ['{"type":"image","data_type":"uint8","num_channels":1,"scales":[]}', /info: scales must list at least one scale/],
    ['{"type":"image","data_type":"uint9","num_channels":1,"scales":[]}', /info: data_type must be one of/],
    ['{"type":"image","data_type":"uint8","num_channels":1,"scales":[{"key":"a","size":[1,1,1],"resolution":[1,1,1],"chunk_sizes":[[1,0,1]],"encoding":"raw"}]}', /info: scales\[0\]\.chunk_sizes\[0\] must be three positive integers/],
    ['{"type":"image","data_type":"uint8","num_channels":1,"scales":[{"key":"a","size":[1,1],"resolution":[1,1,1],"chunk_sizes":[[1,1,1]],"encoding":"raw"}]}', /info: scales\[0\]\.size must be three/],
  ])("info %s is INVALID_METADATA with the property path", async (text, pattern) => {
    const dir = tempDir();
    writeFileSync(join(dir, "info"), text);
    const err = await CloudVolume.open(dir).catch((e) => e);
    expect(isCloudVolumeError(err, "INVALID_METADATA")).toBe(true);
    expect(err.message).toMatch(pattern);
  });

  it("a layer without info is NOT_FOUND", async () => {
    const err = await CloudVolume.open(tempDir()).catch((e) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(err.message).toContain("info");
  });

  it("a failed write leaves nothing half-written", async () => {
    const dir = copyFixture("pc_image_u8_raw");
    // Writes gzip by default for raw; make one chunk's .gz target a non-empty
    // directory so its rename must fail.
    const blocked = join(dir, "4_4_40/32-64_32-64_16-32.gz");
    mkdirSync(blocked);
    writeFileSync(join(blocked, "x"), "keep");
    const vol = await CloudVolume.open(dir);
    const err = await vol.upload([0, 0, 0, 64, 64, 32], new Uint8Array(64 * 64 * 32).fill(1)).catch((e) => e);
    expect(isCloudVolumeError(err)).toBe(true);
    expect(err.message).toContain("4_4_40/32-64_32-64_16-32");
    // No temporary files anywhere; every chunk file is whole (old bare or new gzip).
    const files = listFiles(dir);
    expect(files.filter((f) => f.includes(".tmp"))).toEqual([]);
    for (const f of files.filter((f) => f.startsWith("4_4_40/") && !f.startsWith("4_4_40/32-64_32-64_16-32"))) {
      expect(decodeFile(join(dir, f)).length, f).toBe(32 * 32 * 16);
    }
    // The blocked chunk's original bare file is still there and intact.
    expect(readFileSync(join(dir, "4_4_40/32-64_32-64_16-32")).equals(readFileSync(join(fixturePath("pc_image_u8_raw"), "4_4_40/32-64_32-64_16-32")))).toBe(true);
  });
});

describe("redirects", () => {
  it("follows a redirect, opens read-only, detects cycles and honours maxRedirects", async () => {
    const a = tempDir(), b = tempDir(), c = tempDir();
    writeFileSync(join(a, "info"), JSON.stringify({ redirect: `file://${b}` }));
    writeFileSync(join(b, "info"), JSON.stringify({ ...JSON.parse(readFileSync(join(fixturePath("pc_image_u8_raw"), "info"), "utf8")), redirect: `file://${fixturePath("pc_image_u8_raw")}` }));
    const vol = await CloudVolume.open(a);
    expect(vol.url).toBe(`file://${fixturePath("pc_image_u8_raw")}`);
    expect(vol.readOnly).toBe(true);
    const cut = await vol.download([0, 0, 0, 64, 64, 32]);
    expect(Buffer.from(u8(cut.data)).equals(Buffer.from(readGroundTruth("pc_image_u8_raw").bytes))).toBe(true);
    const w = await vol.upload([0, 0, 0, 32, 32, 16], new Uint8Array(32 * 32 * 16)).catch((e) => e);
    expect(isCloudVolumeError(w, "READ_ONLY")).toBe(true);
    const limited = await CloudVolume.open(a, { maxRedirects: 1 }).catch((e) => e);
    expect(isCloudVolumeError(limited, "INVALID_METADATA")).toBe(true);
    expect(limited.message).toMatch(/maxRedirects=1/);
    writeFileSync(join(c, "info"), JSON.stringify({ redirect: `file://${a}` }));
    writeFileSync(join(a, "info"), JSON.stringify({ redirect: `file://${c}` }));
    const cyc = await CloudVolume.open(a).catch((e) => e);
    expect(isCloudVolumeError(cyc, "INVALID_METADATA")).toBe(true);
    expect(cyc.message).toMatch(/redirect cycle/);
  });
});
