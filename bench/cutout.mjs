#!/usr/bin/env node
/**
 * Cutout benchmark (issue: foundation). Prints throughput and ratios against
 * limits measured in the same run on the same machine, never absolute times:
 *
 *   raw assembly     painting 64^3 decoded chunks into one 512x512x64 output,
 *                    vs memcpy of the same number of bytes (TypedArray#set)
 *   raw cutout       the same from uncompressed files on local disk, end to end
 *   gzip cutout      512x512x64 from 64^3 gzip chunks on local disk, end to end,
 *                    vs inflating the same chunk files on one core (zlib.gunzipSync)
 *
 * Medians of RUNS repetitions; ratios are medians of back-to-back pairs. Usage: node bench/cutout.mjs [runs]
 * Requires a build (pnpm build).
 */
import { mkdtempSync, rmSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CloudVolume } from "../packages/cloudvolume/dist/index.js";
import { copyBox, Bbox } from "../packages/core/dist/index.js";

const RUNS = Number(process.argv[2] ?? 9);
const SHAPE = [512, 512, 64];
const CHUNK = [64, 64, 64];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
async function once(fn) { const t0 = performance.now(); await fn(); return performance.now() - t0; }
async function timeIt(fn) {
  await fn(); // warm-up: JIT, page cache, pooled buffers
  const t = [];
  for (let i = 0; i < RUNS; i++) t.push(await once(fn));
  return median(t);
}
/**
 * Time `fn` and its limit `ref` alternately, RUNS times, and return the medians and
 * the median of the per-pair ratios: a shared machine's drift (clock, other load)
 * hits both sides of each pair alike.
 */
async function paired(fn, ref) {
  await fn(); await ref();
  const a = [], b = [], r = [];
  for (let i = 0; i < RUNS; i++) {
    const tf = await once(fn), tr = await once(ref);
    a.push(tf); b.push(tr); r.push(tr / tf);
  }
  return { ms: median(a), refMs: median(b), ratio: median(r) };
}
const gbps = (bytes, ms) => (bytes / 1e9 / (ms / 1e3)).toFixed(2);
const pct = (x) => `${(100 * x).toFixed(0)}%`;

/** Image-like content: smooth ramps plus a little noise, so gzip ratios are realistic (~3-6x). */
function makeData(dtype) {
  const Ctor = dtype === "uint8" ? Uint8Array : BigUint64Array;
  const a = new Ctor(N);
  let seed = 12345;
  for (let z = 0, i = 0; z < SHAPE[2]; z++) for (let y = 0; y < SHAPE[1]; y++) for (let x = 0; x < SHAPE[0]; x++, i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = ((x >> 2) + (y >> 3) + 3 * z + ((seed >>> 28) & 3)) & 0xff;
    a[i] = dtype === "uint8" ? v : BigInt(((x >> 5) + 16 * (y >> 5) + 256 * (z >> 4)) * 1000003 + 1);
  }
  return a;
}

async function makeLayer(root, dtype, compress) {
  const dir = join(root, `${dtype}-${compress || "raw"}`);
  const info = CloudVolume.createNewInfo({
    layerType: dtype === "uint8" ? "image" : "segmentation", dataType: dtype, encoding: "raw",
    resolution: [4, 4, 40], volumeSize: SHAPE, chunkSize: CHUNK,
  });
  const vol = await CloudVolume.open(`file://${dir}`, { info, compress });
  await vol.commitInfo();
  await vol.upload([0, 0, 0, ...SHAPE], makeData(dtype));
  return { dir, vol };
}

const root = mkdtempSync(join(tmpdir(), "cv-bench-"));
const rows = [];
try {
  for (const dtype of ["uint8", "uint64"]) {
    const bpv = dtype === "uint8" ? 1 : 8;
    const bytes = N * bpv;

    // memcpy limit: one TypedArray#set of the whole output.
    const src = new Uint8Array(bytes).fill(1), dst = new Uint8Array(bytes);
    const memcpy = () => { dst.set(src); };
    const memcpyMs = await timeIt(memcpy);

    // Raw assembly: paint pre-decoded chunks into one output.
    const chunks = [];
    for (let z = 0; z < SHAPE[2]; z += CHUNK[2]) for (let y = 0; y < SHAPE[1]; y += CHUNK[1]) for (let x = 0; x < SHAPE[0]; x += CHUNK[0]) {
      chunks.push({ origin: [x, y, z], data: new Uint8Array(CHUNK[0] * CHUNK[1] * CHUNK[2] * bpv).fill(x & 0xff) });
    }
    const out = new Uint8Array(bytes);
    const assembly = await paired(() => {
      for (const c of chunks) copyBox({ src: c.data, srcShape: CHUNK, srcOrigin: [0, 0, 0], dst: out, dstShape: SHAPE, dstOrigin: c.origin, size: CHUNK, bytesPerVoxel: bpv });
    }, memcpy);
    const assemblyMs = assembly.ms;
    // A cutout whose box is not chunk-aligned: every chunk is clipped in x and y.
    const off = [7, 9, 0], sub = [SHAPE[0] - 64, SHAPE[1] - 64, SHAPE[2]];
    const subBox = new Bbox(off, [off[0] + sub[0], off[1] + sub[1], off[2] + sub[2]]);
    const subOut = new Uint8Array(sub[0] * sub[1] * sub[2] * bpv);
    const subMs = await timeIt(() => {
      for (const c of chunks) {
        const cb = new Bbox(c.origin, [c.origin[0] + 64, c.origin[1] + 64, c.origin[2] + 64]);
        const o = cb.intersection(subBox);
        if (o.isEmpty()) continue;
        copyBox({ src: c.data, srcShape: CHUNK, srcOrigin: [o.min[0] - cb.min[0], o.min[1] - cb.min[1], o.min[2] - cb.min[2]], dst: subOut, dstShape: sub,
          dstOrigin: [o.min[0] - off[0], o.min[1] - off[1], o.min[2] - off[2]], size: o.size(), bytesPerVoxel: bpv });
      }
    });
    const subBytes = subOut.byteLength;

    // End-to-end cutouts from local disk.
    const rawLayer = await makeLayer(root, dtype, false);
    const rawCutMs = await timeIt(() => rawLayer.vol.download([0, 0, 0, ...SHAPE]));
    const gzLayer = await makeLayer(root, dtype, "gzip");
    const gzCutMs = await timeIt(() => gzLayer.vol.download([0, 0, 0, ...SHAPE]));
    let gz; // filled below, once the files exist

    // One-core inflate of the very same chunk files (already in memory).
    const scaleDir = join(gzLayer.dir, "4_4_40");
    const files = readdirSync(scaleDir).map((f) => readFileSync(join(scaleDir, f)));
    const compressed = files.reduce((s, f) => s + f.length, 0);
    const inflate = () => { for (const f of files) gunzipSync(f, { chunkSize: 64 * 64 * 64 * bpv }); };
    const inflateMs = await timeIt(inflate);
    gz = await paired(() => gzLayer.vol.download([0, 0, 0, ...SHAPE]), inflate);

    rows.push({ dtype, bytes, memcpyMs, assemblyMs, assemblyRatio: assembly.ratio, subMs, subBytes, rawCutMs, gzCutMs, gzRatio: gz.ratio, inflateMs, compressed });
    await rawLayer.vol.close();
    await gzLayer.vol.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

console.log(`cutout 512x512x64 from 64^3 chunks on local disk; median of ${RUNS} runs; node ${process.version}`);
let ok = true;
for (const r of rows) {
  const assemblyRatio = r.assemblyRatio;
  const subRatio = (r.subBytes / r.subMs) / (r.bytes / r.memcpyMs);
  const gzRatio = r.gzRatio;
  const target = r.dtype === "uint8" ? 0.4 : 0.5;
  console.log(`\n[${r.dtype}] ${(r.bytes / 2 ** 20).toFixed(0)} MiB output, gzip files ${(r.compressed / 2 ** 20).toFixed(2)} MiB`);
  console.log(`  memcpy (limit)            ${gbps(r.bytes, r.memcpyMs)} GB/s`);
  console.log(`  raw assembly              ${gbps(r.bytes, r.assemblyMs)} GB/s  = ${pct(assemblyRatio)} of memcpy (target >= ${pct(target)}) ${assemblyRatio >= target ? "PASS" : "FAIL"}`);
  console.log(`  raw assembly, unaligned   ${gbps(r.subBytes, r.subMs)} GB/s  = ${pct(subRatio)} of memcpy`);
  console.log(`  raw cutout from disk      ${gbps(r.bytes, r.rawCutMs)} GB/s  = ${pct(r.memcpyMs / r.rawCutMs)} of memcpy`);
  console.log(`  one-core gunzip (limit)   ${gbps(r.bytes, r.inflateMs)} GB/s of output`);
  console.log(`  gzip cutout from disk     ${gbps(r.bytes, r.gzCutMs)} GB/s  = ${pct(gzRatio)} of one-core inflate${r.dtype === "uint8" ? ` (target >= 80%) ${gzRatio >= 0.8 ? "PASS" : "FAIL"}` : ""}`);
  if (assemblyRatio < target || (r.dtype === "uint8" && gzRatio < 0.8)) ok = false;
}
console.log(`\n${ok ? "all targets met" : "some targets missed"}`);
