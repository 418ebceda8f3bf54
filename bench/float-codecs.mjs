#!/usr/bin/env node
/**
 * Float codec benchmark: decode and encode throughput (million voxels per second, one
 * core) of @cloudvolume/codec-fpzip (fpzip, kempressed) and @cloudvolume/codec-zfpc
 * (reversible, and fixed accuracy 0.01 as the pc_float32_zfpc fixture) next to, in the
 * same run on the same chunks:
 *   plain     the library itself (libfpzip / libzfp, Debian's) called from C++ with no
 *             Node, container or copies: bench/native/float_plain.cc, compiled here
 *   CV        CloudVolume 12.14.4's chunks.decode / chunks.encode (reference install)
 * The issue's target: ours within 90% of the plain library (ratio >= 0.90).
 *
 *   smooth    the fixtures' 64x64x32 float32 ground truth, mirrored to 128x128x64
 *   fixtures  the eight 32x32x16 chunks of the same volume
 *
 * Medians of RUNS timed repetitions (each >= 20 ms) after a warm-up, in three rounds that
 * alternate ours and the plain library (the median round counts); [min-max] is the spread
 * of ours over all repetitions. Usage: pnpm build && node bench/float-codecs.mjs [runs]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PY_PER_CALL, median, timeIt as timeRuns } from "./timing.mjs";
import { fpzipBackend, fpzipCodec, kempressedCodec } from "../packages/codec-fpzip/dist/index.js";
import { readStreams, zfpcBackend, zfpcCodec } from "../packages/codec-zfpc/dist/index.js";

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const ROUNDS = 3;
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = process.env.CLOUDVOLUME_FIXTURES ?? resolve(here, "..", "..", "shared", "fixtures");
const REF = process.env.CLOUDVOLUME_REFERENCE ?? "/opt/cloudvolume-reference";
for (const b of [fpzipBackend(), zfpcBackend()]) if (b.backend !== "native") { console.error(b.why); process.exit(1); }

const timeIt = (fn) => timeRuns(fn, RUNS);

// The volume, and the same mirrored to 128x128x64.
const G = [64, 64, 32];
const gt = new Float32Array(readFileSync(join(FIXTURES, "_ground_truth", "f32_64x64x32.bin")).buffer.slice(0));
const mirror = (v, n) => { const k = v % (2 * n); return k < n ? k : 2 * n - 1 - k; };
const L = [128, 128, 64];
const large = new Float32Array(L[0] * L[1] * L[2]);
for (let z = 0; z < L[2]; z++) for (let y = 0; y < L[1]; y++) for (let x = 0; x < L[0]; x++) large[x + L[0] * (y + L[1] * z)] = gt[mirror(x, G[0]) + G[0] * (mirror(y, G[1]) + G[1] * mirror(z, G[2]))];
const fixtureChunks = [];
for (const z0 of [0, 16]) for (const y0 of [0, 32]) for (const x0 of [0, 32]) {
  const c = new Float32Array(32 * 32 * 16);
  for (let z = 0; z < 16; z++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) c[x + 32 * (y + 32 * z)] = gt[x + x0 + G[0] * (y + y0 + G[1] * (z + z0))];
  fixtureChunks.push(c);
}
const groups = [
  { name: "smooth 128x128x64 float32", chunks: [{ shape: L, voxels: new Uint8Array(large.buffer) }] },
  { name: "8 fixture chunks 32x32x16 float32", chunks: fixtureChunks.map((c) => ({ shape: [32, 32, 16], voxels: new Uint8Array(c.buffer) })) },
];
const codecs = [
  { label: "fpzip", codec: fpzipCodec, params: {}, plain: "fpzip" },
  { label: "kempressed", codec: kempressedCodec, params: {} },
  { label: "zfpc reversible", codec: zfpcCodec, params: {}, plain: "zfp", mode: 0, param: 0, cv: {} },
  { label: "zfpc tolerance 0.01", codec: zfpcCodec, params: { zfpc_tolerance: 0.01 }, plain: "zfp", mode: 3, param: 0.01, cv: { tolerance: 0.01 } },
];

const work = mkdtempSync(join(tmpdir(), "cv-bench-float-"));
const plainExe = join(work, "float_plain");
let plainWhy = "";
try {
  execFileSync("g++", ["-std=c++17", "-O3", join(here, "native", "float_plain.cc"), "-lfpzip", "-lzfp", "-o", plainExe], { stdio: "pipe" });
} catch (e) {
  plainWhy = `the plain-library harness did not build (${String(e.stderr ?? e).split("\n")[0]})`;
}
const python = join(REF, "venv", "bin", "python");
const CV_SCRIPT = `
import sys, json, time, numpy as np
from cloudvolume import chunks
d, runs = sys.argv[1], int(sys.argv[2])
${PY_PER_CALL}
out = []
for c in json.load(open(d + "/cv.json")):
    shape = c["shape"] + [1]
    a = np.fromfile(c["raw"], dtype=np.float32).reshape(shape, order="F")
    b = open(c["stream"], "rb").read()
    out.append({"decode": per_call(lambda: chunks.decode(b, c["encoding"], shape=shape, dtype="float32")),
                "encode": per_call(lambda: chunks.encode(a, c["encoding"], compression_params=c["params"]))})
print(json.dumps(out))
`;

try {
  const rows = [];
  const cvJobs = [];
  let k = 0;
  for (const g of groups) {
    for (const c of codecs) {
      const row = { group: g.name, label: c.label, vox: 0, ours: { d: 0, e: 0, spread: [] }, plain: c.plain && !plainWhy ? { d: 0, e: 0 } : undefined, cv: [] };
      for (const ch of g.chunks) {
        const spec = { shape: ch.shape, channels: 1, dtype: "float32", key: "bench", params: c.params };
        const n = ch.shape[0] * ch.shape[1] * ch.shape[2];
        const stream = c.codec.encode(ch.voxels, spec);
        const out = new Uint8Array(n * 4);
        const raw = join(work, `${k}.raw`), file = join(work, `${k}.stream`), bare = join(work, `${k}.bare`);
        writeFileSync(raw, ch.voxels);
        writeFileSync(file, stream);
        // The plain library reads the bare stream: zfpc's single zfp stream, fpzip's whole chunk.
        if (row.plain) writeFileSync(bare, c.plain === "zfp" ? readStreams(stream, 1)[0] : stream);
        // Ours and the plain library take turns, ROUNDS times, and each keeps its median
        // round: this VM's speed drifts by more than the difference being measured.
        const rounds = { od: [], oe: [], pd: [], pe: [] };
        for (let round = 0; round < ROUNDS; round++) {
          const d = timeIt(() => c.codec.decode(stream, spec, out));
          const e = timeIt(() => c.codec.encode(ch.voxels, spec));
          rounds.od.push(d.s); rounds.oe.push(e.s);
          row.ours.spread.push([n / d.max / 1e6, n / d.min / 1e6, n / e.max / 1e6, n / e.min / 1e6]);
          if (row.plain) {
            const args = [c.plain, bare, raw, ...ch.shape.map(String), "1", String(RUNS), ...(c.plain === "zfp" ? [String(c.mode), String(c.param)] : [])];
            const r = JSON.parse(execFileSync(plainExe, args, { encoding: "utf8" }));
            rounds.pd.push(r.decode); rounds.pe.push(r.encode);
          }
        }
        row.vox += n; row.ours.d += median(rounds.od); row.ours.e += median(rounds.oe);
        if (row.plain) { row.plain.d += median(rounds.pd); row.plain.e += median(rounds.pe); }
        cvJobs.push({ row: rows.length, raw, stream: file, shape: ch.shape, encoding: c.codec.name, params: c.cv ?? {} });
        k++;
      }
      rows.push(row);
    }
  }
  let cvWhy = existsSync(python) ? "" : "no reference CloudVolume";
  if (!cvWhy) {
    writeFileSync(join(work, "cv.json"), JSON.stringify(cvJobs.map(({ row, ...j }) => j)));
    const times = JSON.parse(execFileSync(python, ["-c", CV_SCRIPT, work, String(RUNS)], { env: { ...process.env, PYTHONNOUSERSITE: "1", LD_LIBRARY_PATH: join(REF, "lib") }, encoding: "utf8" }));
    times.forEach((t, i) => rows[cvJobs[i].row].cv.push(t));
  }
  const mvx = (vox, s) => (vox / s / 1e6).toFixed(1);
  console.log(`float codecs, one core, MVx/s, medians of ${RUNS}, Node ${process.version}${plainWhy ? `; ${plainWhy}` : ""}${cvWhy ? `; ${cvWhy}` : ""}`);
  for (const r of rows) {
    const lo = (i) => Math.min(...r.ours.spread.map((s) => s[i])).toFixed(0), hi = (i) => Math.max(...r.ours.spread.map((s) => s[i])).toFixed(0);
    let line = `${r.group}, ${r.label}\n  ours   decode ${mvx(r.vox, r.ours.d)} [${lo(0)}-${hi(1)}]  encode ${mvx(r.vox, r.ours.e)} [${lo(2)}-${hi(3)}]`;
    if (r.plain) line += `\n  plain  decode ${mvx(r.vox, r.plain.d)}  encode ${mvx(r.vox, r.plain.e)}   ours/plain: decode ${(r.plain.d / r.ours.d).toFixed(2)}, encode ${(r.plain.e / r.ours.e).toFixed(2)} (target >= 0.90)`;
    if (r.cv.length) {
      const cd = r.cv.reduce((a, t) => a + t.decode, 0), ce = r.cv.reduce((a, t) => a + t.encode, 0);
      line += `\n  CV     decode ${mvx(r.vox, cd)}  encode ${mvx(r.vox, ce)}   ours/CV: decode ${(cd / r.ours.d).toFixed(2)}x, encode ${(ce / r.ours.e).toFixed(2)}x`;
    }
    console.log(line);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
