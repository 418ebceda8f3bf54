#!/usr/bin/env node
/**
 * zarr v3 writes of the same 512x512x64 volumes as zarr-vs-zarrita.mjs (uint8 EM-like,
 * uint64 label-like; gzip 5 in 64^3 chunks), ours in the same run: unsharded (one object
 * per chunk) vs sharded (sharding_indexed, 256x256x64 shards of 16 chunks, crc32c index).
 * Then a one-chunk update of the sharded array: its time, and how many stored objects
 * changed (a read-modify-write of exactly one shard). The limit printed is zlib alone
 * deflating every chunk at the same level on one thread. Medians of RUNS writes after a
 * warm-up, with the spread (min-max), into fresh directories.
 * Usage (after pnpm build): node packages/format-zarr/bench/zarr3-sharded-write.mjs [runs]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Bbox, Context } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { fileStorage } from "@cloudvolume/storage-file";
import { gzip } from "@cloudvolume/codec-gzip";
import { zarr } from "../dist/index.js";

const RUNS = Number(process.argv[2] ?? 7);
const ctx = new Context({ plugins: [zarr(), fileStorage(), gzip()] });
const SIZE = [512, 512, 64];
const CHUNK = [64, 64, 64];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const spread = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

function volumeData(dtype) {
  const n = SIZE[0] * SIZE[1] * SIZE[2];
  if (dtype === "uint8") {
    const data = new Uint8Array(n);
    let s = 1;
    for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; const x = i % 512, y = (i >> 9) % 512; data[i] = (128 + 60 * Math.sin(x / 9) * Math.cos(y / 13) + (s >>> 28)) & 255; }
    return data;
  }
  const data = new BigUint64Array(n);
  for (let i = 0; i < n; i++) { const x = i % 512, y = (i >> 9) % 512, z = i >> 18; data[i] = BigInt(1 + (x >> 5) + 16 * (y >> 5) + 256 * (z >> 4)) * 1000003n; }
  return data;
}

function snapshot(dir) {
  const out = new Map();
  const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else out.set(p, readFileSync(p)); } };
  walk(dir);
  return out;
}

async function writeOnce(dtype, data, sharded) {
  const dir = mkdtempSync(join(tmpdir(), "cv-bench-zarr3-"));
  const scale = { key: "0", size: SIZE, voxel_offset: [0, 0, 0], resolution: [4, 4, 40], chunk_sizes: [CHUNK], encoding: "raw" };
  if (sharded) scale.sharding = { "@type": "zarr3_sharding_indexed", shard_shape: [256, 256, 64], index_location: "end" };
  const info = { type: "image", data_type: dtype, num_channels: 1, scales: [scale] };
  const vol = await ChunkedVolume.open(ctx, `zarr3://file://${dir}`, { info, compressor: { id: "gzip", level: 5 } });
  await vol.commitInfo();
  const t0 = performance.now();
  await vol.upload(vol.bounds(0), data);
  return { dir, vol, ms: performance.now() - t0 };
}

/** zlib deflating each 64^3 chunk of `data` at level 5: the compression work any writer does. */
function deflateLimit(data) {
  const bytes = new Uint8Array(data.buffer);
  const bpv = data.BYTES_PER_ELEMENT;
  const chunk = new Uint8Array(CHUNK[0] * CHUNK[1] * CHUNK[2] * bpv);
  const t0 = performance.now();
  for (let cz = 0; cz < SIZE[2]; cz += 64) for (let cy = 0; cy < SIZE[1]; cy += 64) for (let cx = 0; cx < SIZE[0]; cx += 64) {
    let o = 0;
    for (let z = 0; z < 64; z++) for (let y = 0; y < 64; y++) {
      const start = ((cz + z) * SIZE[1] * SIZE[0] + (cy + y) * SIZE[0] + cx) * bpv;
      chunk.set(bytes.subarray(start, start + 64 * bpv), o);
      o += 64 * bpv;
    }
    gzipSync(chunk, { level: 5 });
  }
  return performance.now() - t0;
}

console.log(`zarr v3 writes of 512x512x64 gzip-5 64^3 chunks, medians of ${RUNS} (after a warm-up), Node ${process.version}`);
for (const dtype of ["uint8", "uint64"]) {
  const data = volumeData(dtype);
  const times = { plain: [], sharded: [] };
  for (let r = 0; r <= RUNS; r++) {
    for (const kind of ["plain", "sharded"]) {
      const w = await writeOnce(dtype, data, kind === "sharded");
      if (r > 0) times[kind].push(w.ms);
      await w.vol.close();
      rmSync(w.dir, { recursive: true, force: true });
    }
  }
  const limits = [];
  for (let r = 0; r < 3; r++) limits.push(deflateLimit(data));
  const p = median(times.plain), s = median(times.sharded);
  console.log(`${dtype}\n  unsharded (64 objects)  ${p.toFixed(0).padStart(5)} ms [${spread(times.plain)}]\n  sharded (4 shards)      ${s.toFixed(0).padStart(5)} ms [${spread(times.sharded)}]   sharded/unsharded ${(s / p).toFixed(2)}x\n  limit: zlib deflate of the 64 chunks, 1 thread ${median(limits).toFixed(0)} ms`);

  // One-chunk update of the sharded array: read-modify-write of its shard.
  const w = await writeOnce(dtype, data, true);
  const before = snapshot(w.dir);
  const box = new Bbox([64, 256, 0], [128, 320, 64]);
  const patch = dtype === "uint8" ? new Uint8Array(64 ** 3).fill(7) : new BigUint64Array(64 ** 3).fill(7n);
  const ts = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await w.vol.upload(box, patch);
    ts.push(performance.now() - t0);
  }
  const after = snapshot(w.dir);
  const changed = [...after.keys()].filter((k) => !before.has(k) || !before.get(k).equals(after.get(k)));
  const check = await w.vol.download(box);
  const ok = check.data.every((v) => v === (dtype === "uint8" ? 7 : 7n));
  console.log(`  one-chunk update (${box}): ${median(ts).toFixed(1)} ms [${spread(ts)}]; objects changed: ${changed.length} of ${after.size} (${changed.map((k) => k.slice(w.dir.length + 1)).join(", ")}); reads back: ${ok}`);
  await w.vol.close();
  rmSync(w.dir, { recursive: true, force: true });
}
