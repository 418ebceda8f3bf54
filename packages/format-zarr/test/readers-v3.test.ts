import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import * as zarrita from "zarrita";
import { FileSystemStore } from "@zarrita/storage";
import { Bbox, type DataType, type Vec3 } from "@cloudvolume/core";
import { randomVoxelBox, tempDir } from "@cloudvolume/testing";
// By path, not by package name: cloudvolume depends on this package, so a devDependency would be a build cycle.
import { CloudVolume } from "../../cloudvolume/src/index.js";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";
import { cOrderBytes, sameBytes } from "./fixture-util.js";

/**
 * What we write as zarr v3, read by zarrita.js (npm; the independent reader named by the
 * issue): plain and sharded arrays (crc32c index), transpose,
 * big-endian bytes, each compressor, two channels, two scales under OME-NGFF 0.5. zarrita
 * must return exactly the voxels we uploaded (its C-order bytes are our Fortran bytes).
 */
const plugins = [zarr(), ...compressionPlugins()];

interface Case {
  name: string;
  dtype: DataType;
  channels: number;
  size: Vec3;
  chunk: Vec3;
  options: Record<string, unknown>;
  sharding?: Record<string, unknown>;
  twoScales?: boolean;
}

const SHARD = (shape: number[], location = "end") => ({ "@type": "zarr3_sharding_indexed", shard_shape: shape, index_location: location });

const CASES: Case[] = [
  { name: "uint8 gzip ragged", dtype: "uint8", channels: 1, size: [50, 45, 20], chunk: [16, 16, 8], options: { compressor: { id: "gzip", level: 5 } } },
  { name: "uint16 default (blosc lz4), two scales", dtype: "uint16", channels: 1, size: [64, 40, 16], chunk: [32, 32, 8], options: {}, twoScales: true },
  { name: "uint64 zstd sharded 2x2x2 chunks, ragged, 2 channels", dtype: "uint64", channels: 2, size: [30, 20, 10], chunk: [8, 8, 4], options: { compressor: { id: "zstd", level: 3 } }, sharding: SHARD([16, 16, 8]) },
  { name: "float32 transpose F, big-endian, '.' keys, sharded", dtype: "float32", channels: 1, size: [33, 17, 9], chunk: [8, 8, 4], options: { order: "F", bigEndian: true, dimensionSeparator: ".", compressor: { id: "gzip", level: 1 } }, sharding: SHARD([16, 8, 8]) },
  { name: "int16 uncompressed, default shards", dtype: "int16", channels: 1, size: [40, 40, 12], chunk: [8, 8, 4], options: { compressor: null, shards: true } },
  { name: "float64 blosc zstd bitshuffle, 3 channels", dtype: "float64", channels: 3, size: [10, 9, 8], chunk: [4, 4, 4], options: { compressor: { id: "blosc", cname: "zstd", clevel: 5, shuffle: 2, blocksize: 0 } } },
];

interface Written {
  dir: string;
  scales: { path: string; size: Vec3; data: Uint8Array }[];
}

async function writeCase(c: Case): Promise<Written> {
  const dir = tempDir("cv-zarr3-readers-");
  const scale = (f: number) => ({
    key: String(f),
    size: [Math.ceil(c.size[0] / f), Math.ceil(c.size[1] / f), c.size[2]] as Vec3,
    voxel_offset: [0, 0, 0] as Vec3,
    resolution: [4 * f, 4 * f, 40] as Vec3,
    chunk_sizes: [c.chunk],
    encoding: "raw",
    ...(c.sharding ? { sharding: c.sharding } : {}),
  });
  const info = { type: "image", data_type: c.dtype, num_channels: c.channels, scales: c.twoScales ? [scale(1), scale(2)] : [scale(1)] };
  const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins, info, ...c.options });
  await vol.commitInfo();
  const scales: Written["scales"] = [];
  for (let mip = 0; mip < info.scales.length; mip++) {
    const s = info.scales[mip];
    const box = new Bbox([0, 0, 0], s.size);
    const v = randomVoxelBox(c.dtype, box, c.channels, `${c.name} ${mip}`);
    await vol.upload(box, v.data, { mip });
    scales.push({ path: String(mip), size: s.size, data: new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength).slice() });
  }
  await vol.close();
  return { dir, scales };
}

describe("zarrita.js reads what we write as zarr v3", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const w = await writeCase(c);
      const store = new FileSystemStore(w.dir);
      const group = await zarrita.open.v3(zarrita.root(store), { kind: "group" });
      const ome = group.attrs.ome as { version: string; multiscales: { axes: { name: string }[]; datasets: { path: string; coordinateTransformations: { type: string; scale?: number[] }[] }[] }[] };
      expect(ome.version).toBe("0.5");
      const ms = ome.multiscales[0];
      expect(ms.axes.map((a) => a.name)).toEqual(c.channels > 1 ? ["c", "z", "y", "x"] : ["z", "y", "x"]);
      for (const [mip, s] of w.scales.entries()) {
        const arr = await zarrita.open.v3(group.resolve(s.path), { kind: "array" });
        expect(arr.shape).toEqual(c.channels > 1 ? [c.channels, s.size[2], s.size[1], s.size[0]] : [s.size[2], s.size[1], s.size[0]]);
        const meta = JSON.parse(readFileSync(join(w.dir, s.path, "zarr.json"), "utf8"));
        expect(meta.codecs.some((x: { name: string }) => x.name === "sharding_indexed")).toBe(Boolean(c.sharding || c.options.shards));
        expect(meta.dimension_names).toEqual(c.channels > 1 ? ["c", "z", "y", "x"] : ["z", "y", "x"]);
        const got = await zarrita.get(arr);
        const d = got.data as unknown as ArrayBufferView;
        expect(d.byteLength).toBe(s.data.byteLength);
        const bytes = cOrderBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), got.shape, got.stride, d.byteLength / got.shape.reduce((a, b) => a * b, 1));
        expect(sameBytes(bytes, s.data), `mip ${mip}: zarrita's C-order bytes are our Fortran bytes`).toBe(true);
        const sc = ms.datasets[mip].coordinateTransformations.find((x) => x.type === "scale")!.scale!;
        expect(sc.slice(-3)).toEqual([40, 4 * (mip + 1), 4 * (mip + 1)]);
      }
    });
  }
});

/** Every object under `dir`: relative path -> bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe("index_location \"start\" (zarrita 0.7.5 always reads the index from the end, so the layout is checked byte by byte)", () => {
  it("the shard starts with its index: (offset, nbytes) little-endian pairs in C order, a crc32c, then the chunks; we read it back", async () => {
    const dir = tempDir("cv-zarr3-start-");
    const info = { type: "image", data_type: "uint8", num_channels: 1, scales: [{ key: "0", size: [16, 8, 4], voxel_offset: [0, 0, 0], resolution: [1, 1, 1], chunk_sizes: [[8, 8, 4]], encoding: "raw", sharding: SHARD([16, 8, 4], "start") }] };
    const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins, info, compressor: null });
    await vol.commitInfo();
    const data = new Uint8Array(16 * 8 * 4).map((_, i) => (i * 7) % 251);
    await vol.upload(new Bbox([0, 0, 0], [16, 8, 4]), data);
    const shard = readFileSync(join(dir, "0", "c", "0", "0", "0"));
    // Inner grid (z, y, x) = (1, 1, 2): two entries, 32 bytes, then 4 crc bytes; each chunk 8x8x4 = 256 bytes.
    expect(shard.byteLength).toBe(36 + 512);
    const dv = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
    expect([0, 8, 16, 24].map((o) => Number(dv.getBigUint64(o, true)))).toEqual([36, 256, 292, 256]);
    const { crc32c } = await import("@cloudvolume/format-zarr");
    expect(dv.getUint32(32, true)).toBe(crc32c(shard.subarray(0, 32)));
    // Chunk x 0..8 in C order (z, y, x) holds the voxels of x 0..8.
    for (let z = 0; z < 4; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect(shard[36 + x + 8 * (y + 8 * z)]).toBe(data[x + 16 * (y + 8 * z)]);
    const back = await vol.download(new Bbox([0, 0, 0], [16, 8, 4]));
    expect(sameBytes(new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength), data)).toBe(true);
    await vol.close();
  });
});

describe("partial updates of a sharded zarr v3 array", () => {
  it("a one-chunk update rewrites one shard only, keeps its other chunks, and zarrita reads the result", async () => {
    const dir = tempDir("cv-zarr3-update-");
    const info = { type: "image", data_type: "uint16", num_channels: 1, scales: [{ key: "0", size: [64, 64, 16], voxel_offset: [0, 0, 0], resolution: [4, 4, 40], chunk_sizes: [[16, 16, 8]], encoding: "raw", sharding: SHARD([32, 32, 16]) }] };
    const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins, info, compressor: { id: "gzip", level: 1 } });
    await vol.commitInfo();
    const all = new Bbox([0, 0, 0], [64, 64, 16]);
    const v = randomVoxelBox("uint16", all, 1, "update base");
    await vol.upload(all, v.data);
    const before = snapshot(dir);
    expect([...before.keys()].filter((k) => k.startsWith("0/c/")).length).toBe(4); // 2x2x1 shards
    // One 16x16x8 chunk inside shard c/0/1/0 (x 0..32, y 32..64).
    const one = new Bbox([16, 32, 8], [32, 48, 16]);
    const patch = randomVoxelBox("uint16", one, 1, "update patch");
    await vol.upload(one, patch.data);
    const after = snapshot(dir);
    const changed = [...after.keys()].filter((k) => !before.get(k)!.equals(after.get(k)!));
    expect(changed).toEqual([join("0", "c", "0", "1", "0")]);
    // The whole array: the patch where it was written, the base everywhere else.
    const expected = new Uint16Array(v.data as Uint16Array);
    const p = patch.data as Uint16Array;
    for (let z = 8; z < 16; z++) for (let y = 32; y < 48; y++) for (let x = 16; x < 32; x++) expected[x + 64 * (y + 64 * z)] = p[(x - 16) + 16 * ((y - 32) + 16 * (z - 8))];
    const whole = await vol.download(all);
    expect(sameBytes(new Uint8Array(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength), new Uint8Array(expected.buffer))).toBe(true);
    const arr = await zarrita.open.v3(zarrita.root(new FileSystemStore(dir)).resolve("0"), { kind: "array" });
    const got = await zarrita.get(arr);
    const d = got.data as unknown as Uint16Array;
    expect(sameBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), new Uint8Array(expected.buffer))).toBe(true);
    // A write off the chunk grid is still refused without nonAlignedWrites.
    const err = await vol.upload(new Bbox([1, 0, 0], [16, 16, 8]), new Uint16Array(15 * 16 * 8)).then(() => undefined, (e: unknown) => e);
    expect(String(err)).toMatch(/not aligned to the 16x16x8 chunk grid/);
    await vol.close();
  });
});
