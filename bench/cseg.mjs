#!/usr/bin/env node
/**
 * compressed_segmentation benchmark: one-core decode and encode throughput of
 * @cloudvolume/codec-compressed-segmentation's built dist, against the targets
 * (decode >= 2 GB/s of uint64 output, encode >= 200 MB/s of input) and against
 * memcpy (TypedArray#set) of the same bytes measured in the same run.
 *
 *   synthetic   128x128x64 uint64 chunks of blocky segmentation: ~300 labels with
 *               wavy boundaries (many 8^3 blocks uniform, the rest 2-6 labels),
 *               block sizes 8x8x8 and 8x4x2, plus a uint32 copy
 *   fixtures    every chunk of the CloudVolume-written cseg fixtures (../shared/fixtures)
 *
 * Medians of RUNS timed repetitions after a warm-up; each repetition runs the
 * operation enough times to last >= 20 ms. Usage:
 *   pnpm --filter @cloudvolume/codec-compressed-segmentation build && node bench/cseg.mjs [runs]
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { compressedSegmentationCodec as codec, labels } from "../packages/codec-compressed-segmentation/dist/index.js";

const RUNS = Math.max(9, Number(process.argv[2] ?? 9));
const DECODE_TARGET = 2e9; // bytes of output per second
const ENCODE_TARGET = 200e6; // bytes of input per second
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = process.env.CLOUDVOLUME_FIXTURES ?? resolve(here, "..", "..", "shared", "fixtures");

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Median seconds per call of `fn`, batching calls so one timed repetition lasts >= 20 ms. */
function perCall(fn) {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const ms = performance.now() - t0;
    if (ms >= 20) break;
    reps *= 2;
  }
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    times.push((performance.now() - t0) / 1e3 / reps);
  }
  return median(times);
}

/** Deterministic 32-bit hash (murmur3 finaliser). */
function mix(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Blocky segmentation: cells of ~20x24x10 voxels whose walls wave with position, each
 * cell one large 64-bit id (top bit set for some), and a background-0 slab.
 */
function makeSegmentation([X, Y, Z], dtype) {
  const words = dtype === "uint64" ? 2 : 1;
  const a = new Uint32Array(X * Y * Z * words);
  let i = 0;
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++, i += words) {
        const cx = Math.floor((x + 5 * Math.sin(y / 7 + z / 11)) / 20);
        const cy = Math.floor((y + 4 * Math.sin(z / 5 + x / 13)) / 24);
        const cz = Math.floor((z + 3 * Math.sin(x / 9)) / 10);
        const cell = (cx + 16) + 64 * ((cy + 16) + 64 * (cz + 16));
        const bg = z > 40 && z < 46 && x < 64; // unlabelled slab
        a[i] = bg ? 0 : mix(cell * 2 + 1);
        if (words === 2) a[i + 1] = bg ? 0 : mix(cell * 2 + 2) & 0x8000ffff;
      }
  return new Uint8Array(a.buffer);
}

function fixtureChunks() {
  const out = [];
  if (!existsSync(FIXTURES)) return out;
  for (const name of ["pc_seg_u32_cseg", "pc_seg_u64_cseg", "pc_seg_u64_cseg_gzip_ragged", "pc_seg_fib25_cseg", "pc_seg_fib25_u32_cseg"]) {
    const dir = join(FIXTURES, name);
    if (!existsSync(dir)) continue;
    const info = JSON.parse(readFileSync(join(dir, "info"), "utf8"));
    const scale = info.scales[0];
    for (const file of readdirSync(join(dir, scale.key)).sort()) {
      const m = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)(\.gz)?$/.exec(file);
      if (!m) continue;
      const [x0, x1, y0, y1, z0, z1] = m.slice(1, 7).map(Number);
      const raw = readFileSync(join(dir, scale.key, file));
      const bytes = new Uint8Array(m[7] ? gunzipSync(raw) : raw);
      const chunk = {
        shape: [x1 - x0, y1 - y0, z1 - z0], channels: info.num_channels, dtype: info.data_type,
        key: `${name}/${file}`, params: { compressed_segmentation_block_size: scale.compressed_segmentation_block_size },
      };
      out.push({ bytes, chunk, voxels: codec.decode(bytes, chunk) });
    }
  }
  return out;
}

const gbps = (bytes, s) => bytes / s / 1e9;
const f2 = (x) => x.toFixed(2);
const rows = [];

function measure(label, cases) {
  const outBytes = cases.reduce((s, c) => s + c.voxels.byteLength, 0);
  const outs = cases.map((c) => new Uint8Array(c.voxels.byteLength));
  const src = new Uint8Array(outBytes);
  const dst = new Uint8Array(outBytes);
  const encoded = cases.map((c) => codec.encode(c.voxels, c.chunk));
  const encBytes = encoded.reduce((s, e) => s + e.byteLength, 0);
  const tDecode = perCall(() => { for (let i = 0; i < cases.length; i++) codec.decode(encoded[i], cases[i].chunk, outs[i]); });
  const tEncode = perCall(() => { for (const c of cases) codec.encode(c.voxels, c.chunk); });
  const tLabels = perCall(() => { for (let i = 0; i < cases.length; i++) labels(encoded[i], cases[i].chunk); });
  const tCopy = perCall(() => dst.set(src));
  const dec = gbps(outBytes, tDecode);
  const enc = gbps(outBytes, tEncode);
  const cpy = gbps(outBytes, tCopy);
  rows.push({
    case: label,
    "MB out": f2(outBytes / 1e6),
    ratio: f2(outBytes / encBytes),
    "decode GB/s": f2(dec),
    "vs 2 GB/s": f2(dec * 1e9 / DECODE_TARGET),
    "decode/memcpy": f2(dec / cpy),
    "encode MB/s": (enc * 1e3).toFixed(0),
    "vs 200 MB/s": f2(enc * 1e9 / ENCODE_TARGET),
    "encode/memcpy": f2(enc / cpy),
    "labels us": (tLabels * 1e6).toFixed(0),
    "memcpy GB/s": f2(cpy),
  });
}

const SHAPE = [128, 128, 64];
for (const [dtype, bs] of [["uint64", [8, 8, 8]], ["uint64", [8, 4, 2]], ["uint32", [8, 8, 8]]]) {
  const chunk = { shape: SHAPE, channels: 1, dtype, key: "bench", params: { compressed_segmentation_block_size: bs } };
  const voxels = makeSegmentation(SHAPE, dtype);
  const n = labels(codec.encode(voxels, chunk), chunk).length;
  measure(`synthetic ${SHAPE.join("x")} ${dtype} block ${bs.join("x")} (${n} labels)`, [{ chunk, voxels }]);
}
const fx = fixtureChunks();
if (fx.length) {
  measure(`fixtures uint64 (${fx.filter((c) => c.chunk.dtype === "uint64").length} chunks)`, fx.filter((c) => c.chunk.dtype === "uint64"));
  measure(`fixtures uint32 (${fx.filter((c) => c.chunk.dtype === "uint32").length} chunks)`, fx.filter((c) => c.chunk.dtype === "uint32"));
} else {
  console.log(`(fixtures not found at ${FIXTURES}; set CLOUDVOLUME_FIXTURES)`);
}

console.log(`compressed_segmentation, one core, node ${process.version}, medians of ${RUNS} runs`);
console.table(rows);
