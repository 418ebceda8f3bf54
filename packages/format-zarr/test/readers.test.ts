import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as zarrita from "zarrita";
import { FileSystemStore } from "@zarrita/storage";
import { Bbox, type DataType, type Vec3 } from "@cloudvolume/core";
import { randomVoxelBox, tempDir } from "@cloudvolume/testing";
// By path, not by package name: cloudvolume depends on this package, so a devDependency would be a build cycle.
import { CloudVolume } from "../../cloudvolume/src/index.js";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";
import { PYTHON_NUMCODECS, NO_PYTHON_REASON } from "./python.js";
import { cOrderBytes, sameBytes } from "./fixture-util.js";

/**
 * What we write, read by independent implementations: zarrita.js (npm, the JavaScript
 * reference reader) and Debian's zarr-python 2 (python3-zarr). Each layer is created
 * through CloudVolume.open({ info }) + commitInfo + upload; both readers must return the
 * voxels we uploaded (their C-order bytes are our Fortran bytes), and see valid OME-NGFF
 * 0.4 multiscales metadata.
 */
const plugins = [zarr(), ...compressionPlugins()];

interface Case {
  name: string;
  dtype: DataType;
  channels: number;
  size: Vec3;
  chunk: Vec3;
  offset: Vec3;
  resolution: Vec3;
  options: Record<string, unknown>;
  /** A second, half-resolution scale. */
  twoScales?: boolean;
}

const CASES: Case[] = [
  { name: "uint8 gzip ragged, offset", dtype: "uint8", channels: 1, size: [50, 45, 20], chunk: [16, 16, 8], offset: [3, 5, 7], resolution: [4, 4, 40], options: { compressor: { id: "gzip", level: 5 } } },
  { name: "uint16 blosc (default) two scales", dtype: "uint16", channels: 1, size: [64, 40, 16], chunk: [32, 32, 8], offset: [0, 0, 0], resolution: [8, 8, 40], options: {}, twoScales: true },
  { name: "uint64 zstd 2 channels ragged", dtype: "uint64", channels: 2, size: [30, 20, 10], chunk: [16, 16, 4], offset: [-4, 2, 0], resolution: [4, 4, 40], options: { compressor: { id: "zstd", level: 3 } } },
  { name: "float32 blosc zstd bitshuffle, F order, '.' keys", dtype: "float32", channels: 1, size: [33, 17, 9], chunk: [16, 8, 4], offset: [0, 0, 0], resolution: [1, 1, 1], options: { compressor: { id: "blosc", cname: "zstd", clevel: 5, shuffle: 2, blocksize: 0 }, order: "F", dimensionSeparator: "." } },
  { name: "int16 big-endian zlib", dtype: "int16", channels: 1, size: [20, 20, 20], chunk: [8, 8, 8], offset: [0, 0, 0], resolution: [2, 3, 4], options: { compressor: { id: "zlib", level: 1 }, bigEndian: true } },
  { name: "int32 lz4 (numcodecs framing)", dtype: "int32", channels: 1, size: [17, 9, 5], chunk: [8, 8, 8], offset: [0, 0, 0], resolution: [1, 1, 1], options: { compressor: { id: "lz4", acceleration: 1 } } },
  { name: "float64 bz2", dtype: "float64", channels: 3, size: [10, 9, 8], chunk: [4, 4, 4], offset: [0, 0, 0], resolution: [1, 1, 1], options: { compressor: { id: "bz2", level: 1 } } },
];

interface Written {
  dir: string;
  scales: { path: string; size: Vec3; data: Uint8Array }[];
}

async function writeCase(c: Case): Promise<Written> {
  const dir = tempDir("cv-zarr-readers-");
  const scale = (f: number) => ({
    key: `${c.resolution[0] * f}_${c.resolution[1] * f}_${c.resolution[2]}`,
    size: [Math.ceil(c.size[0] / f), Math.ceil(c.size[1] / f), c.size[2]] as Vec3,
    voxel_offset: [Math.floor(c.offset[0] / f), Math.floor(c.offset[1] / f), c.offset[2]] as Vec3,
    resolution: [c.resolution[0] * f, c.resolution[1] * f, c.resolution[2]] as Vec3,
    chunk_sizes: [c.chunk],
    encoding: "raw",
  });
  const info = { type: "image", data_type: c.dtype, num_channels: c.channels, scales: c.twoScales ? [scale(1), scale(2)] : [scale(1)] };
  const vol = await CloudVolume.open(`zarr://file://${dir}`, { plugins, info, ...c.options });
  await vol.commitInfo();
  const scales: Written["scales"] = [];
  for (let mip = 0; mip < info.scales.length; mip++) {
    const s = info.scales[mip];
    const box = new Bbox(s.voxel_offset, [s.voxel_offset[0] + s.size[0], s.voxel_offset[1] + s.size[1], s.voxel_offset[2] + s.size[2]]);
    const v = randomVoxelBox(c.dtype, box, c.channels, `${c.name} ${mip}`);
    await vol.upload(box, v.data, { mip });
    scales.push({ path: String(mip), size: s.size, data: new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength).slice() });
  }
  await vol.close();
  return { dir, scales };
}

const written = new Map<string, Promise<Written>>();
const get = (c: Case) => {
  let w = written.get(c.name);
  if (!w) written.set(c.name, (w = writeCase(c)));
  return w;
};

describe("zarrita.js reads what we write", () => {
  for (const c of CASES) {
    // zarrita 0.7.5 has no bz2 codec (numcodecs.js has none): zarr-python checks that case below.
    it.skipIf((c.options.compressor as { id?: string } | undefined)?.id === "bz2")(`${c.name}${(c.options.compressor as { id?: string } | undefined)?.id === "bz2" ? " (skipped: zarrita has no bz2 codec)" : ""}`, async () => {
      const w = await get(c);
      const store = new FileSystemStore(w.dir);
      const group = await zarrita.open.v2(zarrita.root(store), { kind: "group" });
      const ms = (group.attrs.multiscales as { version: string; axes: { name: string }[]; datasets: { path: string; coordinateTransformations: { type: string; scale?: number[]; translation?: number[] }[] }[] }[])[0];
      expect(ms.version).toBe("0.4");
      expect(ms.axes.map((a) => a.name)).toEqual(c.channels > 1 ? ["c", "z", "y", "x"] : ["z", "y", "x"]);
      for (const [mip, s] of w.scales.entries()) {
        const arr = await zarrita.open.v2(group.resolve(s.path), { kind: "array" });
        const want = c.channels > 1 ? [c.channels, s.size[2], s.size[1], s.size[0]] : [s.size[2], s.size[1], s.size[0]];
        expect(arr.shape).toEqual(want);
        const got = await zarrita.get(arr);
        const d = got.data as unknown as ArrayBufferView;
        expect(d.byteLength).toBe(s.data.byteLength);
        const bytes = cOrderBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), got.shape, got.stride, d.byteLength / got.shape.reduce((a, b) => a * b, 1));
        expect(sameBytes(bytes, s.data), `mip ${mip}: zarrita's C-order bytes are our Fortran bytes`).toBe(true);
        const t = ms.datasets[mip].coordinateTransformations;
        const res = mip === 0 ? c.resolution : [c.resolution[0] * 2, c.resolution[1] * 2, c.resolution[2]];
        const sc = t.find((x) => x.type === "scale")!.scale!;
        expect(sc.slice(-3)).toEqual([res[2], res[1], res[0]]);
      }
    });
  }
});

describe("zarr-python 2 (Debian python3-zarr) reads what we write", () => {
  const PY_ZARR = (() => {
    if (!PYTHON_NUMCODECS) return false;
    try {
      execFileSync(PYTHON_NUMCODECS, ["-c", "import zarr"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  const reason = PY_ZARR ? "python3-zarr" : NO_PYTHON_REASON.replace("numcodecs", "zarr");
  const SCRIPT = `
import sys, json, zarr, numpy as np
g = zarr.open_group(sys.argv[1], mode="r")
ms = g.attrs["multiscales"][0]
out = {"version": ms["version"], "axes": ms["axes"], "arrays": []}
for i, d in enumerate(ms["datasets"]):
    a = g[d["path"]]
    data = np.ascontiguousarray(a[...])
    data.astype(data.dtype.newbyteorder("<")).tofile("%s/py%d.bin" % (sys.argv[2], i))
    out["arrays"].append({"shape": list(a.shape), "chunks": list(a.chunks), "dtype": str(a.dtype), "order": a.order, "compressor": a.compressor.get_config() if a.compressor else None, "fill_value": a.fill_value.item() if hasattr(a.fill_value, "item") else a.fill_value, "transforms": d["coordinateTransformations"]})
print(json.dumps(out))
`;
  for (const c of CASES) {
    it.skipIf(!PY_ZARR)(`${c.name} (${reason})`, async () => {
      const w = await get(c);
      const outDir = tempDir("cv-zarr-py-");
      const r = JSON.parse(execFileSync(PYTHON_NUMCODECS!, ["-c", SCRIPT, w.dir, outDir], { encoding: "utf8" }));
      expect(r.version).toBe("0.4");
      for (const [mip, s] of w.scales.entries()) {
        const a = r.arrays[mip];
        expect(a.shape).toEqual(c.channels > 1 ? [c.channels, s.size[2], s.size[1], s.size[0]] : [s.size[2], s.size[1], s.size[0]]);
        expect(a.order).toBe((c.options.order as string | undefined) ?? "C");
        expect(a.compressor?.id ?? null).toBe(((c.options.compressor as { id: string } | undefined)?.id) ?? "blosc");
        expect(a.fill_value).toBe(0);
        const bytes = new Uint8Array(readFileSync(join(outDir, `py${mip}.bin`)));
        expect(bytes.byteLength).toBe(s.data.byteLength);
        expect(sameBytes(bytes, s.data), `mip ${mip}: zarr-python's C-order bytes are our Fortran bytes`).toBe(true);
      }
    });
  }

  it.skipIf(!PY_ZARR)(`an OME-NGFF 0.4 group written by zarr-python (micrometer units, translation, c axis, blosc bitshuffle) reads with the right geometry and voxels (${reason})`, async () => {
    const dir = tempDir("cv-zarr-pyome-");
    execFileSync(PYTHON_NUMCODECS!, ["-c", `
import sys, zarr, numpy as np, numcodecs
g = zarr.open_group(sys.argv[1], mode="w")
base = (np.arange(2*12*20*30, dtype=np.uint16).reshape(2, 12, 20, 30) * 7) % 65521
comp = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)
g.create_dataset("s0", data=base, chunks=(2, 5, 8, 16), compressor=comp, dimension_separator="/")
g.create_dataset("s1", data=np.ascontiguousarray(base[:, :, ::2, ::2]), chunks=(2, 5, 8, 8), compressor=comp, order="F")
g.attrs["multiscales"] = [{"version": "0.4", "name": "py", "axes": [
  {"name": "c", "type": "channel"}, {"name": "z", "type": "space", "unit": "micrometer"},
  {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
  "datasets": [
    {"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.04, 0.004, 0.004]}, {"type": "translation", "translation": [0, 0.4, 0.04, 0.012]}]},
    {"path": "s1", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.04, 0.008, 0.008]}, {"type": "translation", "translation": [0, 0.4, 0.04, 0.016]}]}]}]
base.tofile(sys.argv[1] + "/truth0.bin")
np.ascontiguousarray(base[:, :, ::2, ::2]).tofile(sys.argv[1] + "/truth1.bin")
`, dir]);
    const vol = await CloudVolume.open(`zarr://file://${dir}`, { plugins });
    expect(vol.numChannels).toBe(2);
    expect(vol.info.scales.map((s) => s.key)).toEqual(["s0", "s1"]);
    expect(vol.info.scales[0]).toMatchObject({ size: [30, 20, 12], resolution: [4, 4, 40], voxel_offset: [3, 10, 10], chunk_sizes: [[16, 8, 5]] });
    expect(vol.info.scales[1]).toMatchObject({ size: [15, 10, 12], resolution: [8, 8, 40], voxel_offset: [2, 5, 10] });
    for (const mip of [0, 1]) {
      const cut = await vol.download(vol.mipBounds(mip), { mip });
      const bytes = new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength);
      expect(sameBytes(bytes, new Uint8Array(readFileSync(join(dir, `truth${mip}.bin`)))), `mip ${mip}`).toBe(true);
    }
    await vol.close();
    void writeFileSync;
  });
});

