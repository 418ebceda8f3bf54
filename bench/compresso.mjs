#!/usr/bin/env node
/**
 * compresso benchmark: decode and encode throughput (million voxels per second, one core)
 * of @cloudvolume/codec-compresso's built dist (TypeScript) next to CloudVolume 12.14.4's
 * compresso 3.3.3 (C++ through Python, the reference install) on the same chunks in the
 * same run, against the issue's targets (native decode >= 150 MVx/s, encode >= 80 MVx/s;
 * pure decoder >= 40 MVx/s), and the time to decode one z slice alone (native, through
 * the z index) next to the whole chunk's.
 *
 *   fib25       the fib25 64x64x16 uint64 segmentation of the fixtures, tiled to a
 *               128x128x64 chunk (real connectomics boundaries)
 *   fixtures    every chunk of pc_seg_u64_compresso and pc_seg_fib25_compresso (32x32x16)
 *
 * Medians of RUNS timed repetitions after a warm-up, each lasting >= 20 ms; the spread is
 * min-max. Usage: pnpm --filter @cloudvolume/codec-compresso build && node bench/compresso.mjs [runs]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PY_PER_CALL, timeIt as timeRuns } from "./timing.mjs";
import { compressoBackend, compressoCodec, decodeCompresso, encodeCompresso, nativeCompresso } from "../packages/codec-compresso/dist/index.js";

const RUNS = Math.max(5, Number(process.argv[2] ?? 9));
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = process.env.CLOUDVOLUME_FIXTURES ?? resolve(here, "..", "..", "shared", "fixtures");
const REF = process.env.CLOUDVOLUME_REFERENCE ?? "/opt/cloudvolume-reference";

const timeIt = (fn) => timeRuns(fn, RUNS);

// fib25 tiled to 128x128x64 (mirrored tiles keep the boundaries continuous).
const gt = new BigUint64Array(readFileSync(join(FIXTURES, "_ground_truth", "fib25_u64_64x64x16.bin")).buffer.slice(0));
const S = [128, 128, 64];
const tiled = new BigUint64Array(S[0] * S[1] * S[2]);
for (let z = 0; z < S[2]; z++) for (let y = 0; y < S[1]; y++) for (let x = 0; x < S[0]; x++) {
  const m = (v, n) => { const k = v % (2 * n); return k < n ? k : 2 * n - 1 - k; };
  tiled[x + S[0] * (y + S[1] * z)] = gt[m(x, 64) + 64 * (m(y, 64) + 64 * m(z, 16))];
}
const cases = [{ name: "fib25 tiled 128x128x64 uint64", shape: S, voxels: new Uint8Array(tiled.buffer) }];
for (const f of ["pc_seg_u64_compresso", "pc_seg_fib25_compresso"]) {
  const dir = join(FIXTURES, f, "4_4_40");
  for (const name of readdirSync(dir)) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
    const shape = [x[1] - x[0], y[1] - y[0], z[1] - z[0]];
    cases.push({ name: `${f}/${name}`, shape, voxels: decodeCompresso(bytes, { shape, channels: 1, dtype: "uint64" }), fixture: true });
  }
}

function reference(streams) {
  const python = join(REF, "venv", "bin", "python");
  if (!existsSync(python)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "cv-bench-compresso-"));
  try {
    streams.forEach((c, i) => { writeFileSync(join(dir, `${i}.raw`), c.voxels); writeFileSync(join(dir, `${i}.json`), JSON.stringify(c.shape)); });
    const out = execFileSync(python, ["-c", `
import sys, json, time, numpy as np, compresso
d, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
${PY_PER_CALL}
res = []
for i in range(n):
    shape = json.load(open("%s/%d.json" % (d, i)))
    a = np.fromfile("%s/%d.raw" % (d, i), dtype=np.uint64).reshape(shape, order="F")
    b = compresso.compress(a)
    res.append({"decode": per_call(lambda: compresso.decompress(b)), "encode": per_call(lambda: compresso.compress(a))})
print(json.dumps(res))
`, dir, String(streams.length), String(RUNS)], { env: { ...process.env, PYTHONNOUSERSITE: "1", LD_LIBRARY_PATH: join(REF, "lib") }, encoding: "utf8" });
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const groups = [cases.slice(0, 1), cases.slice(1)];
const backend = compressoBackend();
const native = backend.backend === "native";
if (!native) console.log(`no native addon: ${backend.why}`);
// CloudVolume times every chunk ours does, so each group compares the same chunks.
const ref = reference(cases);
console.log(`compresso, one core, medians of ${RUNS} [min-max], Node ${process.version}${ref ? "" : " (no reference CloudVolume: its column is missing)"}`);
for (const [gi, group] of groups.entries()) {
  let sliceText = "";
  let vox = 0, tDec = 0, tEnc = 0, nDec = 0, nEnc = 0;
  const spreadD = [], spreadE = [], nSpreadD = [], nSpreadE = [];
  for (const c of group) {
    const spec = { shape: c.shape, channels: 1, dtype: "uint64" };
    const n = c.shape[0] * c.shape[1] * c.shape[2];
    const stream = encodeCompresso(c.voxels, spec);
    const out = new Uint8Array(n * 8); // the engine decodes into pooled buffers
    const d = timeIt(() => decodeCompresso(stream, spec, out));
    const e = timeIt(() => encodeCompresso(c.voxels, spec));
    vox += n; tDec += d.s; tEnc += e.s;
    spreadD.push(n / d.max / 1e6, n / d.min / 1e6); spreadE.push(n / e.max / 1e6, n / e.min / 1e6);
    if (native) {
      const nd = timeIt(() => compressoCodec.decode(stream, spec, out));
      const ne = timeIt(() => compressoCodec.encode(c.voxels, spec));
      nDec += nd.s; nEnc += ne.s;
      nSpreadD.push(n / nd.max / 1e6, n / nd.min / 1e6); nSpreadE.push(n / ne.max / 1e6, n / ne.min / 1e6);
      if (gi === 0) {
        // z-slice random access: one slice through the z index vs the whole chunk.
        const slice = new Uint8Array(c.shape[0] * c.shape[1] * 8);
        const z = c.shape[2] >> 1;
        const ns = timeIt(() => nativeCompresso().decodeSlice(stream, slice, c.shape[0], c.shape[1], c.shape[2], 8, z));
        sliceText = `\n  one z slice alone (native): ${(ns.s * 1e6).toFixed(0)} us [${(ns.min * 1e6).toFixed(0)}-${(ns.max * 1e6).toFixed(0)}] vs the whole chunk ${(nd.s * 1e6).toFixed(0)} us`;
      }
    }
  }
  const label = gi === 0 ? group[0].name : `${group.length} fixture chunks (32x32x16 uint64)`;
  // CloudVolume over the same chunks of the group: total voxels / total seconds, as ours.
  const first = gi === 0 ? 0 : 1;
  const rs = ref?.slice(first, first + group.length);
  const refText = rs ? `   CloudVolume's compresso: decode ${(vox / rs.reduce((a, r) => a + r.decode, 0) / 1e6).toFixed(1)}, encode ${(vox / rs.reduce((a, r) => a + r.encode, 0) / 1e6).toFixed(1)} MVx/s (the same ${group.length === 1 ? "chunk" : `${group.length} chunks`})` : "";
  const nativeText = native ? `\n  ours (native):     decode ${(vox / nDec / 1e6).toFixed(1)} MVx/s [${Math.min(...nSpreadD).toFixed(0)}-${Math.max(...nSpreadD).toFixed(0)}], encode ${(vox / nEnc / 1e6).toFixed(1)} MVx/s [${Math.min(...nSpreadE).toFixed(0)}-${Math.max(...nSpreadE).toFixed(0)}]` : "";
  console.log(`${label}${nativeText}\n  ours (TypeScript): decode ${(vox / tDec / 1e6).toFixed(1)} MVx/s [${Math.min(...spreadD).toFixed(0)}-${Math.max(...spreadD).toFixed(0)}], encode ${(vox / tEnc / 1e6).toFixed(1)} MVx/s [${Math.min(...spreadE).toFixed(0)}-${Math.max(...spreadE).toFixed(0)}]${refText ? `\n ${refText}` : ""}${sliceText}`);
}
