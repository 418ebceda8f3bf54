#!/usr/bin/env node
/**
 * Whole-array reads, ours (chunk engine + this driver) vs zarrita.js (npm 0.7.5) on the same
 * files in the same run: the zarr2_u8_gzip fixture (zarr-python 2, 32x64x64 uint8, gzip 5,
 * 8 chunks), then 512x512x64 uint8 and uint64 gzip arrays in 64^3 chunks that we write
 * (EM-like image; label-like segmentation). Ours runs on the calling thread and, through
 * the cloudvolume facade, on 2 worker threads (this machine's cores). The limit printed
 * beside them is zlib alone inflating every chunk file on one thread (already read into
 * memory): no reader that uses zlib on one thread can beat it.
 * Medians of RUNS reads after a warm-up, with the spread (min-max).
 * Usage (after pnpm build): node packages/format-zarr/bench/zarr-vs-zarrita.mjs [runs]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as zarrita from "zarrita";
import { FileSystemStore } from "@zarrita/storage";
import { Context } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { fileStorage } from "@cloudvolume/storage-file";
import { gzip } from "@cloudvolume/codec-gzip";
import { zarr } from "../dist/index.js";
// By path: the facade (worker threads) depends on this package, so it is no dependency of it.
import { CloudVolume } from "../../cloudvolume/dist/index.js";

const RUNS = Number(process.argv[2] ?? 9);
const here = dirname(fileURLToPath(import.meta.url));
const fixtures = process.env.CLOUDVOLUME_FIXTURES ?? resolve(here, "..", "..", "..", "..", "shared", "fixtures");
const ctx = new Context({ plugins: [zarr(), fileStorage(), gzip()] });
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

let spread = "";
async function time(fn) {
  await fn();
  const ts = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  spread = `${Math.min(...ts).toFixed(0)}-${Math.max(...ts).toFixed(0)}`;
  return median(ts);
}

function chunkFiles(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...chunkFiles(p));
    else if (!f.startsWith(".") && f !== "zarr.json") out.push(readFileSync(p));
  }
  return out;
}

async function compare(label, dir, bytes) {
  const ours = await ChunkedVolume.open(ctx, `zarr://file://${dir}`);
  const bounds = ours.bounds(0);
  const tOurs = await time(() => ours.download(bounds));
  const sOurs = spread;
  const facade = await CloudVolume.open(`zarr://file://${dir}`, { parallel: 2 });
  const tPar = await time(() => facade.download(facade.bounds));
  const sPar = spread;
  const store = new FileSystemStore(dir);
  const arr = await zarrita.open.v2(zarrita.root(store), { kind: "array" });
  const tZarrita = await time(() => zarrita.get(arr));
  const sZarrita = spread;
  const files = chunkFiles(dir);
  const tInflate = await time(async () => { for (const f of files) gunzipSync(f); });
  // Same voxels?
  const a = await ours.download(bounds);
  const b = (await zarrita.get(arr)).data;
  const same = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const mb = bytes / 1e6;
  const ms = (t, s) => `${t.toFixed(1).padStart(6)} ms [${s}] (${(mb / t * 1000).toFixed(0).padStart(4)} MB/s)`;
  console.log(`${label}\n  ours 1 thread   ${ms(tOurs, sOurs)}  ${(tZarrita / tOurs).toFixed(2)}x zarrita\n  ours 2 threads  ${ms(tPar, sPar)}  ${(tZarrita / tPar).toFixed(2)}x zarrita\n  zarrita         ${ms(tZarrita, sZarrita)}\n  limit: zlib inflate of the chunk files, 1 thread ${tInflate.toFixed(1)} ms (ours 1 thread at ${(tInflate / tOurs).toFixed(2)}x of it)   same voxels: ${same}`);
  await ours.close();
  await facade.close();
}

async function synthetic(dtype) {
  const dir = mkdtempSync(join(tmpdir(), `cv-bench-zarr-${dtype}-`));
  const size = [512, 512, 64];
  const info = { type: dtype === "uint8" ? "image" : "segmentation", data_type: dtype, num_channels: 1, scales: [{ key: "0", size, voxel_offset: [0, 0, 0], resolution: [4, 4, 40], chunk_sizes: [[64, 64, 64]], encoding: "raw" }] };
  const vol = await ChunkedVolume.open(ctx, `zarr://file://${dir}`, { info, compressor: { id: "gzip", level: 5 } });
  await vol.commitInfo();
  const n = size[0] * size[1] * size[2];
  let data;
  if (dtype === "uint8") {
    data = new Uint8Array(n);
    let s = 1;
    for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; const x = i % 512, y = (i >> 9) % 512; data[i] = (128 + 60 * Math.sin(x / 9) * Math.cos(y / 13) + (s >>> 28)) & 255; }
  } else {
    data = new BigUint64Array(n);
    for (let i = 0; i < n; i++) { const x = i % 512, y = (i >> 9) % 512, z = i >> 18; data[i] = BigInt(1 + (x >> 5) + 16 * (y >> 5) + 256 * (z >> 4)) * 1000003n; }
  }
  await vol.upload(vol.bounds(0), data);
  await vol.close();
  // The array is the dataset "0" of the group we wrote.
  return { dir: join(dir, "0"), root: dir, bytes: data.byteLength };
}

console.log(`whole-array reads, medians of ${RUNS} (after a warm-up), Node ${process.version}`);
await compare("zarr2_u8_gzip (fixture, 128 KiB)", join(fixtures, "zarr2_u8_gzip", "data.zarr"), 32 * 64 * 64);
for (const dtype of ["uint8", "uint64"]) {
  const s = await synthetic(dtype);
  try {
    await compare(`512x512x64 ${dtype} gzip, 64^3 chunks`, s.dir, s.bytes);
  } finally {
    rmSync(s.root, { recursive: true, force: true });
  }
}
