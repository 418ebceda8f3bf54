import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { CloudVolumeError, isCloudVolumeError, parseUrl, type ByteCodec, type ErrorCode, type PutOptions } from "@cloudvolume/core";
import { CountingStore, tempDir, expectRejects as rejects } from "@cloudvolume/testing";
import { CacheStore, FileStore, createDiskCache, diskCachePath, diskCacheRoot } from "@cloudvolume/storage-file";

const dirs: string[] = [];
function freshDir(prefix = "cv-cache-"): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


/** gzip as a ByteCodec, without depending on codec-gzip. */
const gzipByteCodec: ByteCodec = {
  name: "gzip", suffix: ".gz",
  decode: (b) => new Uint8Array(gunzipSync(b)),
  encode: (b) => new Uint8Array(gzipSync(b)),
};
const compression = async (name: string) => (name === "gzip" ? gzipByteCodec : undefined);

function setup(opts: { encodingFor?: (key: string) => string | null | undefined } = {}) {
  const remoteDir = freshDir("cv-cache-remote-");
  const remote = new CountingStore(new FileStore(remoteDir));
  const cacheDir = freshDir("cv-cache-local-");
  const cache = new CacheStore(remote, cacheDir, { compression, ...opts });
  return { remote, remoteDir, cache, cacheDir };
}

const bytes = (...v: number[]) => new Uint8Array(v);

describe("CacheStore: read-through", () => {
  it("a miss reads the remote once and keeps a copy; a hit reads nothing remote", async () => {
    const { remote, cache, cacheDir } = setup();
    await remote.inner.put!("s/0-4_0-4_0-4", bytes(1, 2, 3), { contentEncoding: "gzip" });
    remote.reset();
    const first = await cache.getObject("s/0-4_0-4_0-4");
    expect(first).toEqual({ data: bytes(1, 2, 3), contentEncoding: "gzip" });
    expect(remote.reads()).toBe(1);
    // Kept as the remote has it (CloudFiles' suffix layout).
    expect(readFileSync(join(cacheDir, "s/0-4_0-4_0-4.gz"))).toEqual(Buffer.from([1, 2, 3]));
    remote.reset();
    expect(await cache.getObject("s/0-4_0-4_0-4")).toEqual({ data: bytes(1, 2, 3), contentEncoding: "gzip" });
    expect(await cache.get("s/0-4_0-4_0-4")).toEqual(bytes(1, 2, 3));
    expect(remote.calls).toEqual([]);
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
  });

  it("remembers a missing object inside a directory as a zero-length file (CloudVolume's b'')", async () => {
    const { remote, cache, cacheDir } = setup();
    expect(await cache.getObject("s/0-4_0-4_0-4")).toBeUndefined();
    expect(remote.reads()).toBe(1);
    expect(statSync(join(cacheDir, "s/0-4_0-4_0-4")).size).toBe(0);
    remote.reset();
    expect(await cache.getObject("s/0-4_0-4_0-4")).toBeUndefined();
    expect(remote.reads()).toBe(0);
    // Top-level files (info, provenance) are not: a layer may be created later.
    expect(await cache.get("info")).toBeUndefined();
    expect(await cache.get("info")).toBeUndefined();
    expect(remote.reads("info")).toBe(2);
    expect(existsSync(join(cacheDir, "info"))).toBe(false);
  });

  it("reads a compressed empty stream (what CloudVolume caches for a missing chunk with compress_cache) as missing", async () => {
    const { remote, cache, cacheDir } = setup();
    mkdirSync(join(cacheDir, "s"));
    writeFileSync(join(cacheDir, "s/0-4_0-4_0-4.gz"), gzipSync(Buffer.alloc(0)));
    expect(await cache.getObject("s/0-4_0-4_0-4")).toBeUndefined();
    expect(remote.reads()).toBe(0);
  });

  it("recompresses as encodingFor asks: gzip for an identity object, none for a gzip one", async () => {
    const { remote, cache, cacheDir } = setup({ encodingFor: (k) => (k.startsWith("a/") ? "gzip" : k.startsWith("b/") ? null : undefined) });
    const payload = new Uint8Array(300).map((_, i) => i % 7);
    await remote.inner.put!("a/0-1_0-1_0-1", payload);
    await remote.inner.put!("b/0-1_0-1_0-1", gzipSync(payload), { contentEncoding: "gzip" });
    // The caller gets what the remote sent...
    expect(await cache.getObject("a/0-1_0-1_0-1")).toEqual({ data: payload });
    expect(await cache.getObject("b/0-1_0-1_0-1")).toEqual({ data: new Uint8Array(gzipSync(payload)), contentEncoding: "gzip" });
    // ...and the cache holds the asked-for form, which a hit reports.
    expect(new Uint8Array(gunzipSync(readFileSync(join(cacheDir, "a/0-1_0-1_0-1.gz"))))).toEqual(payload);
    expect(new Uint8Array(readFileSync(join(cacheDir, "b/0-1_0-1_0-1")))).toEqual(payload);
    const a = await cache.getObject("a/0-1_0-1_0-1");
    expect(a?.contentEncoding).toBe("gzip");
    expect(new Uint8Array(gunzipSync(a!.data))).toEqual(payload);
    expect(await cache.getObject("b/0-1_0-1_0-1")).toEqual({ data: payload });
    expect(await cache.readLocal("a/0-1_0-1_0-1")).toEqual(payload);
  });

  it("keeps the remote's form when the codec for the asked-for one is missing", async () => {
    const { remote, cache, cacheDir } = setup({ encodingFor: () => "br" });
    await remote.inner.put!("a/0-1_0-1_0-1", bytes(5, 6));
    await cache.getObject("a/0-1_0-1_0-1");
    expect(readdirSync(join(cacheDir, "a"))).toEqual(["0-1_0-1_0-1"]);
  });
});

describe("CacheStore: writes", () => {
  it("puts to the remote, then to the cache; a later read reads nothing remote", async () => {
    const { remote, cache, cacheDir, remoteDir } = setup();
    const order: string[] = [];
    const put = remote.put.bind(remote);
    remote.put = async (k: string, d: Uint8Array, o?: PutOptions) => {
      order.push(`remote ${k} cached=${existsSync(join(cacheDir, "s/x.gz"))}`);
      return put(k, d, o);
    };
    await cache.put("s/x", bytes(9, 9), { contentEncoding: "gzip" });
    expect(order).toEqual(["remote s/x cached=false"]);
    expect(readFileSync(join(remoteDir, "s/x.gz"))).toEqual(Buffer.from([9, 9]));
    expect(readFileSync(join(cacheDir, "s/x.gz"))).toEqual(Buffer.from([9, 9]));
    remote.reset();
    expect(await cache.getObject("s/x")).toEqual({ data: bytes(9, 9), contentEncoding: "gzip" });
    expect(remote.reads()).toBe(0);
  });

  it("a write replaces a remembered miss; a delete removes the copy from both", async () => {
    const { remote, cache, cacheDir } = setup();
    expect(await cache.getObject("s/0-1_0-1_0-1")).toBeUndefined();
    await cache.put("s/0-1_0-1_0-1", bytes(1));
    expect(await cache.getObject("s/0-1_0-1_0-1")).toEqual({ data: bytes(1) });
    await cache.delete("s/0-1_0-1_0-1");
    expect(existsSync(join(cacheDir, "s/0-1_0-1_0-1"))).toBe(false);
    expect(await remote.inner.get("s/0-1_0-1_0-1")).toBeUndefined();
  });

  it("a failed remote write drops the cached copy (the write may have landed) and fails", async () => {
    const { remote, cache, cacheDir } = setup();
    await cache.put("s/k", bytes(1));
    remote.put = async () => {
      throw new CloudVolumeError("UNAVAILABLE", "503");
    };
    await rejects(cache.put("s/k", bytes(2)), "UNAVAILABLE");
    expect(existsSync(join(cacheDir, "s/k"))).toBe(false);
  });

  it("a read that overlaps a write does not cache what it fetched (no stale miss hides an upload)", async () => {
    const { remote, cache } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const getObject = remote.getObject.bind(remote);
    remote.getObject = async (k, o) => {
      const obj = await getObject(k, o); // reads "missing"...
      await gate; // ...and answers only after the upload below
      return obj;
    };
    const read = cache.getObject("s/0-1_0-1_0-1");
    await new Promise((r) => setTimeout(r, 5));
    await cache.put("s/0-1_0-1_0-1", bytes(42));
    release();
    expect(await read).toBeUndefined();
    remote.getObject = getObject;
    remote.reset();
    expect(await cache.getObject("s/0-1_0-1_0-1")).toEqual({ data: bytes(42) });
    expect(remote.reads()).toBe(0);
  });

  it("a read-only remote makes a read-only cache", () => {
    const remote = new CountingStore(new FileStore(freshDir()));
    (remote as { put?: unknown }).put = undefined;
    const cache = new CacheStore(remote, freshDir());
    expect(cache.put).toBeUndefined();
  });
});

describe("CacheStore: byte ranges (sharded scales)", () => {
  it("serves ranges from a whole local copy without reading the remote", async () => {
    const { remote, cache } = setup();
    const shard = new Uint8Array(100).map((_, i) => i);
    await cache.put("s/0.shard", shard);
    remote.reset();
    expect(await cache.get("s/0.shard", { range: { offset: 10, length: 5 } })).toEqual(shard.subarray(10, 15));
    expect(await cache.get("s/0.shard", { range: { suffixLength: 3 } })).toEqual(shard.subarray(97));
    expect(remote.reads()).toBe(0);
  });

  it("caches fetched ranges as fragments; the same range again reads nothing remote; a write drops them", async () => {
    const { remote, cache, cacheDir } = setup();
    const shard = new Uint8Array(100).map((_, i) => 255 - i);
    await remote.inner.put!("s/1.shard", shard);
    expect(await cache.get("s/1.shard", { range: { offset: 0, length: 16 } })).toEqual(shard.subarray(0, 16));
    expect(await cache.get("s/1.shard", { range: { suffixLength: 4 } })).toEqual(shard.subarray(96));
    expect(remote.reads()).toBe(2);
    expect(readdirSync(join(cacheDir, "s")).sort()).toEqual(["1.shard.0-16.range", "1.shard.suffix-4.range"]);
    remote.reset();
    expect(await cache.get("s/1.shard", { range: { offset: 0, length: 16 } })).toEqual(shard.subarray(0, 16));
    expect(remote.reads()).toBe(0);
    // A different range is a miss.
    expect(await cache.get("s/1.shard", { range: { offset: 16, length: 8 } })).toEqual(shard.subarray(16, 24));
    expect(remote.reads()).toBe(1);
    // Rewriting the shard file replaces the fragments with the whole file.
    const next = new Uint8Array(100).fill(7);
    await cache.put("s/1.shard", next);
    expect(readdirSync(join(cacheDir, "s"))).toEqual(["1.shard"]);
    expect(await cache.get("s/1.shard", { range: { offset: 0, length: 16 } })).toEqual(next.subarray(0, 16));
    // Deleting it leaves nothing behind to be served.
    await cache.get("s/1.shard", { range: { offset: 50, length: 2 } });
    await cache.delete("s/1.shard");
    expect(readdirSync(join(cacheDir, "s"))).toEqual([]);
  });

  it("a missing shard file is remembered; ranges of it read as missing without the remote", async () => {
    const { remote, cache } = setup();
    expect(await cache.get("s/2.shard", { range: { offset: 0, length: 16 } })).toBeUndefined();
    remote.reset();
    expect(await cache.get("s/2.shard", { range: { offset: 0, length: 16 } })).toBeUndefined();
    expect(remote.reads()).toBe(0);
  });
});

describe("CacheStore: management", () => {
  it("listDir, dirStats, removeFiles, removeKey, removeAll", async () => {
    const { cache, cacheDir } = setup();
    await cache.put("k/a", bytes(1, 2, 3));
    await cache.put("k/b", bytes(4), { contentEncoding: "gzip" });
    await cache.put("info", bytes(5, 5));
    expect(await cache.listDir("k")).toEqual(["a", "b.gz"]);
    expect(await cache.listDir("nope")).toEqual([]);
    expect(await cache.dirStats("k")).toEqual({ files: 2, bytes: 4 });
    await cache.removeFiles("k", ["a"]);
    expect(await cache.listDir("k")).toEqual(["b.gz"]);
    await cache.removeKey("k/b");
    expect(await cache.listDir("k")).toEqual([]);
    expect(await cache.readLocal("info")).toEqual(bytes(5, 5));
    await rejects(cache.listDir("../x"), "PERMISSION_DENIED");
    await cache.removeAll();
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe("cache location (CloudVolume's get_cache_path)", () => {
  const env = (o: Record<string, string>) => o;

  it("root: a cache string, else CLOUD_VOLUME_CACHE_DIR, else CLOUD_VOLUME_DIR/cache, else ~/.cloudvolume/cache", () => {
    expect(diskCacheRoot("/tmp/x", env({ CLOUD_VOLUME_CACHE_DIR: "/tmp/y" }))).toBe("/tmp/x");
    expect(diskCacheRoot(true, env({ CLOUD_VOLUME_CACHE_DIR: "/tmp/y", CLOUD_VOLUME_DIR: "/tmp/z" }))).toBe("/tmp/y");
    expect(diskCacheRoot(true, env({ CLOUD_VOLUME_DIR: "/tmp/z" }))).toBe("/tmp/z/cache");
    expect(diskCacheRoot(true, env({}))).toBe(join(homedir(), ".cloudvolume", "cache"));
    expect(diskCacheRoot(true, env({ CLOUD_VOLUME_CACHE_DIR: "" }))).toBe(join(homedir(), ".cloudvolume", "cache"));
  });

  it("layer directory: <root>/<protocol>/<bucket and path>/<layer>", () => {
    const e = env({ CLOUD_VOLUME_CACHE_DIR: "/c" });
    expect(diskCachePath(parseUrl("gs://bucket/em/image"), true, e)).toBe("/c/gs/bucket/em/image");
    expect(diskCachePath(parseUrl("precomputed://s3://bucket/em/image/"), true, e)).toBe("/c/s3/bucket/em/image");
    expect(diskCachePath(parseUrl("file:///data/em/image"), true, e)).toBe("/c/file/data/em/image");
    expect(diskCachePath(parseUrl("/data/./em/../em/image"), true, e)).toBe("/c/file/data/em/image");
    expect(diskCachePath(parseUrl("mem://b/layer"), true, e)).toBe("/c/mem/b/layer");
    expect(diskCachePath(parseUrl("https://host.org/p/layer"), true, e)).toBe("/c/https/host.org/p/layer");
    expect(diskCachePath(parseUrl("gs://bucket/layer"), "/elsewhere", e)).toBe("/elsewhere/gs/bucket/layer");
    expect(() => diskCachePath(parseUrl("gs://bucket/../../etc"), true, e)).toThrow(/"\.\."/);
  });

  it("createDiskCache makes the directory only when the cache is on", async () => {
    const root = freshDir();
    const remote = new FileStore(freshDir());
    const req = {
      parsed: parseUrl("gs://b/l"), cache: root, remote, env: {},
      compression, encodingFor: () => undefined,
    };
    const off = await createDiskCache({ ...req, enabled: false });
    expect(off.path).toBe(join(root, "gs/b/l"));
    expect(existsSync(off.path)).toBe(false);
    const on = await createDiskCache({ ...req, enabled: true });
    expect(existsSync(on.path)).toBe(true);
    expect(on.store).toBe(on);
  });

  it("an unwritable cache directory fails at open with PERMISSION_DENIED or IO_ERROR", async () => {
    const root = freshDir();
    writeFileSync(join(root, "gs"), "a file where a directory must go");
    let error: unknown;
    try {
      await createDiskCache({ parsed: parseUrl("gs://b/l"), cache: root, remote: new FileStore(freshDir()), enabled: true, compression, encodingFor: () => undefined });
    } catch (e) {
      error = e;
    }
    expect(isCloudVolumeError(error, "IO_ERROR") || isCloudVolumeError(error, "PERMISSION_DENIED")).toBe(true);
    expect((error as Error).message).toContain("CLOUD_VOLUME_CACHE_DIR");
  });
});
