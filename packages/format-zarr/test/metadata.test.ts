import { mkdirSync, readFileSync, writeFileSync, truncateSync, statSync, cpSync } from "node:fs";
import { join, dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, Context, isCloudVolumeError, type ErrorCode } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { fixturePath, tempDir } from "@cloudvolume/testing";
import { fileStorage } from "@cloudvolume/storage-file";
import { gzip } from "@cloudvolume/codec-gzip";
import { zarr } from "@cloudvolume/format-zarr";
import { zarrContext } from "./helpers.js";

/** Bad input gives the error codes the issue asks for, naming the file and property, the codec, or the chunk key. */

function writeJson(dir: string, key: string, v: unknown): void {
  mkdirSync(dirname(join(dir, key)), { recursive: true });
  writeFileSync(join(dir, key), typeof v === "string" ? v : JSON.stringify(v));
}

const ZARRAY = { zarr_format: 2, shape: [4, 6, 8], chunks: [4, 6, 8], dtype: "<u2", order: "C", compressor: null, fill_value: 0, filters: null };

async function expectError(p: Promise<unknown>, code: ErrorCode, ...contains: (string | RegExp)[]): Promise<{ key?: string; message: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isCloudVolumeError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  for (const c of contains) expect((err as Error).message).toMatch(c);
  return err as { key?: string; message: string };
}

const open = (dir: string, opts: Record<string, unknown> = {}, ctx = zarrContext()) => ChunkedVolume.open(ctx, `zarr://file://${dir}`, opts);

describe("malformed metadata is INVALID_METADATA naming the file and the property", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{ \"zarr_format\": 2, ", /\.zarray .*is not JSON/],
    ["chunks[1] negative", { ...ZARRAY, chunks: [4, -3, 8] }, /\.zarray .*chunks\[1\] must be a positive integer, got -3/],
    ["shape missing", { ...ZARRAY, shape: undefined }, /\.zarray .*shape must be a list/],
    ["chunks of another rank", { ...ZARRAY, chunks: [4, 6] }, /chunks has 2 entries but shape has 3/],
    ["compressor without id", { ...ZARRAY, compressor: { level: 1 } }, /compressor\.id must be a codec name/],
    ["dtype garbage", { ...ZARRAY, dtype: "uint16" }, /dtype must be a NumPy type string/],
    ["order", { ...ZARRAY, order: "Z" }, /order must be "C" or "F"/],
    ["fill_value", { ...ZARRAY, fill_value: "abc" }, /fill_value must be an integer or null/],
    ["fill_value out of range", { ...ZARRAY, fill_value: 70000 }, /fill_value 70000 is out of range for <u2/],
    ["zarr_format", { ...ZARRAY, zarr_format: 3 }, /zarr_format must be 2/],
    ["dimension_separator", { ...ZARRAY, dimension_separator: "-" }, /dimension_separator must be "\." or "\/"/],
  ];
  for (const [what, body, re] of cases) {
    it(what, async () => {
      const dir = tempDir("cv-zarr-bad-");
      writeJson(dir, ".zarray", body);
      const err = await expectError(open(dir), "INVALID_METADATA", re);
      expect(err.key).toBe(".zarray");
    });
  }

  it("OME-NGFF: a dataset without a path names multiscales[0].datasets[1].path; a path without a .zarray names that key", async () => {
    const dir = tempDir("cv-zarr-bad-ms-");
    writeJson(dir, ".zgroup", { zarr_format: 2 });
    writeJson(dir, ".zattrs", { multiscales: [{ version: "0.4", datasets: [{ path: "0" }, { nopath: 1 }] }] });
    writeJson(dir, "0/.zarray", ZARRAY);
    let err = await expectError(open(dir), "INVALID_METADATA", /\.zattrs .*multiscales\[0\]\.datasets\[1\]\.path must be a relative path/);
    expect(err.key).toBe(".zattrs");
    writeJson(dir, ".zattrs", { multiscales: [{ version: "0.4", datasets: [{ path: "0" }, { path: "1" }] }] });
    err = await expectError(open(dir), "INVALID_METADATA", /datasets\[1\]\.path "1" has no 1\/\.zarray/);
    expect(err.key).toBe("1/.zarray");
    writeJson(dir, ".zattrs", { multiscales: [{ version: "0.4", datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: [1, -2, 1] }] }] }] });
    await expectError(open(dir), "INVALID_METADATA", /datasets\[0\]\.coordinateTransformations\[0\]\.scale must be positive/);
  });

  it("a group without multiscales says to open one of its arrays", async () => {
    await expectError(open(join(fixturePath("thirdparty_zarr2_from_zarr_python"), "data.zarr")), "INVALID_METADATA", /without OME-NGFF multiscales/, /open one of its arrays/);
  });

  it("nothing there is NOT_FOUND with key .zarray (what `cloudvolume cp` creates on)", async () => {
    const err = await expectError(open(tempDir("cv-zarr-empty-")), "NOT_FOUND");
    expect(err.key).toBe(".zarray");
  });
});

const ZARR_JSON = {
  zarr_format: 3, node_type: "array", shape: [4, 6, 8], data_type: "uint16",
  chunk_grid: { name: "regular", configuration: { chunk_shape: [4, 6, 8] } },
  chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
  fill_value: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }], attributes: {},
};
const SHARDING = (inner: unknown[], index: unknown[] = [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }]) =>
  ({ name: "sharding_indexed", configuration: { chunk_shape: [2, 3, 4], codecs: inner, index_codecs: index } });

describe("zarr v3: malformed zarr.json is INVALID_METADATA naming the file and the property", () => {
  const v3 = (dir: string) => ChunkedVolume.open(zarrContext(), `zarr3://file://${dir}`);
  const cases: [string, unknown, RegExp][] = [
    ["not JSON", "{ \"zarr_format\": 3", /zarr\.json .*is not JSON/],
    ["shape[2] a string", { ...ZARR_JSON, shape: [4, 6, "8"] }, /zarr\.json .*shape\[2\] must be an integer/],
    ["chunk_shape of another rank", { ...ZARR_JSON, chunk_grid: { name: "regular", configuration: { chunk_shape: [4, 6] } } }, /chunk_grid\.configuration\.chunk_shape must be a list of 3/],
    ["data_type garbage", { ...ZARR_JSON, data_type: 7 }, /data_type must be a data type name/],
    ["no fill_value", { ...ZARR_JSON, fill_value: undefined }, /fill_value is required/],
    ["fill_value out of range", { ...ZARR_JSON, fill_value: -1 }, /fill_value -1 is out of range for uint16/],
    ["bytes without endian", { ...ZARR_JSON, codecs: [{ name: "bytes" }] }, /codecs\[0\]\.configuration\.endian is required/],
    ["gzip before bytes", { ...ZARR_JSON, codecs: [{ name: "gzip", configuration: { level: 1 } }, { name: "bytes", configuration: { endian: "little" } }] }, /codecs\[0\] gzip .* must come after the bytes codec/],
    ["transpose not a permutation", { ...ZARR_JSON, codecs: [{ name: "transpose", configuration: { order: [0, 0, 1] } }, ...ZARR_JSON.codecs] }, /codecs\[0\]\.configuration\.order must be a permutation/],
    ["gzip level", { ...ZARR_JSON, codecs: [...ZARR_JSON.codecs, { name: "gzip", configuration: { level: 12 } }] }, /codecs\[1\]\.configuration\.level must be an integer from 0 to 9/],
    ["inner chunk that does not divide the shard", { ...ZARR_JSON, codecs: [{ ...SHARDING(ZARR_JSON.codecs), configuration: { ...SHARDING(ZARR_JSON.codecs).configuration, chunk_shape: [3, 3, 4] } }] }, /chunk_shape \[3,3,4\] must divide the shard shape/],
    ["index_location", { ...ZARR_JSON, codecs: [{ ...SHARDING(ZARR_JSON.codecs), configuration: { ...SHARDING(ZARR_JSON.codecs).configuration, index_location: "middle" } }] }, /index_location must be "start" or "end"/],
    ["separator", { ...ZARR_JSON, chunk_key_encoding: { name: "default", configuration: { separator: "-" } } }, /chunk_key_encoding\.configuration\.separator must be/],
  ];
  for (const [what, body, re] of cases) {
    it(what, async () => {
      const dir = tempDir("cv-zarr3-bad-");
      writeJson(dir, "zarr.json", body);
      const err = await expectError(v3(dir), "INVALID_METADATA", re);
      expect(err.key).toBe("zarr.json");
    });
  }

  it("an unknown codec is UNKNOWN_CODEC naming it; nested sharding and compressed indices are UNSUPPORTED", async () => {
    const dir = tempDir("cv-zarr3-codec-");
    writeJson(dir, "zarr.json", { ...ZARR_JSON, codecs: [...ZARR_JSON.codecs, { name: "lzma", configuration: {} }] });
    await expectError(v3(dir), "UNKNOWN_CODEC", /codec "lzma"/, /zarr\.json/);
    writeJson(dir, "zarr.json", { ...ZARR_JSON, codecs: [SHARDING([SHARDING(ZARR_JSON.codecs)])] });
    await expectError(v3(dir), "UNSUPPORTED", /nested sharding/);
    writeJson(dir, "zarr.json", { ...ZARR_JSON, codecs: [SHARDING(ZARR_JSON.codecs, [...ZARR_JSON.codecs, { name: "gzip", configuration: { level: 1 } }])] });
    await expectError(v3(dir), "UNSUPPORTED", /compress the shard index/);
    writeJson(dir, "zarr.json", { ...ZARR_JSON, data_type: "complex64" });
    await expectError(v3(dir), "UNSUPPORTED", /data_type "complex64"/);
  });

  it("a group without multiscales says to open an array; nothing there is NOT_FOUND with key zarr.json", async () => {
    const dir = tempDir("cv-zarr3-group-");
    writeJson(dir, "zarr.json", { zarr_format: 3, node_type: "group", attributes: {} });
    await expectError(v3(dir), "INVALID_METADATA", /without OME-NGFF multiscales/);
    const err = await expectError(v3(tempDir("cv-zarr3-empty-")), "NOT_FOUND", /no zarr\.json/);
    expect(err.key).toBe("zarr.json");
  });

  it("zarr2:// on a v3 array and zarr3:// on a v2 array say which version it is", async () => {
    const v3dir = join(fixturePath("zarr3_u8_gzip"), "data.zarr");
    await expectError(ChunkedVolume.open(zarrContext(), `zarr2://file://${v3dir}`), "INVALID_METADATA", /is a zarr v3 layer/);
    const v2dir = join(fixturePath("zarr2_u8_gzip"), "data.zarr");
    await expectError(ChunkedVolume.open(zarrContext(), `zarr3://file://${v2dir}`), "INVALID_METADATA", /is a zarr v2 layer/);
  });
});

describe("codecs", () => {
  it("an unknown compressor is UNKNOWN_CODEC naming it (info still opens)", async () => {
    const dir = tempDir("cv-zarr-lzma-");
    writeJson(dir, ".zarray", { ...ZARRAY, compressor: { id: "lzma", preset: 6 } });
    const vol = await open(dir);
    expect(vol.info.data_type).toBe("uint16");
    await expectError(vol.download(vol.bounds(0)), "UNKNOWN_CODEC", /lzma/, /\.zarray/);
  });

  it("a compressor whose plugin the Context lacks is UNKNOWN_CODEC naming the package to install", async () => {
    const vol = await open(join(fixturePath("zarr2_u16_blosc_forder"), "data.zarr"), {}, new Context({ plugins: [zarr(), fileStorage(), gzip()] }));
    await expectError(vol.download(vol.bounds(0)), "UNKNOWN_CODEC", /"blosc"/, /@cloudvolume\/codec-blosc/);
  });

  it("non-null filters are UNKNOWN_CODEC naming them", async () => {
    const dir = tempDir("cv-zarr-filters-");
    writeJson(dir, ".zarray", { ...ZARRAY, filters: [{ id: "delta", dtype: "<u2" }, { id: "quantize", digits: 2 }] });
    const vol = await open(dir);
    await expectError(vol.download(vol.bounds(0)), "UNKNOWN_CODEC", /filters "delta", "quantize"/);
  });

  it("truncated or corrupt chunks are DECODE_FAILED naming the key", async () => {
    for (const [fixture, chunk] of [["zarr2_u8_gzip", "1.0.1"], ["zarr2_u16_blosc_forder", "0.1.0"], ["zarr2_u16be_zstd", "0.1.2"], ["zarr2_u64_raw_nested", "1/0/2"], ["zarr2_f32_zlib_ragged_fill", "0.1.1"]]) {
      const dir = tempDir("cv-zarr-trunc-");
      cpSync(join(fixturePath(fixture), "data.zarr"), dir, { recursive: true });
      truncateSync(join(dir, chunk), statSync(join(dir, chunk)).size - 7);
      const vol = await open(dir, { fillMissing: true });
      const err = await expectError(vol.download(vol.bounds(0)), "DECODE_FAILED");
      expect(err.key, `${fixture}: ${err.message}`).toBe(chunk);
      expect(err.message).toContain(chunk);
    }
    const dir = tempDir("cv-zarr-corrupt-");
    cpSync(join(fixturePath("zarr2_u16_blosc_forder"), "data.zarr"), dir, { recursive: true });
    const p = join(dir, "1.1.1");
    const b = readFileSync(p);
    for (let i = 40; i < b.length; i += 3) b[i] ^= 0x5a;
    writeFileSync(p, b);
    const err = await expectError((await open(dir)).download(new Bbox([16, 32, 32], [32, 64, 64])), "DECODE_FAILED");
    expect(err.key).toBe("1.1.1");
  });
});

describe("axes, fill values and capabilities", () => {
  /** A raw (uncompressed) C-order array at `dir/path` from `values` (one chunk per `chunks`, padded with `pad`). */
  function rawArray(dir: string, path: string, shape: number[], chunks: number[], values: (idx: number[]) => number, extra: Record<string, unknown> = {}): void {
    writeJson(dir, join(path, ".zarray"), { ...ZARRAY, shape, chunks, ...extra });
    const grid = shape.map((s, i) => Math.ceil(s / chunks[i]));
    const total = grid.reduce((a, b) => a * b, 1);
    for (let g = 0; g < total; g++) {
      const gi: number[] = [];
      let r = g;
      for (let i = grid.length - 1; i >= 0; i--) { gi[i] = r % grid[i]; r = Math.floor(r / grid[i]); }
      const n = chunks.reduce((a, b) => a * b, 1);
      const data = new Uint16Array(n);
      for (let e = 0; e < n; e++) {
        const idx: number[] = [];
        let q = e;
        for (let i = chunks.length - 1; i >= 0; i--) { idx[i] = gi[i] * chunks[i] + (q % chunks[i]); q = Math.floor(q / chunks[i]); }
        data[e] = idx.every((v, i) => v < shape[i]) ? values(idx) : 0;
      }
      writeFileSync(join(dir, path, gi.join(".")), new Uint8Array(data.buffer));
    }
  }

  it("5-D (t, c, z, y, x): t picks the time index (default 0); chunks holding several t are read-only", async () => {
    const dir = tempDir("cv-zarr-5d-");
    const val = ([t, c, z, y, x]: number[]) => t * 10000 + c * 1000 + z * 100 + y * 10 + x;
    rawArray(dir, "", [3, 2, 2, 3, 4], [1, 2, 2, 2, 4], val);
    for (const t of [0, 2]) {
      const vol = await open(dir, t === 0 ? {} : { t });
      expect(vol.numChannels).toBe(2);
      expect(vol.bounds(0).size()).toEqual([4, 3, 2]);
      const cut = await vol.download(vol.bounds(0));
      expect(cut.data[0]).toBe(t * 10000);
      expect(cut.data[1 + 4 * (2 + 3 * (1 + 2 * 1))]).toBe(val([t, 1, 1, 2, 1]));
    }
    await expectError(open(dir, { t: 3 }), "INVALID_ARGUMENT", /t 3 is outside/);
    const d2 = tempDir("cv-zarr-5d-ro-");
    rawArray(d2, "", [3, 1, 2, 3, 4], [3, 1, 2, 3, 4], val);
    const vol = await open(d2, { t: 1 });
    expect((await vol.download(vol.bounds(0))).data[0]).toBe(10000);
    await expectError(vol.upload(vol.bounds(0), new Uint16Array(24)), "READ_ONLY", /only index 1 is read/);
  });

  it("OME-NGFF axis names win: (c, y, x) is a 2-D image with channels; chunks splitting channels need { channel }", async () => {
    const dir = tempDir("cv-zarr-cyx-");
    writeJson(dir, ".zgroup", { zarr_format: 2 });
    writeJson(dir, ".zattrs", { multiscales: [{ version: "0.4", axes: [{ name: "c", type: "channel" }, { name: "y", type: "space" }, { name: "x", type: "space" }], datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: [1, 2, 3] }] }] }] });
    rawArray(dir, "0", [3, 5, 6], [3, 5, 6], ([c, y, x]) => c * 100 + y * 10 + x);
    let vol = await open(dir);
    expect(vol.numChannels).toBe(3);
    expect(vol.bounds(0).size()).toEqual([6, 5, 1]);
    expect(vol.resolution(0)).toEqual([3, 2, 1]);
    const cut = await vol.download(vol.bounds(0));
    expect(cut.data[5 + 6 * 4 + 30 * 2]).toBe(245);
    const d2 = tempDir("cv-zarr-cyx-split-");
    cpSync(dir, d2, { recursive: true });
    rawArray(d2, "0", [3, 5, 6], [1, 5, 6], ([c, y, x]) => c * 100 + y * 10 + x);
    vol = await open(d2);
    await expectError(vol.download(vol.bounds(0)), "UNSUPPORTED", /split the channel axis/, /channel: <index>/);
    vol = await open(d2, { channel: 2 });
    expect(vol.numChannels).toBe(1);
    expect((await vol.download(vol.bounds(0))).data[5 + 6 * 4]).toBe(245);
  });

  it("fill values: NaN, exact 64-bit integers, null -> 0", async () => {
    const dir = tempDir("cv-zarr-fill-");
    writeJson(dir, "nan/.zarray", { ...ZARRAY, dtype: "<f4", fill_value: "NaN" });
    writeFileSync(join(dir, "u64.zarray.txt"), "");
    writeJson(dir, "u64/.zarray", `{"zarr_format": 2, "shape": [2, 2, 2], "chunks": [2, 2, 2], "dtype": "<u8", "order": "C", "compressor": null, "filters": null, "fill_value": 18446744073709551615}`);
    writeJson(dir, "none/.zarray", { ...ZARRAY, fill_value: null });
    let vol = await open(join(dir, "nan"), { fillMissing: true });
    expect(Number.isNaN((await vol.download(vol.bounds(0))).data[0] as number)).toBe(true);
    vol = await open(join(dir, "u64"), { fillMissing: true });
    expect((await vol.download(vol.bounds(0))).data[3]).toBe(18446744073709551615n);
    expect(vol.layer.fillValue!(0)).toBe(18446744073709551615n);
    vol = await open(join(dir, "none"), { fillMissing: true });
    expect((await vol.download(vol.bounds(0))).data[0]).toBe(0);
  });

  it("capabilities: writes, no shards, meshes, skeletons, provenance or locks", async () => {
    const vol = await open(join(fixturePath("zarr2_u8_gzip"), "data.zarr"));
    expect(vol.layer.capabilities).toEqual({ write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false });
    expect(vol.format).toBe("zarr");
  });

  it("commitInfo on an existing group keeps attributes it does not own", async () => {
    const dir = tempDir("cv-zarr-keep-");
    writeJson(dir, ".zgroup", { zarr_format: 2 });
    writeJson(dir, ".zattrs", { omero: { channels: [{ label: "dapi" }] }, multiscales: [{ version: "0.4", name: "mine", datasets: [{ path: "0" }] }] });
    rawArray(dir, "0", [4, 6, 8], [4, 6, 8], () => 7, { custom: "kept" });
    const vol = await open(dir);
    await vol.commitInfo();
    const attrs = JSON.parse(readFileSync(join(dir, ".zattrs"), "utf8"));
    expect(attrs.omero).toEqual({ channels: [{ label: "dapi" }] });
    expect(attrs.multiscales[0].name).toBe("mine");
    expect(JSON.parse(readFileSync(join(dir, "0", ".zarray"), "utf8")).custom).toBe("kept");
    expect((await (await open(dir)).download(new Bbox([0, 0, 0], [8, 6, 4]))).data[5]).toBe(7);
  });
});
