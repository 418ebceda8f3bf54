import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Bbox, Context, DATA_TYPES, bytesOf, dtypeInfo, isCloudVolumeError, viewAs, type DataType, type Plugin, type TypedArray } from "@cloudvolume/core";
import { fixturePath, hasFixture, randomVoxelBytes, readGroundTruth, tempDir, runNodeScript } from "@cloudvolume/testing";
import { CloudVolume, defaultPlugins, liveWorkerThreads, type ProgressInfo } from "../src/index.js";
import { progressBar } from "../src/progress-bar.js";

/**
 * Parallel reads and writes (issue 5): worker threads paint cutouts straight into a
 * SharedArrayBuffer and write whole chunks each. Everything they produce must equal
 * the one-thread path bit for bit, and no thread may outlive close().
 *
 * The workers run the built dist/worker.js (as users get it), built on demand when missing.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

beforeAll(async () => {
  if (!existsSync(join(pkg, "dist", "worker.js")) || !existsSync(join(pkg, "dist", "cli.js"))) {
    await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
  }
}, 180_000);

const opened: CloudVolume[] = [];
afterEach(async () => {
  for (const v of opened.splice(0)) await v.close();
});

async function open(url: string, options: Parameters<typeof CloudVolume.open>[1] = {}): Promise<CloudVolume> {
  const v = await CloudVolume.open(url, options);
  opened.push(v);
  return v;
}

function sameBytes(a: TypedArray | Uint8Array, b: TypedArray | Uint8Array): boolean {
  const x = bytesOf(a as TypedArray), y = bytesOf(b as TypedArray);
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Threads of this process right now (Linux), to see that terminated workers are really gone. */
function osThreads(): number | undefined {
  try {
    return readdirSync("/proc/self/task").length;
  } catch {
    return undefined;
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

/** A gzip-compressed raw layer of `dtype` with edge chunks and an offset grid, filled with random voxels. */
async function makeLayer(dtype: DataType, opts: { channels?: number; sharded?: boolean } = {}): Promise<{ url: string; data: TypedArray; bounds: Bbox }> {
  const dir = tempDir("cv-parallel-");
  const url = `file://${dir}`;
  const size: [number, number, number] = [70, 60, 40];
  const offset: [number, number, number] = [3, -5, 7];
  const channels = opts.channels ?? 1;
  const info = CloudVolume.createNewInfo({
    layerType: dtype === "uint64" || dtype === "uint32" ? "segmentation" : "image", dataType: dtype, encoding: "raw",
    resolution: [4, 4, 40], voxelOffset: offset, volumeSize: size, chunkSize: [32, 32, 16], numChannels: channels,
  });
  const vol = await CloudVolume.open(url, { info });
  await vol.commitInfo();
  // Spatial shards of 2 x 2 x 1 chunks (identity hash; 5 Morton bits = preshift + minishard + shard), so there are several.
  if (opts.sharded) await vol.setSharding(0, { "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 2, minishard_bits: 1, shard_bits: 2, minishard_index_encoding: "gzip", data_encoding: "gzip" });
  const n = size[0] * size[1] * size[2] * channels;
  const data = viewAs(randomVoxelBytes(dtype, n, 17 + dtype.length), dtype);
  await vol.upload(vol.bounds, data);
  const bounds = vol.bounds;
  await vol.close();
  return { url, data, bounds };
}

describe("parallel download", () => {
  it("equals the one-thread download bit for bit for every dtype (whole layer and an unaligned box)", async () => {
    expect(DATA_TYPES).toHaveLength(10);
    for (const dtype of DATA_TYPES) {
      const { url, data, bounds } = await makeLayer(dtype, { channels: dtype === "uint8" ? 2 : 1 });
      const serial = await open(url);
      const parallel = await open(url, { parallel: 2 });
      for (const box of [bounds, new Bbox([5, 0, 10], [66, 47, 46])]) {
        const a = await serial.download(box);
        const b = await parallel.download(box);
        expect(b.data.buffer instanceof SharedArrayBuffer, dtype).toBe(true);
        expect(a.data.buffer instanceof SharedArrayBuffer, dtype).toBe(false);
        expect(b.data.constructor, dtype).toBe(dtypeInfo(dtype).ctor);
        expect(b.shape, dtype).toEqual(a.shape);
        expect(sameBytes(a.data, b.data), `${dtype} ${box}`).toBe(true);
      }
      expect(sameBytes((await serial.download(bounds)).data, data), dtype).toBe(true);
      expect(liveWorkerThreads(), "workers did the reading").toBeGreaterThan(0);
    }
  });

  it("a plugin that names its module (PluginDescriptor.module) reads on the workers too; one without stays on this thread", async () => {
    const { url, data, bounds } = await makeLayer("uint16");
    const dir = url.slice("file://".length);
    const moduleUrl = pathToFileURL(join(pkg, "test", "plugin-modules", "alias-storage.mjs")).href;
    const alias = (await import(moduleUrl)).default as Plugin;
    process.env.CV_ALIAS_ROOT = dirname(dir); // the module maps alias://<name> to $CV_ALIAS_ROOT/<name>; workers see the same env
    const aliasUrl = `alias://${basename(dir)}`;
    expect(liveWorkerThreads()).toBe(0);
    const here = await open(aliasUrl, { plugins: [alias], parallel: 2 });
    expect(sameBytes((await here.download(bounds)).data, data), "without a module").toBe(true);
    expect(liveWorkerThreads(), "a plugin without a module keeps the reads on this thread").toBe(0);
    const there = await open(aliasUrl, { plugins: [{ ...alias, module: moduleUrl } as Plugin], parallel: 2 });
    const cut = await there.download(bounds);
    expect(cut.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(sameBytes(cut.data, data), "with its module, on the workers").toBe(true);
    expect(liveWorkerThreads(), "the workers imported the module and did the reading").toBeGreaterThan(0);
  });

  it.runIf(hasFixture("pc_image_u8_sharded") && hasFixture("pc_seg_u64_cseg_sharded"))("reads CloudVolume's sharded fixtures like the ground truth", async () => {
    for (const name of ["pc_image_u8_sharded", "pc_seg_u64_cseg_sharded"]) {
      const gt = readGroundTruth(name);
      const vol = await open(fixturePath(name), { parallel: 2 });
      const cut = await vol.download(vol.bounds);
      expect(cut.data.buffer instanceof SharedArrayBuffer, name).toBe(true);
      expect(sameBytes(cut.data, gt.bytes), name).toBe(true);
    }
  });

  it.runIf(hasFixture("pc_seg_u64_cseg_gzip_ragged"))("reads a gzipped compressed_segmentation fixture with ragged edges like the ground truth", async () => {
    const name = "pc_seg_u64_cseg_gzip_ragged";
    const vol = await open(fixturePath(name), { parallel: 2 });
    const cut = await vol.download(vol.bounds);
    expect(cut.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(sameBytes(cut.data, readGroundTruth(name).bytes)).toBe(true);
  });

  it("reads sharded layers we wrote, whole and cut", async () => {
    const { url, data, bounds } = await makeLayer("uint32", { sharded: true });
    const serial = await open(url);
    const parallel = await open(url, { parallel: 3 });
    const box = new Bbox([4, -5, 8], [73, 40, 30]);
    expect(sameBytes((await parallel.download(bounds)).data, data)).toBe(true);
    expect(sameBytes((await parallel.download(box)).data, (await serial.download(box)).data)).toBe(true);
  });

  it("reports a missing chunk as NOT_FOUND with its key, and fills it with fillMissing", async () => {
    const { url } = await makeLayer("uint16");
    const dir = fileURLToPath(url);
    const scale = readdirSync(dir).find((f) => f.startsWith("4_4_40"))!;
    const victim = readdirSync(join(dir, scale))[3];
    rmSync(join(dir, scale, victim));
    const vol = await open(url, { parallel: 2 });
    let err: unknown;
    try {
      await vol.download(vol.bounds);
    } catch (e) {
      err = e;
    }
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect((err as { key?: string }).key).toContain(victim.replace(/\.gz$/, ""));
    const serial = await open(url, { fillMissing: true, backgroundColor: 7 });
    const filled = await open(url, { fillMissing: true, backgroundColor: 7, parallel: 2 });
    expect(sameBytes((await filled.download(vol.bounds)).data, (await serial.download(vol.bounds)).data)).toBe(true);
  });

  it("stops on abort with ABORTED and the pool keeps working", async () => {
    const { url, data, bounds } = await makeLayer("float32");
    const vol = await open(url, { parallel: 2 });
    const ac = new AbortController();
    const p = vol.download(bounds, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toSatisfy((e: unknown) => isCloudVolumeError(e, "ABORTED"));
    expect(sameBytes((await vol.download(bounds)).data, data)).toBe(true);
  });

  it("reads mem:// layers on this thread (their objects live here)", async () => {
    const url = `mem://parallel-${Date.now()}/layer`;
    const info = CloudVolume.createNewInfo({ layerType: "image", dataType: "uint8", encoding: "raw", resolution: [1, 1, 1], voxelOffset: [0, 0, 0], volumeSize: [64, 64, 64], chunkSize: [32, 32, 32] });
    const vol = await open(url, { info, parallel: 2 });
    await vol.commitInfo();
    const data = viewAs(randomVoxelBytes("uint8", 64 ** 3, 5), "uint8");
    await vol.upload([0, 0, 0, 64, 64, 64], data);
    const before = liveWorkerThreads();
    const cut = await vol.download([0, 0, 0, 64, 64, 64]);
    expect(sameBytes(cut.data, data)).toBe(true);
    expect(cut.data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(liveWorkerThreads()).toBe(before);
  });

  it("refuses a bad parallel value", async () => {
    const { url, bounds } = await makeLayer("uint8");
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const vol = await open(url, { parallel: bad });
      await expect(vol.download(bounds)).rejects.toSatisfy((e: unknown) => isCloudVolumeError(e, "INVALID_ARGUMENT"));
    }
  });
});

describe("worker lifetime", () => {
  it("close() of the last volume using the pool ends every worker thread", async () => {
    const { url, bounds } = await makeLayer("int16");
    const ctx = new Context({ plugins: defaultPlugins() });
    const baseline = osThreads();
    const a = await CloudVolume.open(url, { context: ctx, parallel: 2 });
    const b = await CloudVolume.open(url, { context: ctx, parallel: 2 });
    await a.download(bounds);
    await b.download(bounds);
    expect(liveWorkerThreads()).toBe(2); // one pool per Context, shared
    if (baseline !== undefined) expect(osThreads()!).toBeGreaterThanOrEqual(baseline + 2);
    await a.close();
    expect(liveWorkerThreads()).toBe(2); // b still uses the pool
    await b.close();
    expect(liveWorkerThreads()).toBe(0);
    if (baseline !== undefined) expect(await until(() => osThreads()! <= baseline), "OS threads back to the baseline").toBe(true);
  });

  it("Context.close() ends the pool's threads too, and a later read starts it again", async () => {
    const { url, bounds, data } = await makeLayer("int32");
    const ctx = new Context({ plugins: defaultPlugins() });
    const vol = await CloudVolume.open(url, { context: ctx, parallel: 2 });
    await vol.download(bounds);
    expect(liveWorkerThreads()).toBeGreaterThan(0);
    await ctx.close();
    expect(liveWorkerThreads()).toBe(0);
    expect(sameBytes((await vol.download(bounds)).data, data)).toBe(true);
    expect(liveWorkerThreads()).toBeGreaterThan(0);
    await vol.close();
    expect(liveWorkerThreads()).toBe(0);
  });
});

describe("downloadToSharedMemory", () => {
  it("returns a cutout on a SharedArrayBuffer that another worker reads and writes without a copy", async () => {
    const { url, bounds, data } = await makeLayer("uint64");
    for (const parallel of [1, 2]) {
      const vol = await open(url, { parallel });
      const cut = await vol.downloadToSharedMemory(bounds);
      expect(cut.data).toBeInstanceOf(BigUint64Array);
      expect(cut.data.buffer instanceof SharedArrayBuffer).toBe(true);
      expect(sameBytes(cut.data, data)).toBe(true);
      const w = new Worker(
        `const { parentPort } = require("node:worker_threads");
         parentPort.once("message", (a) => {
           let sum = 0n;
           for (let i = 0; i < a.length; i++) sum = (sum + a[i]) & 0xffffffffffffffffn;
           a[0] = 42n; // visible to the sender only if the memory is shared
           parentPort.postMessage(sum);
         });`,
        { eval: true },
      );
      const sum = await new Promise<bigint>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
        w.postMessage(cut.data);
      });
      await w.terminate();
      let want = 0n;
      for (const v of data as BigUint64Array) want = (want + v) & 0xffffffffffffffffn;
      expect(sum).toBe(want);
      expect((cut.data as BigUint64Array)[0]).toBe(42n);
    }
  });
});

describe("parallel upload and transfer", () => {
  /** Every stored object of a layer (chunk files and shard files), by relative path. */
  function objects(url: string): Map<string, Buffer> {
    const root = fileURLToPath(url);
    const out = new Map<string, Buffer>();
    for (const d of readdirSync(root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      for (const f of readdirSync(join(root, d.name))) out.set(`${d.name}/${f}`, readFileSync(join(root, d.name, f)));
    }
    return out;
  }
  function expectSameObjects(a: string, b: string): void {
    const x = objects(a), y = objects(b);
    expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
    for (const [k, v] of x) expect(v.equals(y.get(k)!), k).toBe(true);
  }

  it("writes the same files as the one-thread upload (aligned, unaligned, sharded)", async () => {
    for (const [dtype, sharded] of [["uint8", false], ["float64", false], ["uint64", true]] as const) {
      const one = await makeLayer(dtype, { sharded });
      const two = await makeLayer(dtype, { sharded });
      const src = viewAs(randomVoxelBytes(dtype, one.data.length, 99), dtype);
      const a = await open(one.url, { nonAlignedWrites: true });
      const b = await open(two.url, { nonAlignedWrites: true, parallel: 2 });
      await a.upload(one.bounds, src);
      expect(liveWorkerThreads(), dtype).toBe(0);
      await b.upload(two.bounds, src);
      expect(liveWorkerThreads(), `${dtype}: workers wrote`).toBeGreaterThan(0);
      expectSameObjects(one.url, two.url);
      if (!sharded) {
        // Unaligned: edge chunks are read, painted and rewritten by whichever thread owns them.
        const box = new Bbox([10, 1, 9], [70, 50, 44]);
        const sub = viewAs(randomVoxelBytes(dtype, box.size().reduce((p, v) => p * v, 1), 5), dtype);
        await a.upload(box, sub);
        await b.upload(box, sub);
        expectSameObjects(one.url, two.url);
      }
      await b.close(); // lets the pool go, so the next dtype starts from no threads
    }
  });

  it("cp with parallel copies and recodes like the one-thread transfer", async () => {
    const { url, bounds } = await makeLayer("uint32");
    const vol = await open(url);
    const makeDst = async (encoding: string) => {
      const dir = tempDir("cv-parallel-dst-");
      const info = structuredClone(vol.info);
      info.scales[0].encoding = encoding;
      if (encoding === "compressed_segmentation") info.scales[0].compressed_segmentation_block_size = [8, 8, 8];
      const d = await open(`file://${dir}`, { info });
      await d.commitInfo();
      return d;
    };
    for (const encoding of ["raw", "compressed_segmentation"]) {
      const d1 = await makeDst(encoding), d2 = await makeDst(encoding);
      const s1 = await vol.transferTo(d1);
      const s2 = await vol.transferTo(d2, { parallel: 2 });
      expect(s2).toEqual(s1);
      expectSameObjects(d1.url, d2.url);
      expect(sameBytes((await d2.download(bounds)).data, (await vol.download(bounds)).data)).toBe(true);
    }
  });
});

describe("progress", () => {
  const record = () => {
    const seen: ProgressInfo[] = [];
    return { seen, progress: (p: ProgressInfo) => seen.push({ ...p }) };
  };
  /** One report at the start and one per chunk, each counting exactly one more (workers' batched reports included). */
  const check = (seen: ProgressInfo[], total: number, what: string) => {
    expect(seen.map((p) => p.total), what).toEqual(new Array(total + 1).fill(total));
    expect(seen.map((p) => p.done), what).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
  };

  it("counts chunks of downloads, uploads and transfers on one thread and on several", async () => {
    const { url, data, bounds } = await makeLayer("uint16");
    // 70x60x40 from 32x32x16 chunks: 3 x 2 x 3 = 18 chunks; the box below touches 2 x 2 x 2.
    for (const parallel of [1, 2]) {
      const vol = await open(url, { parallel, nonAlignedWrites: true });
      let r = record();
      await vol.download(bounds, { progress: r.progress });
      check(r.seen, 18, `download parallel=${parallel}`);
      r = record();
      await vol.download(new Bbox([30, 20, 20], [40, 30, 30]), { progress: r.progress });
      check(r.seen, 8, `download box parallel=${parallel}`);
      r = record();
      await vol.upload(bounds, data, { progress: r.progress });
      check(r.seen, 18, `upload parallel=${parallel}`);
      const dst = await open(`file://${tempDir("cv-progress-")}`, { info: vol.info });
      await dst.commitInfo();
      r = record();
      await vol.transferTo(dst, { progress: r.progress });
      check(r.seen, 18, `transfer parallel=${parallel}`);
    }
  });

  it("the volume's progress option applies to every call, and false turns it off", async () => {
    const { url, bounds } = await makeLayer("int8");
    const r = record();
    const vol = await open(url, { progress: r.progress });
    await vol.download(bounds);
    check(r.seen, 18, "volume default");
    const n = r.seen.length;
    await vol.download(bounds, { progress: false });
    expect(r.seen.length).toBe(n);
  });

  it("draws a bar in place on a terminal and short lines elsewhere", () => {
    const tty: string[] = [], log: string[] = [];
    const a = progressBar("download x", { isTTY: true, columns: 100, write: (s) => tty.push(s) });
    const b = progressBar("download x", { write: (s) => log.push(s) });
    for (let done = 0; done <= 50; done++) {
      a({ done, total: 50 });
      b({ done, total: 50 });
    }
    expect(tty[0].startsWith("\rdownload x [")).toBe(true);
    expect(tty.at(-1)).toMatch(/\[#+\] 50\/50 chunks 100% .*s\n$/);
    expect(tty.length).toBeLessThan(10); // redraws are throttled
    expect(log.length).toBe(11); // 0%, each tenth, done
    expect(log.at(-1)).toMatch(/^download x 50\/50 chunks 100% /);
  });
});

describe("CLI --parallel and --progress", () => {
  const cli = join(pkg, "dist", "cli.js");
  const cv = (...args: string[]) => runNodeScript(cli, args);

  it("download, upload and cp take --parallel N and draw progress on stderr only", async () => {
    const { url, data, bounds } = await makeLayer("uint32");
    const dir = tempDir("cv-cli-parallel-");
    const box = [...bounds.min, ...bounds.max].join(",");
    const out = join(dir, "out.bin");
    let r = await cv("download", url, "--bbox", box, "--out", out, "--parallel", "2", "--progress");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("18/18 chunks 100%");
    expect(sameBytes(new Uint8Array(readFileSync(out)), data)).toBe(true);

    // Not a terminal and no --progress: quiet.
    r = await cv("download", url, "--bbox", box, "--out", out, "--parallel=2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");

    const input = join(dir, "in.bin");
    writeFileSync(input, bytesOf(viewAs(randomVoxelBytes("uint32", data.length, 3), "uint32")));
    r = await cv("upload", url, "--bbox", box, "--in", input, "--parallel", "2", "--progress");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("upload");
    expect(r.stderr).toContain("18/18 chunks 100%");
    r = await cv("download", url, "--bbox", box, "--out", out);
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);

    const copy = `file://${join(dir, "copy")}`;
    r = await cv("cp", url, copy, "--parallel", "2", "--progress");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("18/18 chunks 100%");
    r = await cv("download", copy, "--bbox", box, "--out", out, "--parallel", "2", "--no-progress", "--progress");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(""); // --no-progress wins
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);

    for (const bad of ["0", "two", "1.5"]) {
      r = await cv("download", url, "--bbox", box, "--out", out, "--parallel", bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain("--parallel must be an integer >= 1");
    }
  });
});
