import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Context, dtypeInfo, type DataType, type LayerInfo } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { gzip } from "@cloudvolume/codec-gzip";
import { fileStorage } from "@cloudvolume/storage-file";
import { randomVoxelBytes, tempDir } from "@cloudvolume/testing";
import { n5 } from "../src/index.js";
import { firstDiff } from "./helpers.js";

/*
 * An independent reader and writer: Debian's zarr-python 2 (python3-zarr) and its N5Store.
 * What we write (gzip and raw, uint16 and uint64 and more, ragged end blocks, which we
 * write truncated as the N5 spec has them, a channel axis, a second scale) zarr-python
 * reads identically; what it writes (end blocks padded) we read identically. zarr's view of
 * an N5 dataset reverses the axes, so its C-order bytes are our Fortran x, y, z(, c) bytes.
 */

const PY = "/usr/bin/python3";
const zarrMissing = (() => {
  if (!existsSync(PY)) return `${PY} does not exist`;
  try {
    execFileSync(PY, ["-c", "import zarr, numpy; from zarr.n5 import N5Store"], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    return `${PY} has no zarr with N5Store (apt-get install -y python3-zarr): ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split("\n").pop()}`;
  }
})();

const run = promisify(execFile);

/** zarr-python reads dataset `name` of the N5 container at `root`: its metadata, and its data (C order, little-endian). */
const READ = `
import json, sys, numpy as np, zarr
from zarr.n5 import N5Store
root, name, out = sys.argv[1:4]
a = zarr.open(N5Store(root), mode="r")[name]
data = a[...]
open(out, "wb").write(np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<")).tobytes())
print(json.dumps({"shape": list(a.shape), "chunks": list(a.chunks), "dtype": str(a.dtype), "compressor": a.compressor.get_config(), "attrs": dict(a.attrs)}))
`;

/** zarr-python writes an N5 group with dataset s0 of the given (C-order, zarr view) shape and chunks, filled from a .bin file. */
const WRITE = `
import sys, numpy as np, zarr, numcodecs
from zarr.n5 import N5Store
root, dtype, shape, chunks, comp, src = sys.argv[1:7]
shape = tuple(int(v) for v in shape.split(",")); chunks = tuple(int(v) for v in chunks.split(","))
compressor = {"raw": None, "gzip": numcodecs.GZip(level=5), "zlib": numcodecs.Zlib(level=5), "bz2": numcodecs.BZ2(level=5)}[comp]
g = zarr.group(store=N5Store(root), overwrite=True)
a = g.create_dataset("s0", shape=shape, chunks=chunks, dtype=dtype, compressor=compressor)
a[...] = np.frombuffer(open(src, "rb").read(), dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
`;

interface Case {
  dtype: DataType;
  compression: "raw" | "gzip";
  size: [number, number, number];
  chunk: [number, number, number];
  channels?: number;
  offset?: [number, number, number];
}

const CASES: Case[] = [
  { dtype: "uint16", compression: "gzip", size: [37, 29, 11], chunk: [16, 8, 4] },
  { dtype: "uint16", compression: "raw", size: [37, 29, 11], chunk: [16, 8, 4] },
  { dtype: "uint64", compression: "raw", size: [21, 18, 9], chunk: [8, 8, 4] },
  { dtype: "uint64", compression: "gzip", size: [21, 18, 9], chunk: [8, 8, 4] },
  { dtype: "float32", compression: "gzip", size: [13, 7, 5], chunk: [4, 4, 4], offset: [3, 2, 1] },
  { dtype: "int8", compression: "raw", size: [9, 9, 9], chunk: [4, 4, 4], channels: 3 },
];

function infoFor(c: Case, scales = 1): LayerInfo {
  return {
    type: "image", data_type: c.dtype, num_channels: c.channels ?? 1,
    scales: Array.from({ length: scales }, (_, i) => ({
      key: `k${i}`,
      size: c.size.map((n) => Math.ceil(n / 2 ** i)) as [number, number, number],
      voxel_offset: c.offset ?? [0, 0, 0],
      resolution: [4 * 2 ** i, 4 * 2 ** i, 40],
      chunk_sizes: [c.chunk],
      encoding: "raw",
      compression: { type: c.compression, ...(c.compression === "gzip" ? { level: -1, useZlib: false } : {}) },
    })),
  };
}

const plugins = () => [n5(), fileStorage(), gzip()];

describe.skipIf(zarrMissing !== undefined)(`zarr-python's N5Store reads what we write${zarrMissing ? ` [skipped: ${zarrMissing}]` : ""}`, () => {
  for (const c of CASES) {
    const label = `${c.dtype} ${c.compression} ${c.size.join("x")}${c.channels ? `x${c.channels}` : ""} blocks ${c.chunk.join("x")}${c.offset ? ` offset ${c.offset}` : ""}`;
    it(`${label} (two scales)`, async () => {
      const dir = tempDir("cv-n5-zarr-");
      const ctx = new Context({ plugins: plugins() });
      const vol = await ChunkedVolume.open(ctx, `n5://file://${dir}`, { info: infoFor(c, 2) });
      await vol.commitInfo();
      const channels = c.channels ?? 1;
      const datas: Uint8Array[] = [];
      for (const mip of [0, 1]) {
        const b = vol.bounds(mip);
        const s = b.size();
        const bytes = randomVoxelBytes(c.dtype, s[0] * s[1] * s[2] * channels, 1234 + mip);
        const ctor = dtypeInfo(c.dtype).ctor;
        await vol.upload(b, new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / dtypeInfo(c.dtype).bytes), { mip });
        datas.push(bytes);
      }
      await vol.close();
      // End blocks are written truncated (the N5 spec): the block at the upper corner of s0.
      const g = c.size.map((n, d) => Math.floor((n - 1) / c.chunk[d]));
      const corner = readFileSync(join(dir, "s0", ...g.map(String), ...(channels > 1 ? ["0"] : [])));
      const dv = new DataView(corner.buffer, corner.byteOffset, corner.byteLength);
      const ndim = channels > 1 ? 4 : 3;
      expect(dv.getUint16(2, false)).toBe(ndim);
      expect([0, 1, 2].map((d) => dv.getUint32(4 + 4 * d, false))).toEqual(c.size.map((n, d) => n - g[d] * c.chunk[d]));
      const rootAttrs = JSON.parse(readFileSync(join(dir, "attributes.json"), "utf8"));
      expect(rootAttrs.n5).toMatch(/^2\.\d+\.\d+$/);
      for (const mip of [0, 1]) {
        const out = join(dir, `zarr-s${mip}.bin`);
        const { stdout } = await run(PY, ["-c", READ, dir, `s${mip}`, out]);
        const meta = JSON.parse(stdout);
        const size = infoFor(c, 2).scales[mip].size;
        expect(meta.shape).toEqual(channels > 1 ? [channels, size[2], size[1], size[0]] : [size[2], size[1], size[0]]);
        expect(meta.dtype).toBe(c.dtype);
        expect(meta.compressor.compressor_config?.id ?? null).toBe(c.compression === "gzip" ? "gzip" : null);
        if (mip === 1) expect(meta.attrs.downsamplingFactors.slice(0, 2)).toEqual([2, 2]);
        if (c.offset) expect(meta.attrs.voxelOffset).toEqual(c.offset);
        expect(firstDiff(new Uint8Array(readFileSync(out)), datas[mip]), `s${mip}: first differing byte`).toBe(-1);
      }
    }, 60_000);
  }
});

describe.skipIf(zarrMissing !== undefined)(`we read what zarr-python's N5Store writes${zarrMissing ? ` [skipped: ${zarrMissing}]` : ""}`, () => {
  const cases: Array<{ dtype: DataType; comp: string; xyz: [number, number, number]; chunk: [number, number, number] }> = [
    { dtype: "int16", comp: "gzip", xyz: [19, 23, 7], chunk: [8, 8, 3] },
    { dtype: "float64", comp: "raw", xyz: [10, 6, 5], chunk: [4, 4, 4] },
    { dtype: "uint32", comp: "gzip", xyz: [33, 5, 2], chunk: [16, 2, 2] },
  ];
  for (const c of cases) {
    it(`${c.dtype} ${c.comp} ${c.xyz.join("x")} (zarr pads end blocks)`, async () => {
      const dir = tempDir("cv-n5-fromzarr-");
      const n = c.xyz[0] * c.xyz[1] * c.xyz[2];
      const bytes = randomVoxelBytes(c.dtype, n, 99);
      const src = join(dir, "src.bin");
      await import("node:fs").then((fs) => fs.writeFileSync(src, bytes));
      const zshape = [...c.xyz].reverse().join(","), zchunks = [...c.chunk].reverse().join(",");
      await run(PY, ["-c", WRITE, join(dir, "c.n5"), c.dtype, zshape, zchunks, c.comp, src]);
      expect(readdirSync(join(dir, "c.n5", "s0")).length).toBeGreaterThan(1);
      const ctx = new Context({ plugins: plugins() });
      for (const url of [`n5://file://${join(dir, "c.n5")}`, `n5://file://${join(dir, "c.n5", "s0")}`]) {
        const vol = await ChunkedVolume.open(ctx, url);
        expect(vol.dtype).toBe(c.dtype);
        expect([...vol.bounds(0).max]).toEqual(c.xyz);
        const cut = await vol.download(vol.bounds(0));
        expect(firstDiff(new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength), bytes), url).toBe(-1);
        await vol.close();
      }
    }, 60_000);
  }
});
