import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countingStorage, tempDir, type CountingStore, expectRejects as rejects } from "@cloudvolume/testing";
import { memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";
import { fileStorage } from "@cloudvolume/storage-file";
import { CloudVolume, isCloudVolumeError, type CloudVolumeOptions, type ErrorCode, type PrecomputedInfo } from "../src/index.js";

/**
 * The disk cache (`cache`, `compressCache`, `vol.cache`) and the chunk LRU (`lruBytes`,
 * `lruEncoding`, `vol.lru`) through CloudVolume.open, with every remote read counted.
 * CLOUD_VOLUME_CACHE_DIR points at a fresh temporary directory in every test, so the
 * real home directory is never touched.
 */

const dirs: string[] = [];
let savedEnv: { cache?: string; dir?: string };
let root: string;

beforeEach(() => {
  savedEnv = { cache: process.env.CLOUD_VOLUME_CACHE_DIR, dir: process.env.CLOUD_VOLUME_DIR };
  root = tempDir("cv-cache-root-");
  dirs.push(root);
  process.env.CLOUD_VOLUME_CACHE_DIR = root;
  process.env.CLOUD_VOLUME_DIR = join(root, "never-used");
});

afterEach(() => {
  for (const [name, v] of [["CLOUD_VOLUME_CACHE_DIR", savedEnv.cache], ["CLOUD_VOLUME_DIR", savedEnv.dir]] as const) {
    if (v === undefined) delete process.env[name];
    else process.env[name] = v;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


/** mem:// layers whose stores are counted; `remote()` is the store of the latest open. */
function counted() {
  const buckets = new Map<string, MemoryBucket>();
  const plugin = countingStorage(memoryStorage({ buckets }));
  const open = (url: string, opts: CloudVolumeOptions = {}) => CloudVolume.open(url, { plugins: [plugin], ...opts });
  const remote = (): CountingStore => plugin.stores[plugin.stores.length - 1];
  return { open, remote, buckets };
}

/** 8x8x8 uint32 segmentation, chunks of 4^3: eight chunks of 256 bytes each. */
function info8(o: { encoding?: string; compress?: string } = {}): PrecomputedInfo {
  return CloudVolume.createNewInfo({
    layerType: "segmentation", dataType: "uint32", encoding: o.encoding ?? "raw",
    resolution: [4, 4, 40], voxelOffset: [0, 0, 0], volumeSize: [8, 8, 8], chunkSize: [4, 4, 4],
  });
}

function labels(n: number, seed = 1): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < a.length; i++) a[i] = ((i >> 3) * 31 + seed) % 5; // few labels: compressible
  return a;
}

const isChunk = (k: string) => k.startsWith("4_4_40/");
const ALL = [0, 0, 0, 8, 8, 8];

async function makeLayer(m: ReturnType<typeof counted>, url: string, o: CloudVolumeOptions = {}, data = labels(512)) {
  const w = await m.open(url, { info: info8(), ...o });
  await w.commitInfo();
  await w.upload(ALL, data);
  return data;
}

describe("disk cache: location and read-through", () => {
  it("lives under $CLOUD_VOLUME_CACHE_DIR/<protocol>/<bucket and path>/<layer>", async () => {
    const m = counted();
    await makeLayer(m, "mem://bucket/ds/layer");
    const vol = await m.open("mem://bucket/ds/layer", { cache: true });
    expect(vol.cache.enabled).toBe(true);
    expect(vol.cache.path).toBe(join(root, "mem", "bucket", "ds", "layer"));
    // A string is the root instead of the default one.
    const other = tempDir("cv-cache-other-");
    dirs.push(other);
    const vol2 = await m.open("mem://bucket/ds/layer", { cache: other });
    expect(vol2.cache.path).toBe(join(other, "mem", "bucket", "ds", "layer"));
    // Off: the path is still known (flush works on it), nothing is created.
    const off = await m.open("precomputed://mem://bucket/ds/layer");
    expect(off.cache.enabled).toBe(false);
    expect(off.cache.path).toBe(join(root, "mem", "bucket", "ds", "layer"));
  });

  it("a miss reads each chunk once from the remote; a hit reads nothing remote", async () => {
    const m = counted();
    const data = await makeLayer(m, "mem://b/l");
    const vol = await m.open("mem://b/l", { cache: true });
    const remote = m.remote();
    remote.reset();
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(remote.reads(isChunk)).toBe(8);
    expect(new Set(remote.readKeys()).size).toBe(8);

    // A new volume (a new process, say) over the same cache.
    const again = await m.open("mem://b/l", { cache: true });
    const remote2 = m.remote();
    remote2.reset();
    expect((await again.download(ALL)).data).toEqual(data);
    expect(remote2.reads()).toBe(0);
    expect(await again.cache.numFiles()).toBe(8);
  });

  it("mirrors the remote's layout: info, provenance and chunk files with CloudFiles' suffixes", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/l");
    const vol = await m.open("mem://b/l", { cache: true });
    await vol.download(ALL);
    const dir = vol.cache.path!;
    expect(readdirSync(dir).sort()).toEqual(["4_4_40", "info"]);
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).scales[0].key).toBe("4_4_40");
    // raw segmentation: gzip by default (compressCache undefined follows the writes' rule).
    expect(await vol.cache.list()).toEqual([
      "0-4_0-4_0-4.gz", "0-4_0-4_4-8.gz", "0-4_4-8_0-4.gz", "0-4_4-8_4-8.gz",
      "4-8_0-4_0-4.gz", "4-8_0-4_4-8.gz", "4-8_4-8_0-4.gz", "4-8_4-8_4-8.gz",
    ]);
    const chunk = new Uint8Array(gunzipSync(readFileSync(join(dir, "4_4_40", "0-4_0-4_0-4.gz"))));
    expect(chunk.byteLength).toBe(4 * 4 * 4 * 4);
  });

  it("compressCache: false stores plain files, 'br' brotli, true gzip", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/l");
    for (const [compressCache, suffix] of [[false, ""], ["br", ".br"], [true, ".gz"]] as const) {
      const cacheRoot = tempDir("cv-cache-cc-");
      dirs.push(cacheRoot);
      const vol = await m.open("mem://b/l", { cache: cacheRoot, compressCache });
      await vol.download([0, 0, 0, 4, 4, 4]);
      expect(await vol.cache.list()).toEqual([`0-4_0-4_0-4${suffix}`]);
      // And it reads back from the cache.
      const again = await m.open("mem://b/l", { cache: cacheRoot, compressCache });
      m.remote().reset();
      expect((await again.download([0, 0, 0, 4, 4, 4])).data).toEqual((await vol.download([0, 0, 0, 4, 4, 4])).data);
      expect(m.remote().reads(isChunk)).toBe(0);
    }
  });

  it("writes go to the remote, then to the cache: the next read reads nothing remote", async () => {
    const m = counted();
    const vol = await m.open("mem://b/w", { info: info8(), cache: true });
    await vol.commitInfo();
    const data = labels(512, 3);
    await vol.upload(ALL, data);
    expect([...m.buckets.get("b")!.keys()].filter((k) => k.startsWith("w/4_4_40/")).length).toBe(8);
    expect(await vol.cache.numFiles()).toBe(8);
    const remote = m.remote();
    remote.reset();
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(remote.reads()).toBe(0);
    // deleteBlackUploads deletes from both.
    const black = await m.open("mem://b/w", { cache: true, deleteBlackUploads: true });
    await black.upload([0, 0, 0, 4, 4, 4], new Uint32Array(64));
    expect(m.buckets.get("b")!.has("w/4_4_40/0-4_0-4_0-4")).toBe(false);
    expect(await black.cache.list()).not.toContain("0-4_0-4_0-4.gz");
  });

  it("a missing chunk is remembered: fillMissing reads it remotely once", async () => {
    const m = counted();
    const w = await m.open("mem://b/m", { info: info8() });
    await w.commitInfo();
    const vol = await m.open("mem://b/m", { cache: true, fillMissing: true });
    const remote = m.remote();
    remote.reset();
    await vol.download([0, 0, 0, 4, 4, 4]);
    await vol.download([0, 0, 0, 4, 4, 4]);
    expect(remote.reads(isChunk)).toBe(1);
    expect(statSync(join(vol.cache.path!, "4_4_40", "0-4_0-4_0-4")).size).toBe(0);
    // Without fillMissing a remembered miss is still a miss.
    const strict = await m.open("mem://b/m", { cache: true });
    await rejects(strict.download([0, 0, 0, 4, 4, 4]), "NOT_FOUND");
  });

  it("file:// layers cache under <root>/file/<absolute path>", async () => {
    const remoteDir = tempDir("cv-cache-src-");
    dirs.push(remoteDir);
    const url = `file://${remoteDir}/layer`;
    const w = await CloudVolume.open(url, { info: info8() });
    await w.commitInfo();
    await w.upload(ALL, labels(512));
    const plugin = countingStorage(fileStorage());
    const vol = await CloudVolume.open(url, { cache: true, plugins: [plugin] });
    expect(vol.cache.path).toBe(join(root, "file", remoteDir.slice(1), "layer"));
    await vol.download(ALL);
    const again = await CloudVolume.open(url, { cache: true, plugins: [plugin] });
    const remote = plugin.stores[plugin.stores.length - 1];
    remote.reset();
    await again.download(ALL);
    expect(remote.reads()).toBe(0);
  });
});

describe("disk cache: vol.cache", () => {
  it("numFiles and numBytes agree with the file system, per mip and for all mips", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/n");
    const vol = await m.open("mem://b/n", { cache: true });
    expect(await vol.cache.numFiles()).toBe(0);
    expect(await vol.cache.numBytes()).toBe(0);
    await vol.download([0, 0, 0, 8, 8, 4]);
    const dir = join(vol.cache.path!, "4_4_40");
    const sizes = readdirSync(dir).map((f) => statSync(join(dir, f)).size);
    expect(await vol.cache.numFiles()).toBe(4);
    expect(await vol.cache.numBytes()).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(await vol.cache.numFiles("all")).toEqual([4]);
  });

  it("flush({ preserve }) keeps the chunks touching the preserved box (and info); flush() removes everything", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/f");
    const vol = await m.open("mem://b/f", { cache: true });
    await vol.download(ALL);
    expect(await vol.cache.numFiles()).toBe(8);
    await vol.cache.flush({ preserve: [0, 0, 0, 4, 4, 5] }); // the first chunk and the one above it in z
    expect(await vol.cache.list()).toEqual(["0-4_0-4_0-4.gz", "0-4_0-4_4-8.gz"]);
    expect(existsSync(join(vol.cache.path!, "info"))).toBe(true);
    // The preserved chunks still read from the cache, the rest from the remote.
    const again = await m.open("mem://b/f", { cache: true });
    const remote = m.remote();
    remote.reset();
    await again.download([0, 0, 0, 4, 4, 8]);
    expect(remote.reads()).toBe(0);
    await again.download(ALL);
    expect(remote.reads(isChunk)).toBe(6);
    await again.cache.flush();
    expect(existsSync(again.cache.path!)).toBe(false);
    expect(await again.cache.numFiles()).toBe(0);
    expect(await again.cache.list()).toEqual([]);
  });

  it("flushRegion deletes the cached chunks the region touches, and only those", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/fr");
    const vol = await m.open("mem://b/fr", { cache: true });
    await vol.download(ALL);
    await vol.cache.flushRegion([3, 0, 0, 5, 4, 4]); // touches two chunks along x
    expect(await vol.cache.list()).toEqual([
      "0-4_0-4_4-8.gz", "0-4_4-8_0-4.gz", "0-4_4-8_4-8.gz", "4-8_0-4_4-8.gz", "4-8_4-8_0-4.gz", "4-8_4-8_4-8.gz",
    ]);
  });

  it("preserve and flushRegion boxes are converted to every mip they apply to", async () => {
    const m = counted();
    const w = await m.open("mem://b/mm", { info: info8() });
    w.addScale([2, 2, 1]); // mip 1: 4x4x8, chunks 0-4_0-4_0-4 and 0-4_0-4_4-8
    await w.commitInfo();
    await w.upload(ALL, labels(512));
    await w.upload([0, 0, 0, 4, 4, 8], labels(128), { mip: 1 });
    const vol = await m.open("mem://b/mm", { cache: true });
    await vol.download(ALL);
    await vol.download([0, 0, 0, 4, 4, 8], { mip: 1 });
    expect(await vol.cache.numFiles("all")).toEqual([8, 2]);
    await vol.cache.flush({ preserve: [0, 0, 0, 4, 4, 4] }); // mip 0 voxels; at mip 1: [0,0,0,2,2,4]
    expect(await vol.cache.list(0)).toEqual(["0-4_0-4_0-4.gz"]);
    expect(await vol.cache.list(1)).toEqual(["0-4_0-4_0-4.gz"]);
    // The same box given in mip 1 voxels covers twice as much of mip 0.
    await vol.download(ALL);
    await vol.cache.flush({ preserve: [0, 0, 0, 4, 2, 4], mip: 1 }); // mip 0: [0,0,0,8,4,4]
    expect(await vol.cache.list(0)).toEqual(["0-4_0-4_0-4.gz", "4-8_0-4_0-4.gz"]);
    await vol.cache.flushRegion([0, 0, 0, 8, 8, 4], { mips: [0, 1] });
    expect(await vol.cache.numFiles("all")).toEqual([0, 0]);
  });

  it("flushInfo and flushProvenance delete just those files", async () => {
    const m = counted();
    const w = await m.open("mem://b/p", { info: info8(), cache: true });
    await w.commitInfo();
    await w.commitProvenance();
    const dir = w.cache.path!;
    expect(readdirSync(dir).sort()).toEqual(["info", "provenance"]);
    await w.cache.flushProvenance();
    expect(readdirSync(dir)).toEqual(["info"]);
    await w.cache.flushInfo();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a cached info that disagrees with the remote (other than size) is INVALID_METADATA until flushInfo", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/i");
    const vol = await m.open("mem://b/i", { cache: true });
    expect(existsSync(join(vol.cache.path!, "info"))).toBe(true);

    // The remote changes its resolution behind the cache's back.
    const changed = info8();
    changed.scales[0].resolution = [8, 8, 40];
    const writer = await m.open("mem://b/i", { info: changed });
    await writer.commitInfo();
    const err = await rejects(m.open("mem://b/i", { cache: true }), "INVALID_METADATA", "flushInfo");
    expect(err.message).toContain(vol.cache.path!);

    // flushInfo (here through a volume opened without the cache) clears it.
    const plain = await m.open("mem://b/i");
    await plain.cache.flushInfo();
    const ok = await m.open("mem://b/i", { cache: true });
    expect(ok.resolution).toEqual([8, 8, 40]);
  });

  it("a cached info whose scales differ only in size is accepted and refreshed", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/s");
    const vol = await m.open("mem://b/s", { cache: true });
    const bigger = info8();
    bigger.scales[0].size = [8, 8, 12];
    await (await m.open("mem://b/s", { info: bigger })).commitInfo();
    const again = await m.open("mem://b/s", { cache: true });
    expect(again.bounds.toArray()).toEqual([0, 0, 0, 8, 8, 12]);
    expect(JSON.parse(readFileSync(join(vol.cache.path!, "info"), "utf8")).scales[0].size).toEqual([8, 8, 12]);
  });

  it("the browser has no disk cache: cache: true without a cacheFactory fails with UNAVAILABLE", async () => {
    const m = counted();
    await makeLayer(m, "mem://b/u");
    await rejects(m.open("mem://b/u", { cache: true, cacheFactory: undefined }), "UNAVAILABLE", "createDiskCache");
    await rejects(m.open("mem://b/u", { cache: true, compressCache: "lz4" as never }), "INVALID_ARGUMENT", "compressCache");
  });
});

describe("disk cache: sharded scales", () => {
  it("an upload leaves whole shard files in the cache; reads of them read nothing remote", async () => {
    const m = counted();
    const vol = await m.open("mem://b/sh", { info: info8(), cache: true });
    await vol.commitInfo();
    await vol.setSharding(0, true);
    const data = labels(512, 5);
    await vol.upload(ALL, data);
    const shardFiles = await vol.cache.list();
    expect(shardFiles.length).toBeGreaterThan(0);
    expect(shardFiles.every((f) => f.endsWith(".shard"))).toBe(true);
    const again = await m.open("mem://b/sh", { cache: true });
    const remote = m.remote();
    remote.reset();
    expect((await again.download(ALL)).data).toEqual(data);
    expect(remote.reads()).toBe(0);
  });

  it("ranged reads of a remote shard are cached as fragments: a repeated cutout reads nothing remote", async () => {
    const m = counted();
    const w = await m.open("mem://b/sf", { info: info8() });
    await w.commitInfo();
    await w.setSharding(0, true);
    const data = labels(512, 6);
    await w.upload(ALL, data);
    const first = await m.open("mem://b/sf", { cache: true });
    const remote1 = m.remote();
    remote1.reset();
    expect((await first.download([0, 0, 0, 4, 4, 8])).data).toEqual((await w.download([0, 0, 0, 4, 4, 8])).data);
    expect(remote1.reads()).toBeGreaterThan(0);
    expect((await first.cache.list()).some((f) => f.endsWith(".range"))).toBe(true);
    const second = await m.open("mem://b/sf", { cache: true });
    const remote2 = m.remote();
    remote2.reset();
    expect((await second.download([0, 0, 0, 4, 4, 8])).data).toEqual((await w.download([0, 0, 0, 4, 4, 8])).data);
    expect(remote2.reads()).toBe(0);
  });
});

describe("chunk LRU through CloudVolume (lruBytes, lruEncoding)", () => {
  it("vol.lru: a hit reads nothing; nbytes counts what is held", async () => {
    const m = counted();
    const data = await makeLayer(m, "mem://b/lru");
    const vol = await m.open("mem://b/lru", { lruBytes: 1 << 20, lruEncoding: "raw" });
    await vol.download(ALL);
    expect(vol.lru.length).toBe(8);
    expect(vol.lru.nbytes).toBe(8 * 256);
    const remote = m.remote();
    remote.reset();
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(remote.reads()).toBe(0);
    vol.lru.clear();
    expect([vol.lru.length, vol.lru.nbytes]).toEqual([0, 0]);
  });

  it("lruEncoding 'compressed_segmentation' holds re-encoded chunks: smaller, and still no reads on a hit", async () => {
    const m = counted();
    // One label per chunk (the chunk's index): compressed_segmentation stores that in a few words.
    const perChunk = new Uint32Array(512).map((_, i) => 1 + (i % 8 >= 4 ? 1 : 0) + ((i >> 3) % 8 >= 4 ? 2 : 0) + (i >> 6 >= 4 ? 4 : 0));
    const data = await makeLayer(m, "mem://b/cs", {}, perChunk);
    const vol = await m.open("mem://b/cs", { lruBytes: 1 << 20, lruEncoding: "compressed_segmentation" });
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(vol.lru.length).toBe(8);
    let held = 0;
    for (const [, v] of vol.lru) held += v.byteLength;
    expect(vol.lru.nbytes).toBe(held);
    expect(vol.lru.nbytes).toBeLessThan(8 * 256);
    const remote = m.remote();
    remote.reset();
    expect((await vol.download([1, 2, 3, 7, 8, 6])).data).toEqual((await vol.download([1, 2, 3, 7, 8, 6])).data);
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(remote.reads()).toBe(0);
  });

  it("LRU in front of the disk cache: the LRU answers first, the disk cache after a clear", async () => {
    const m = counted();
    const data = await makeLayer(m, "mem://b/both");
    const vol = await m.open("mem://b/both", { lruBytes: 1 << 20, cache: true });
    await vol.download(ALL);
    const remote = m.remote();
    remote.reset();
    vol.lru.clear();
    expect((await vol.download(ALL)).data).toEqual(data);
    expect(remote.reads()).toBe(0);
    expect(vol.lru.length).toBe(8);
  });
});
