import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Bbox, Context, type Plugin } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { gzip } from "@cloudvolume/codec-gzip";
import { xz } from "@cloudvolume/codec-xz";
import { fileStorage } from "@cloudvolume/storage-file";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { describeFormat, expectRejects, fixturePath, readGroundTruth, runNodeScript, tempDir } from "@cloudvolume/testing";
import { CloudVolume } from "./cloudvolume.js";
import { blockHeaderBytes, n5 } from "../src/index.js";
import { CLI, ensureBuilt, findCompression, firstDiff, groundTruthXyz, n5PluginArgs } from "./helpers.js";

/*
 * The driver's own behaviour beyond the conformance suite: bad input (malformed
 * attributes.json, truncated or corrupt blocks, block modes 1 and 2, missing codecs),
 * metadata conventions (old-style compressionType, 1-D datasets, multiscale groups and
 * their resolutions), what commitInfo writes, lz4 layers, and `cloudvolume cp` both ways.
 */

const open = (url: string, plugins: Plugin[], opts: Record<string, unknown> = {}) => ChunkedVolume.open(new Context({ plugins }), url, opts);
const all = (): Plugin[] => [n5(), fileStorage(), gzip(), xz()];

function be16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint16(2 * i, v, false));
  return out;
}
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const put = (root: string, key: string, data: Uint8Array | string | object) => {
  const p = join(root, key);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, typeof data === "string" || data instanceof Uint8Array ? data : JSON.stringify(data));
};

/** A copy of a fixture's dataset to damage. */
function copyOf(fixture: string, path: string): string {
  const dir = tempDir("cv-n5-bad-");
  cpSync(join(fixturePath(fixture), path), dir, { recursive: true });
  return dir;
}

describe("malformed attributes.json is INVALID_METADATA naming the file and property", () => {
  const base = { dimensions: [5, 4], blockSize: [3, 2], dataType: "uint16", compression: { type: "raw" } };
  const cases: Array<[string, unknown, RegExp]> = [
    ["not JSON", "{ dimensions: [5, 4", /attributes\.json of .* is not JSON/],
    ["not an object", "[1, 2]", /attributes\.json of .*: the attributes must be a JSON object/],
    ["a negative dimension", { ...base, dimensions: [5, -4] }, /attributes\.json of .*: dimensions\[1\] must be positive integer/],
    ["blockSize of another rank", { ...base, blockSize: [3, 2, 1] }, /attributes\.json of .*: blockSize must be a list of 2 positive integers/],
    ["an unknown dataType", { ...base, dataType: "uint128" }, /attributes\.json of .*: dataType must be one of uint8.*got "uint128"/],
    ["a compression without type", { ...base, compression: { level: 3 } }, /attributes\.json of .*: compression\.type must be a compression name/],
    ["a bad gzip level", { ...base, compression: { type: "gzip", level: 42 } }, /attributes\.json of .*: compression\.level is not a valid gzip parameter: 42/],
    ["a bad pixelResolution", { ...base, pixelResolution: { unit: "um", dimensions: [1, "x"] } }, /attributes\.json of .*: pixelResolution\.dimensions\[1\]/],
  ];
  for (const [what, attrs, message] of cases) {
    it(what, async () => {
      const dir = tempDir("cv-n5-meta-");
      put(dir, "attributes.json", attrs as object);
      const err = await expectRejects(open(`n5://file://${dir}`, all()), "INVALID_METADATA", message);
      expect(err.key).toBe("attributes.json");
    });
  }

  it("in a multiscale group, the scale's file (s1/attributes.json) is named", async () => {
    const dir = tempDir("cv-n5-meta-");
    put(dir, "attributes.json", { n5: "2.0.0" });
    put(dir, "s0/attributes.json", base);
    put(dir, "s1/attributes.json", { ...base, dataType: 7 });
    const err = await expectRejects(open(`n5://file://${dir}`, all()), "INVALID_METADATA", /s1\/attributes\.json of .*: dataType/);
    expect(err.key).toBe("s1/attributes.json");
  });

  it("scales of one group must share dataType", async () => {
    const dir = tempDir("cv-n5-meta-");
    put(dir, "s0/attributes.json", base);
    put(dir, "s1/attributes.json", { ...base, dataType: "uint8" });
    await expectRejects(open(`n5://file://${dir}`, all()), "INVALID_METADATA", /s1\/attributes\.json .*dataType is uint8, but s0 has uint16/);
  });

  it("no metadata at all is NOT_FOUND with key attributes.json (what cp takes as 'create')", async () => {
    const err = await expectRejects(open(`n5://file://${tempDir("cv-n5-empty-")}`, all()), "NOT_FOUND", /no N5 dataset or multiscale group/);
    expect(err.key).toBe("attributes.json");
  });

  it("5-D datasets and blocks that split the channel axis are UNSUPPORTED", async () => {
    const dir = tempDir("cv-n5-meta-");
    put(dir, "attributes.json", { ...base, dimensions: [5, 4, 3, 2, 1], blockSize: [3, 2, 1, 1, 1] });
    await expectRejects(open(`n5://file://${dir}`, all()), "UNSUPPORTED", /5-dimensional/);
    put(dir, "attributes.json", { ...base, dimensions: [5, 4, 3, 3], blockSize: [3, 2, 1, 1] });
    await expectRejects(open(`n5://file://${dir}`, all()), "UNSUPPORTED", /blockSize\[3\] = 1 is smaller than dimensions\[3\] = 3/);
  });
});

describe("blocks", () => {
  const raw = "thirdparty_n5_tensorstore_testdata";

  it("a truncated block is DECODE_FAILED naming its key (raw and gzip)", async () => {
    for (const c of ["raw", "gzip"]) {
      const dir = copyOf(raw, c);
      const f = join(dir, "1", "0");
      const b = readFileSync(f);
      writeFileSync(f, b.subarray(0, b.length - 3));
      const vol = await open(`n5://file://${dir}`, all());
      const err = await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /1\/0/);
      expect(err.key).toBe("1/0");
      writeFileSync(f, b.subarray(0, 6)); // inside the header
      await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /block header needs 12 bytes, the block has 6|too short|truncated/);
    }
  });

  it("corrupt gzip data and a header of the wrong rank are DECODE_FAILED", async () => {
    const dir = copyOf(raw, "gzip");
    const f = join(dir, "0", "1");
    const b = new Uint8Array(readFileSync(f));
    const bad = b.slice();
    for (let i = 20; i < bad.length - 8; i++) bad[i] ^= 0x5a;
    writeFileSync(f, bad);
    const vol = await open(`n5://file://${dir}`, all());
    await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /0\/1/);
    writeFileSync(f, cat(blockHeaderBytes([3, 2, 1]), b.subarray(12)));
    await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /3 dimensions \(3x2x1\), the dataset 2/);
  });

  it("a block smaller than its chunk is DECODE_FAILED", async () => {
    const dir = copyOf(raw, "raw");
    writeFileSync(join(dir, "0", "0"), cat(blockHeaderBytes([2, 2]), be16([0, 1, 2, 3])));
    const vol = await open(`n5://file://${dir}`, all());
    await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /block header says 2x2, smaller than the chunk's 3x2/);
  });

  it("mode 1 (varlength) blocks read when the count matches; mode 2 (object) is UNSUPPORTED naming it", async () => {
    const dir = copyOf(raw, "raw");
    const f = join(dir, "0", "0");
    const b = new Uint8Array(readFileSync(f));
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, 6, false);
    const varlength = cat(b.subarray(0, 12), count, b.subarray(12));
    varlength[1] = 1;
    writeFileSync(f, varlength);
    const gt = groundTruthXyz(raw);
    let vol = await open(`n5://file://${dir}`, all());
    const cut = await vol.download(vol.bounds(0));
    expect(firstDiff(new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength), gt.bytes)).toBe(-1);
    new DataView(varlength.buffer).setUint32(12, 5, false);
    writeFileSync(f, varlength);
    vol = await open(`n5://file://${dir}`, all());
    await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /varlength block \(mode 1\) holds 5 elements/);
    const object = b.slice();
    object[1] = 2;
    writeFileSync(f, object);
    const err = await expectRejects(vol.download(vol.bounds(0)), "UNSUPPORTED", /block mode 2 \(object/);
    expect(err.key).toBe("0/0");
    object[1] = 7;
    writeFileSync(f, object);
    await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /unknown block mode 7/);
  });
});

describe("compression plugins", () => {
  it("a missing codec is UNKNOWN_CODEC naming the compression and the package", async () => {
    const bare: Plugin[] = [n5(), fileStorage()];
    const p = (c: string) => `n5://file://${join(fixturePath("thirdparty_n5_tensorstore_testdata"), c)}`;
    for (const [c, msg] of [["gzip", /gzip compression.*"gzip".*@cloudvolume\/codec-gzip/], ["xz", /xz compression.*@cloudvolume\/codec-xz/], ["bzip2", /bzip2.*@cloudvolume\/codec-bzip2/], ["blosc", /blosc.*@cloudvolume\/codec-blosc/]] as const) {
      const vol = await open(p(c), bare);
      const err = await expectRejects(vol.download(vol.bounds(0)), "UNKNOWN_CODEC", msg);
      expect(err.key).toBe("attributes.json");
    }
    const dir = copyOf("thirdparty_n5_tensorstore_testdata", "gzip");
    const attrs = JSON.parse(readFileSync(join(dir, "attributes.json"), "utf8"));
    put(dir, "attributes.json", { ...attrs, compression: { type: "gzip", useZlib: true } });
    // gzip only (codec-gzip's plugin may answer to "zlib" too): zlib framing is then missing.
    const gzipOnly: Plugin = { kind: "compression", names: ["gzip"], package: "@cloudvolume/codec-gzip", load: gzip().load };
    await expectRejects((await open(`n5://file://${dir}`, [n5(), fileStorage(), gzipOnly])).download([0, 0, 0, 5, 4, 1]), "UNKNOWN_CODEC", /useZlib: true \(zlib framing\).*"zlib".*codec-gzip/);
    put(dir, "attributes.json", { ...attrs, compression: { type: "snappy" } });
    await expectRejects((await open(`n5://file://${dir}`, all())).download([0, 0, 0, 5, 4, 1]), "UNKNOWN_CODEC", /compression type "snappy" is not supported/);
  });

  it("old-style compressionType reads", async () => {
    const dir = copyOf("thirdparty_n5_tensorstore_testdata", "gzip");
    const { compression: _c, ...attrs } = JSON.parse(readFileSync(join(dir, "attributes.json"), "utf8"));
    put(dir, "attributes.json", { ...attrs, compressionType: "gzip" });
    const vol = await open(`n5://file://${dir}`, all());
    expect(vol.scale(0).compression).toEqual({ type: "gzip" });
    const cut = await vol.download(vol.bounds(0));
    expect(firstDiff(new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength), groundTruthXyz("thirdparty_n5_tensorstore_testdata").bytes)).toBe(-1);
  });

  it("xz layers read but refuse writes with UNSUPPORTED (decode-only codec)", async () => {
    const vol = await open(`n5://mem://xzw/a`, [n5(), memoryStorage(), xz()], {
      info: { type: "image", data_type: "uint8", num_channels: 1, scales: [{ key: "a", size: [4, 4, 4], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "xz" }] },
    });
    await vol.commitInfo();
    expect(vol.scale(0).compression).toEqual({ type: "xz", preset: 6 });
    await expectRejects(vol.upload(vol.bounds(0), new Uint8Array(64)), "UNSUPPORTED", /xz compression is decode-only/);
  });

  it("a zlib dataset (useZlib) round trips once a zlib plugin exists", async (t) => {
    const zlibPlugin = await findCompression("zlib");
    if (!zlibPlugin) t.skip(); // @cloudvolume/codec-gzip's "zlib" has not landed yet
    const plugins = [n5(), memoryStorage(), zlibPlugin!];
    const vol = await open(`n5://mem://zl/a`, plugins, {
      info: { type: "image", data_type: "uint16", num_channels: 1, scales: [{ key: "a", size: [9, 5, 3], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "zlib" }] },
    });
    await vol.commitInfo();
    const data = new Uint16Array(9 * 5 * 3).map((_, i) => i * 37);
    await vol.upload(vol.bounds(0), data);
    const back = await (await open(`n5://mem://zl/a`, plugins)).download([0, 0, 0, 9, 5, 3]);
    expect([...back.data]).toEqual([...data]);
  });
});

/* lz4 layers (n5-java framing, built in) through the whole conformance suite. */
let lz4n = 0;
describeFormat("n5 (lz4, n5-java framing)", async () => {
  const plugins = [n5(), memoryStorage()];
  return {
    plugins,
    newLayerUrl: () => `n5://mem://n5lz4/l${lz4n++}`,
    open: (url, opts) => {
      const info = opts.info as { scales: Record<string, unknown>[] } | undefined;
      if (info) for (const s of info.scales) s.compression = { type: "lz4", blockSize: 65536 };
      return ChunkedVolume.open(new Context({ plugins }), url, opts);
    },
  };
}, { dtypes: ["uint8", "uint16", "uint64", "float32"] });

describe("metadata conventions", () => {
  it("a 1-D dataset reads with size-1 y and z; end blocks may be truncated", async () => {
    const dir = tempDir("cv-n5-1d-");
    put(dir, "attributes.json", { dimensions: [10], blockSize: [4], dataType: "uint16", compression: { type: "raw" } });
    put(dir, "0", cat(blockHeaderBytes([4]), be16([0, 1, 2, 3])));
    put(dir, "1", cat(blockHeaderBytes([4]), be16([4, 5, 6, 7])));
    put(dir, "2", cat(blockHeaderBytes([2]), be16([8, 9])));
    const vol = await open(`n5://file://${dir}`, all());
    expect([...vol.bounds(0).max]).toEqual([10, 1, 1]);
    expect(vol.chunkKey(new Bbox([8, 0, 0], [10, 1, 1]), 0)).toBe("2");
    expect([...(await vol.download([0, 0, 0, 10, 1, 1])).data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...(await vol.download([3, 0, 0, 9, 1, 1])).data]).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it("multiscale groups: pixelResolution (um) and downsamplingFactors, per dataset or the group's list", async () => {
    const dir = tempDir("cv-n5-ms-");
    const ds = (d: number[]) => ({ dimensions: d, blockSize: [4, 4, 4], dataType: "uint8", compression: { type: "raw" } });
    put(dir, "attributes.json", { n5: "2.5.1", pixelResolution: { unit: "um", dimensions: [0.004, 0.004, 0.04] }, downsamplingFactors: [[1, 1, 1], [2, 2, 1], [4, 4, 2]] });
    put(dir, "s0/attributes.json", ds([16, 16, 8]));
    put(dir, "s1/attributes.json", ds([8, 8, 8]));
    put(dir, "s2/attributes.json", { ...ds([4, 4, 4]), downsamplingFactors: [4, 4, 4] });
    const vol = await open(`n5://file://${dir}`, all());
    expect(vol.info.scales.map((s) => s.key)).toEqual(["s0", "s1", "s2"]);
    const close = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
    expect(close(vol.resolution(0), [4, 4, 40])).toBe(true);
    expect(close(vol.resolution(1), [8, 8, 40])).toBe(true);
    expect(close(vol.resolution(2), [16, 16, 160])).toBe(true); // the dataset's own factors win
    expect(vol.chunkKey(new Bbox([4, 0, 4], [8, 4, 8]), 1)).toBe("s1/1/0/1");
    const s1 = await open(`n5://file://${join(dir, "s1")}`, all()); // one dataset of the group, alone
    expect(s1.info.scales).toHaveLength(1);
    expect(s1.info.scales[0].key).toBe("s1");
  });

  it("create writes a multiscale group: n5 version at the root, each scale's attributes, user attributes kept", async () => {
    const dir = tempDir("cv-n5-create-");
    put(dir, "attributes.json", { n5: "2.0.0", note: "mine" });
    const info = {
      type: "segmentation", data_type: "uint64", num_channels: 1,
      scales: [
        { key: "8_8_40", size: [20, 20, 10], voxel_offset: [0, 0, 0], resolution: [8, 8, 40], chunk_sizes: [[8, 8, 8]], encoding: "raw" },
        { key: "16_16_40", size: [10, 10, 10], voxel_offset: [0, 0, 0], resolution: [16, 16, 40], chunk_sizes: [[8, 8, 8]], encoding: "raw", compression: { type: "raw" } },
      ],
    };
    const vol = await open(`n5://file://${dir}`, all(), { info });
    await vol.commitInfo();
    const root = JSON.parse(readFileSync(join(dir, "attributes.json"), "utf8"));
    expect(root).toMatchObject({ n5: "2.0.0", note: "mine", multiScale: true, resolution: [8, 8, 40] });
    expect(root.dimensions).toBeUndefined();
    const s0 = JSON.parse(readFileSync(join(dir, "s0", "attributes.json"), "utf8"));
    expect(s0).toEqual({
      dimensions: [20, 20, 10], blockSize: [8, 8, 8], dataType: "uint64", compression: { type: "gzip", level: -1, useZlib: false },
      downsamplingFactors: [1, 1, 1], pixelResolution: { unit: "nm", dimensions: [8, 8, 40] },
    });
    const s1 = JSON.parse(readFileSync(join(dir, "s1", "attributes.json"), "utf8"));
    expect(s1).toMatchObject({ dimensions: [10, 10, 10], compression: { type: "raw" }, downsamplingFactors: [2, 2, 1] });
    expect(vol.info.scales.map((s) => s.key)).toEqual(["s0", "s1"]);
    const again = await open(`n5://file://${dir}`, all());
    expect(again.info.scales.map((s) => [s.key, s.size, s.resolution, s.compression])).toEqual(vol.info.scales.map((s) => [s.key, s.size, s.resolution, s.compression]));
    // A plain dataset opened alone takes writes and keeps its attributes on commit.
    const alone = await open(`n5://file://${join(dir, "s1")}`, all());
    await alone.upload(alone.bounds(0), new BigUint64Array(1000).fill(7n));
    await alone.commitInfo();
    expect(JSON.parse(readFileSync(join(dir, "s1", "attributes.json"), "utf8"))).toEqual(s1);
    expect(existsSync(join(dir, "s1", "1", "1", "1"))).toBe(true);
  });

  it("an encoding N5 cannot store is INVALID_METADATA naming the field", async () => {
    const vol = await open(`n5://mem://bad/a`, [n5(), memoryStorage()], {
      info: { type: "image", data_type: "uint8", num_channels: 1, scales: [{ key: "a", size: [4, 4, 4], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "jpeg" }] },
    });
    await expectRejects(vol.commitInfo(), "INVALID_METADATA", /scales\[0\]\.encoding "jpeg" cannot be stored in N5/);
  });

  it("a transfer compression is refused (N5 compresses inside blocks): at open, and on a transfer's own compress", async () => {
    const info = { type: "image", data_type: "uint8", num_channels: 1, scales: [{ key: "a", size: [8, 8, 8], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "raw" }] };
    await expectRejects(open(`n5://mem://tc/a`, [n5(), memoryStorage()], { info, compress: "gzip" }), "INVALID_ARGUMENT", /no transfer compression \(the compress option \("gzip"\)\).*--encoding gzip/);
    const plugins: Plugin[] = [n5(), memoryStorage(), gzip()];
    const src = await CloudVolume.open(`mem://tc/src`, { plugins, info: { ...info, scales: [{ ...info.scales[0], key: "1_1_1" }] } });
    await src.commitInfo();
    await src.upload([0, 0, 0, 8, 8, 8], new Uint8Array(512).fill(3));
    const dst = await CloudVolume.open(`n5://mem://tc/dst`, { plugins, info });
    await dst.commitInfo();
    await expectRejects(src.transferTo(dst, { compress: "gzip" }), "INVALID_ARGUMENT", /no transfer compression \("gzip" for s0\/[01]\/[01]\/[01]\)/);
    await src.transferTo(dst);
    expect([...(await dst.download([0, 0, 0, 8, 8, 8])).data].every((v) => v === 3)).toBe(true);
  });

  it("a scale's encoding naming another compression wins over its compression object; raw keeps it", async () => {
    const vol = await open(`n5://mem://enc/a`, [n5(), memoryStorage(), gzip()], {
      info: { type: "image", data_type: "uint8", num_channels: 1, scales: [{ key: "a", size: [4, 4, 4], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "raw", compress: "none" }] },
    });
    await vol.commitInfo();
    expect(vol.scale(0).compression).toEqual({ type: "gzip", level: -1, useZlib: false }); // the scale's compress is no layer compress
    vol.info.scales[0].encoding = "lz4";
    await vol.commitInfo();
    expect(vol.scale(0)).toMatchObject({ encoding: "raw", compression: { type: "lz4", blockSize: 65536 } });
    vol.info.compress = "none";
    await vol.commitInfo();
    expect(vol.scale(0).compression).toEqual({ type: "lz4", blockSize: 65536 });
  });

  it("capabilities: writes yes; sharding, meshes, skeletons, provenance, locks no", async () => {
    const vol = await CloudVolume.open(`n5://file://${join(fixturePath("n5_u64_raw"), "data.n5")}`, { plugins: [n5()] });
    expect(vol.capabilities).toEqual({ write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false });
    expect(() => vol.mesh).toThrow(/n5 format does not support meshes/);
    await expectRejects(vol.lockMips([0]), "UNSUPPORTED");
    await vol.close();
  });
});

describe("parallel reads (worker threads use cloudvolume's default plugins, n5 among them)", () => {
  it("parallel: 2 reads the same bytes as the calling thread", async () => {
    await ensureBuilt();
    const url = `n5://file://${join(fixturePath("n5_u16_gzip"), "data.n5")}`;
    const gt = groundTruthXyz("n5_u16_gzip");
    const vol = await CloudVolume.open(url, { parallel: 2 });
    try {
      const cut = await vol.download([0, 0, 0, ...gt.shape]);
      expect(cut.data.buffer instanceof SharedArrayBuffer).toBe(true);
      expect(firstDiff(new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength), gt.bytes)).toBe(-1);
    } finally {
      await vol.close();
    }
  }, 60_000);
});

describe("cloudvolume cp between Precomputed and N5", () => {
  it("precomputed -> n5 -> precomputed keeps every voxel", async () => {
    await ensureBuilt();
    const dir = tempDir("cv-n5-cp-");
    const src = fixturePath("pc_image_u8_raw_ragged_offset");
    const gt = readGroundTruth("pc_image_u8_raw_ragged_offset");
    const plugin = n5PluginArgs();
    let r = await runNodeScript(CLI, ["cp", src, `n5://file://${dir}/x.n5`, ...plugin]);
    expect(r.code, r.stderr).toBe(0);
    const s0 = JSON.parse(readFileSync(join(dir, "x.n5", "s0", "attributes.json"), "utf8"));
    expect(s0).toMatchObject({ dimensions: [50, 45, 20], blockSize: [16, 16, 8], dataType: "uint8", voxelOffset: [3, 5, 7] });
    r = await runNodeScript(CLI, ["download", `n5://file://${dir}/x.n5`, "--bbox", "3,5,7,53,50,27", "--out", join(dir, "n5.bin"), ...plugin]);
    expect(r.code, r.stderr).toBe(0);
    expect(firstDiff(new Uint8Array(readFileSync(join(dir, "n5.bin"))), gt.bytes)).toBe(-1);
    r = await runNodeScript(CLI, ["cp", `n5://file://${dir}/x.n5`, `file://${dir}/back`, ...plugin]);
    expect(r.code, r.stderr).toBe(0);
    r = await runNodeScript(CLI, ["download", `file://${dir}/back`, "--bbox", "3,5,7,53,50,27", "--out", join(dir, "back.bin")]);
    expect(r.code, r.stderr).toBe(0);
    expect(firstDiff(new Uint8Array(readFileSync(join(dir, "back.bin"))), gt.bytes)).toBe(-1);
  }, 120_000);
});

/* zarr-python's N5Store writes "lz4" with numcodecs' framing: read through an "lz4" plugin when one exists. */
const PY = "/usr/bin/python3";
const canZarr = (() => {
  try {
    execFileSync(PY, ["-c", "from zarr.n5 import N5Store; import numcodecs; numcodecs.LZ4"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
describe("lz4 blocks in numcodecs framing (zarr-python)", () => {
  it.skipIf(!canZarr)("read through the numcodecs-style lz4 plugin when present, else a clear error", async () => {
    const dir = tempDir("cv-n5-zlz4-");
    await promisify(execFile)(PY, ["-c", `
import numpy as np, zarr, numcodecs, warnings
from zarr.n5 import N5Store
warnings.simplefilter("ignore")
a = zarr.open(N5Store("${dir}"), mode="w", shape=(3, 7, 11), chunks=(2, 4, 8), dtype="uint16", compressor=numcodecs.LZ4())
a[...] = np.arange(3 * 7 * 11, dtype="uint16").reshape(3, 7, 11)
`]);
    const want = Array.from({ length: 3 * 7 * 11 }, (_, i) => i);
    const lz4 = await findCompression("lz4");
    const vol = await open(`n5://file://${dir}`, lz4 ? [...all(), lz4] : all());
    if (!lz4) {
      await expectRejects(vol.download(vol.bounds(0)), "DECODE_FAILED", /numcodecs-framed lz4.*@cloudvolume\/codec-lz4/);
      return;
    }
    expect([...(await vol.download(vol.bounds(0))).data]).toEqual(want);
  }, 60_000);
});
