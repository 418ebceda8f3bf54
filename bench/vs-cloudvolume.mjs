#!/usr/bin/env node
/**
 * Ours against the real CloudVolume 12.14.4 (the reference install), in the same run on
 * the same files: the reference writes 512x512x64 layers in 64^3 chunks on local disk
 * (raw, gzip uint8, gzip uint64, compressed_segmentation, compresso, fpzip, jpeg, png),
 * then each side reads the whole layer (median of READS) and writes it into a fresh layer
 * (median of WRITES), one thread each (CloudVolume's default, parallel=1); ours also with
 * `parallel: 2`. The limits measured in the run: memcpy of the output, and one core of
 * libdeflate inflating the same .gz chunk files (our addon, whole-buffer, no I/O).
 * Ratios > 1 mean we are faster. Usage: pnpm build && node bench/vs-cloudvolume.mjs [reads]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudVolume } from "../packages/cloudvolume/dist/index.js";
import { gzipBackend } from "../packages/codec-gzip/dist/node.js";
import { memoryBackend } from "../packages/memory/dist/index.js";
import { median } from "./timing.mjs";

const READS = Math.max(3, Number(process.argv[2] ?? 5));
const WRITES = 3;
const REF = process.env.CLOUDVOLUME_REFERENCE ?? "/opt/cloudvolume-reference";
const python = join(REF, "venv", "bin", "python");
if (!existsSync(python)) {
  console.error(`no reference CloudVolume at ${REF}: bash ../shared/reference/cloudvolume/install.sh`);
  process.exit(1);
}
const env = { ...process.env, PYTHONNOUSERSITE: "1", LD_LIBRARY_PATH: join(REF, "lib") };

const LAYERS = [
  { name: "raw uint8", dtype: "uint8", type: "image", encoding: "raw", compress: "none", data: "em" },
  { name: "gzip uint8", dtype: "uint8", type: "image", encoding: "raw", compress: "gzip", data: "em" },
  { name: "gzip uint64", dtype: "uint64", type: "segmentation", encoding: "raw", compress: "gzip", data: "seg" },
  { name: "compressed_segmentation uint64", dtype: "uint64", type: "segmentation", encoding: "compressed_segmentation", compress: "gzip", data: "seg" },
  { name: "compresso uint64", dtype: "uint64", type: "segmentation", encoding: "compresso", compress: "none", data: "seg" },
  { name: "fpzip float32", dtype: "float32", type: "image", encoding: "fpzip", compress: "none", data: "float" },
  { name: "jpeg uint8", dtype: "uint8", type: "image", encoding: "jpeg", compress: "none", data: "em" },
  { name: "png uint8", dtype: "uint8", type: "image", encoding: "png", compress: "none", data: "em" },
];

// The reference makes the data and the layers, and times itself reading and writing them.
const PY = `
import sys, json, time, shutil, numpy as np
from cloudvolume import CloudVolume
root, reads, writes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
layers = json.loads(sys.argv[4])
rng = np.random.default_rng(7)
S = (512, 512, 64)
x, y, z = np.meshgrid(np.arange(S[0]), np.arange(S[1]), np.arange(S[2]), indexing="ij")
def make(kind):
    if kind == "em":
        v = 128 + 60 * np.sin(x / 17.0) * np.cos(y / 23.0) + 20 * np.sin(z / 5.0) + rng.normal(0, 12, S)
        return np.clip(v, 0, 255).astype(np.uint8)
    if kind == "float":
        return (np.sin(x / 31.0) * np.cos(y / 19.0) * np.sin(z / 7.0) + rng.normal(0, 0.01, S)).astype(np.float32)
    # segmentation: irregular cells (a coarse label grid, jittered), large uint64 ids
    jx = (x + 6 * np.sin(y / 9.0)).astype(np.int64) // 24
    jy = (y + 6 * np.sin(z / 4.0 + x / 11.0)).astype(np.int64) // 24
    jz = z.astype(np.int64) // 8
    return (jx * 1000003 + jy * 1009 + jz + 2**40).astype(np.uint64)
def info(l):
    return CloudVolume.create_new_info(num_channels=1, layer_type=l["type"], data_type=l["dtype"], encoding=l["encoding"],
        resolution=[4, 4, 40], voxel_offset=[0, 0, 0], volume_size=list(S), chunk_size=[64, 64, 64])
def per(fn, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
out = []
for i, l in enumerate(layers):
    a = make(l["data"])[..., None]
    np.asfortranarray(a).tofile("%s/%d.raw" % (root, i))
    comp = None if l["compress"] == "none" else l["compress"]
    path = "file://%s/layer%d" % (root, i)
    vol = CloudVolume(path, info=info(l), compress=comp, progress=False)
    vol.commit_info()
    vol[:, :, :] = a
    rv = CloudVolume(path, progress=False)
    def read():
        rv[:, :, :]
    def write():
        shutil.rmtree("%s/py-write%d" % (root, i), ignore_errors=True)
        v = CloudVolume("file://%s/py-write%d" % (root, i), info=info(l), compress=comp, progress=False)
        v.commit_info()
        v[:, :, :] = a
    read()
    out.append({"read": per(read, reads), "write": per(write, writes)})
print(json.dumps(out))
`;

const root = mkdtempSync(join(tmpdir(), "cv-vs-ref-"));
try {
  console.log(`ours vs CloudVolume 12.14.4, 512x512x64 layers in 64^3 chunks on local disk; reads median of ${READS}, writes of ${WRITES}; Node ${process.version}`);
  console.log(`gzip: ${gzipBackend().backend}; large buffers: ${memoryBackend().backend}`);
  const ref = JSON.parse(execFileSync(python, ["-c", PY, root, String(READS), String(WRITES), JSON.stringify(LAYERS)], { env, encoding: "utf8", maxBuffer: 1 << 24 }));
  const mb = (bytes, s) => (bytes / s / 1e6).toFixed(0);
  for (const [i, l] of LAYERS.entries()) {
    const layer = `file://${join(root, `layer${i}`)}`;
    const time = async (fn, n) => {
      const ts = [];
      for (let r = 0; r < n; r++) { const t = performance.now(); await fn(); ts.push((performance.now() - t) / 1000); }
      return median(ts);
    };
    // One open volume per setting, read READS times: steady state on both sides (a
    // CloudVolume object is reused in the reference too). Opening with parallel: 2 starts
    // a worker pool, timed on its own below.
    const v1 = await CloudVolume.open(layer, { parallel: 1 });
    const t0 = performance.now();
    const v2 = await CloudVolume.open(layer, { parallel: 2 });
    await v2.download(v2.bounds); // starts the pool
    const firstParallel = (performance.now() - t0) / 1000;
    await v1.download(v1.bounds); // warm the page cache and the code
    const r1 = await time(() => v1.download(v1.bounds), READS);
    const r2 = await time(() => v2.download(v2.bounds), READS);
    await v1.close();
    await v2.close();
    const src = await CloudVolume.open(layer);
    const cut = await src.download(src.bounds);
    const info = src.info;
    await src.close();
    const bytes = cut.data.byteLength;
    let n = 0;
    const write = async () => {
      const dst = await CloudVolume.open(`file://${join(root, `ours-write${i}-${n++}`)}`, { info, compress: l.compress === "none" ? false : l.compress });
      await dst.commitInfo();
      await dst.upload(dst.bounds, cut.data);
      await dst.close();
    };
    const w1 = await time(write, WRITES);
    console.log(`${l.name.padEnd(31)} read ${mb(bytes, r1)} MB/s (parallel 2: ${mb(bytes, r2)}; its first read, pool start included: ${(firstParallel * 1000).toFixed(0)} ms) vs CV ${mb(bytes, ref[i].read)}: ${(ref[i].read / r1).toFixed(2)}x (${(ref[i].read / r2).toFixed(2)}x)   write ${mb(bytes, w1)} MB/s vs CV ${mb(bytes, ref[i].write)}: ${(ref[i].write / w1).toFixed(2)}x`);
    if (l.compress === "gzip" && l.encoding === "raw") {
      // One core of libdeflate over the same files, into one reused buffer: the inflate limit.
      const { createRequire } = await import("node:module");
      const addon = createRequire(import.meta.url)("../packages/codec-gzip/build/Release/deflate.node");
      const dir = join(root, `layer${i}`, "4_4_40");
      const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
      const buf = new Uint8Array(64 * 64 * 64 * (l.dtype === "uint64" ? 8 : 1));
      const t = await time(() => { for (const f of files) addon.gunzipInto(f, buf); }, READS);
      console.log(`${"".padEnd(31)} libdeflate one core on the same files: ${mb(bytes, t)} MB/s; our single-thread read is ${(t / r1 * 100).toFixed(0)}% of it`);
    }
  }
  // memcpy of a cutout-sized buffer, already faulted in: the copy limit.
  const a = new Uint8Array(512 * 512 * 64 * 8).fill(1), b = new Uint8Array(a.length).fill(2);
  const tm = median(Array.from({ length: 5 }, () => { const t = performance.now(); b.set(a); return (performance.now() - t) / 1000; }));
  console.log(`memcpy of 128 MiB (faulted in): ${(a.length / tm / 1e6).toFixed(0)} MB/s`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
