import { describe, expect, it } from "vitest";
import { Context, isCloudVolumeError, type ErrorCode } from "@cloudvolume/core";
import { countingStorage, type CountingStore, expectRejects as rejects } from "@cloudvolume/testing";
import { memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { LRU } from "@cloudvolume/chunks";
import { PrecomputedVolume, createNewInfo, precomputed, type PrecomputedInfo, type PrecomputedOptions } from "../src/index.js";


describe("LRU byte accounting", () => {
  it("counts typed arrays by byteLength, whatever their element size", () => {
    const lru = new LRU(1 << 20);
    lru.set("u8", new Uint8Array(100));
    lru.set("u16", new Uint16Array(100));
    lru.set("f64", new Float64Array(10));
    lru.set("u64", new BigUint64Array(3));
    lru.set("dv", new DataView(new ArrayBuffer(7)));
    lru.set("ab", new ArrayBuffer(5));
    expect(lru.length).toBe(6);
    expect(lru.nbytes).toBe(100 + 200 + 80 + 24 + 7 + 5);
  });

  it("a view is counted by its own byteLength and stored in a buffer of its own", () => {
    const lru = new LRU(1 << 20);
    const big = new Uint8Array(1_000_000);
    big[10] = 7;
    const view = big.subarray(10, 20);
    lru.set("view", view);
    expect(lru.nbytes).toBe(10);
    const held = lru.get("view") as Uint8Array;
    expect(held.byteLength).toBe(10);
    // It does not keep the megabyte alive behind a count of 10.
    expect(held.buffer.byteLength).toBe(10);
    expect(held[0]).toBe(7);
    // Nor does it share memory with the caller's buffer.
    big[10] = 9;
    expect((lru.get("view") as Uint8Array)[0]).toBe(7);

    const words = new Uint32Array(new ArrayBuffer(64), 8, 4);
    lru.set("words", words);
    expect(lru.nbytes).toBe(10 + 16);
    const w = lru.get("words") as Uint32Array;
    expect(w).toBeInstanceOf(Uint32Array);
    expect(w.length).toBe(4);
    expect(w.buffer.byteLength).toBe(16);

    const dv = new DataView(new ArrayBuffer(32), 4, 12);
    lru.set("dv", dv);
    expect(lru.nbytes).toBe(10 + 16 + 12);
    expect((lru.get("dv") as DataView).buffer.byteLength).toBe(12);
  });

  it("a whole typed array is held as is (no copy) and counted once", () => {
    const lru = new LRU(1000);
    const a = new Uint16Array(50);
    lru.set("a", a);
    expect(lru.get("a")).toBe(a);
    expect(lru.nbytes).toBe(100);
  });

  it("replacing a key replaces its bytes in the count (CloudVolume's set keeps the old size)", () => {
    const lru = new LRU(1000);
    lru.set("k", new Uint8Array(100));
    lru.set("k", new Uint8Array(30));
    expect(lru.length).toBe(1);
    expect(lru.nbytes).toBe(30);
    expect(lru.delete("k")).toBe(true);
    expect(lru.nbytes).toBe(0);
    expect(lru.delete("k")).toBe(false);
  });

  it("evicts least recently used first; get and set refresh recency, peek does not", () => {
    const lru = new LRU(30);
    lru.set("a", new Uint8Array(10));
    lru.set("b", new Uint8Array(10));
    lru.set("c", new Uint8Array(10));
    lru.get("a"); // a is now the most recent: b is the oldest
    lru.peek("b");
    lru.set("d", new Uint8Array(10));
    expect([...lru.keys()]).toEqual(["c", "a", "d"]);
    lru.set("e", new Uint8Array(20)); // needs two slots: c then a go
    expect([...lru.keys()]).toEqual(["d", "e"]);
    expect(lru.nbytes).toBe(30);
  });

  it("resize to a smaller budget evicts the least recently used; 0 clears and disables", () => {
    const lru = new LRU(100);
    for (const k of ["a", "b", "c", "d"]) lru.set(k, new Uint8Array(25));
    lru.get("a");
    lru.resize(50);
    expect(lru.size).toBe(50);
    expect([...lru.keys()]).toEqual(["d", "a"]);
    expect(lru.nbytes).toBe(50);
    lru.resize(200); // growing keeps everything
    expect(lru.length).toBe(2);
    lru.resize(0);
    expect(lru.length).toBe(0);
    expect(lru.nbytes).toBe(0);
    expect(lru.set("x", new Uint8Array(1))).toBe(false);
    expect(lru.length).toBe(0);
  });

  it("a value larger than the whole budget is not stored and evicts nothing", () => {
    const lru = new LRU(100);
    lru.set("a", new Uint8Array(60));
    expect(lru.set("huge", new Uint8Array(101))).toBe(false);
    expect([...lru.keys()]).toEqual(["a"]);
    expect(lru.nbytes).toBe(60);
  });

  it("clear, pop and deleteWhere keep the count exact", () => {
    const lru = new LRU(1000);
    lru.set("s/1", new Uint8Array(10));
    lru.set("s/2", new Uint8Array(20));
    lru.set("t/1", new Uint8Array(40));
    expect((lru.pop("s/1") as Uint8Array).byteLength).toBe(10);
    expect(lru.nbytes).toBe(60);
    expect(lru.deleteWhere((k) => k.startsWith("s/"))).toBe(1);
    expect(lru.nbytes).toBe(40);
    lru.clear();
    expect([lru.length, lru.nbytes]).toEqual([0, 0]);
  });

  it("refuses a negative or non-numeric budget", async () => {
    await rejects(() => new LRU(-1), "INVALID_ARGUMENT", "non-negative");
    await rejects(() => new LRU(0).resize(Number.NaN), "INVALID_ARGUMENT");
  });
});

// ---- the LRU of a volume ---------------------------------------------------------------

/** A Context whose mem:// stores are counted; `remote()` is the store of the latest open. */
function counted() {
  const buckets = new Map<string, MemoryBucket>();
  const plugin = countingStorage(memoryStorage({ buckets }));
  const ctx = new Context({ plugins: [plugin, raw(), gzip(), precomputed()] });
  const open = (url: string, opts?: PrecomputedOptions) => PrecomputedVolume.open(ctx, url, opts);
  const remote = (): CountingStore => plugin.stores[plugin.stores.length - 1];
  return { ctx, open, remote, buckets };
}

/** 8x8x8 uint16, chunks of 4^3: eight chunks of 128 bytes each. */
function info8(encoding = "raw"): PrecomputedInfo {
  return createNewInfo({
    layerType: "image", dataType: "uint16", encoding, resolution: [4, 4, 40], voxelOffset: [0, 0, 0], volumeSize: [8, 8, 8], chunkSize: [4, 4, 4],
  });
}

function ramp(n: number, seed = 1): Uint16Array {
  const a = new Uint16Array(n);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7 + seed * 131) & 0xffff;
  return a;
}

const CHUNK_BYTES = 4 * 4 * 4 * 2;
const isChunk = (k: string) => k.startsWith("4_4_40/");

describe("volume LRU (lruBytes, lruEncoding)", () => {
  for (const lruEncoding of ["same", "raw"] as const) {
    it(`a hit reads nothing from storage (lruEncoding ${lruEncoding}, gzip-compressed chunks)`, async () => {
      const m = counted();
      const data = ramp(512);
      const writer = await m.open("mem://b/l", { info: info8() });
      await writer.commitInfo();
      await writer.upload([0, 0, 0, 8, 8, 8], data);

      const vol = await m.open("mem://b/l", { lruBytes: 1 << 20, lruEncoding });
      const remote = m.remote();
      remote.reset();
      const first = await vol.download([0, 0, 0, 8, 8, 8]);
      expect(first.data).toEqual(data);
      expect(remote.reads(isChunk)).toBe(8);
      expect(vol.lru.lru.length).toBe(8);
      // Raw encoding: the stored form and the decoded voxels are the same 128 bytes a chunk.
      expect(vol.lru.lru.nbytes).toBe(8 * CHUNK_BYTES);

      remote.reset();
      const second = await vol.download([1, 1, 1, 7, 7, 7]);
      expect(remote.calls).toEqual([]);
      const expected = await writer.download([1, 1, 1, 7, 7, 7]);
      expect(second.data).toEqual(expected.data);
      // The buffers handed out are not the LRU's: scribbling on a cutout does not change the next one.
      second.data.fill(0);
      expect((await vol.download([1, 1, 1, 7, 7, 7])).data).toEqual(expected.data);
    });
  }

  it("evicts least recently used chunks when over budget, and reads them again", async () => {
    const m = counted();
    const w = await m.open("mem://b/e", { info: info8() });
    await w.commitInfo();
    await w.upload([0, 0, 0, 8, 8, 8], ramp(512));
    const vol = await m.open("mem://b/e", { lruBytes: 2 * CHUNK_BYTES, lruEncoding: "raw" });
    const remote = m.remote();
    const a = [0, 0, 0, 4, 4, 4], b = [4, 0, 0, 8, 4, 4], c = [0, 4, 0, 4, 8, 4];
    await vol.download(a);
    await vol.download(b);
    await vol.download(a); // a is now more recent than b
    await vol.download(c); // evicts b
    expect([...vol.lru.lru.keys()]).toEqual(["4_4_40/0-4_0-4_0-4", "4_4_40/0-4_4-8_0-4"]);
    expect(vol.lru.lru.nbytes).toBe(2 * CHUNK_BYTES);
    remote.reset();
    await vol.download(a);
    expect(remote.reads()).toBe(0);
    await vol.download(b);
    expect(remote.readKeys()).toEqual(["4_4_40/4-8_0-4_0-4"]);
  });

  it("resize shrinks (evicting) and resize(0) turns the LRU off", async () => {
    const m = counted();
    const w = await m.open("mem://b/r", { info: info8() });
    await w.commitInfo();
    await w.upload([0, 0, 0, 8, 8, 8], ramp(512));
    const vol = await m.open("mem://b/r", { lruBytes: 8 * CHUNK_BYTES });
    await vol.download([0, 0, 0, 8, 8, 8]);
    expect(vol.lru.lru.length).toBe(8);
    vol.lru.lru.resize(3 * CHUNK_BYTES);
    expect(vol.lru.lru.length).toBe(3);
    expect(vol.lru.lru.nbytes).toBe(3 * CHUNK_BYTES);
    vol.lru.lru.resize(0);
    expect(vol.lru.enabled).toBe(false);
    const remote = m.remote();
    remote.reset();
    await vol.download([0, 0, 0, 4, 4, 4]);
    await vol.download([0, 0, 0, 4, 4, 4]);
    expect(remote.reads(isChunk)).toBe(2);
    // A volume opened without lruBytes can turn it on later.
    vol.lru.lru.resize(1 << 20);
    remote.reset();
    await vol.download([0, 0, 0, 4, 4, 4]);
    await vol.download([0, 0, 0, 4, 4, 4]);
    expect(remote.reads(isChunk)).toBe(1);
  });

  it("writes invalidate what they touch, also writes by a non-aligned upload", async () => {
    const m = counted();
    const vol = await m.open("mem://b/w", { info: info8(), lruBytes: 1 << 20, nonAlignedWrites: true });
    await vol.commitInfo();
    await vol.upload([0, 0, 0, 8, 8, 8], ramp(512, 1));
    await vol.download([0, 0, 0, 8, 8, 8]);
    expect(vol.lru.lru.length).toBe(8);
    const fresh = ramp(64, 2);
    await vol.upload([4, 4, 4, 8, 8, 8], fresh);
    expect(vol.lru.lru.has("4_4_40/4-8_4-8_4-8")).toBe(false);
    expect(vol.lru.lru.length).toBe(7);
    const remote = m.remote();
    remote.reset();
    expect((await vol.download([4, 4, 4, 8, 8, 8])).data).toEqual(fresh);
    expect(remote.readKeys()).toEqual(["4_4_40/4-8_4-8_4-8"]);
    // A non-aligned write reads the chunk (from the LRU), paints, writes, and drops it again.
    await vol.upload([0, 0, 0, 1, 1, 1], new Uint16Array([4242]));
    expect(vol.lru.lru.has("4_4_40/0-4_0-4_0-4")).toBe(false);
    expect((await vol.download([0, 0, 0, 1, 1, 1])).data[0]).toBe(4242);
    // commitInfo may change anything: the LRU starts over.
    await vol.commitInfo();
    expect(vol.lru.lru.length).toBe(0);
  });

  it("a read in flight during a write does not leave stale voxels in the LRU", async () => {
    const m = counted();
    const vol = await m.open("mem://b/race", { info: info8(), lruBytes: 1 << 20 });
    await vol.commitInfo();
    await vol.upload([0, 0, 0, 4, 4, 4], ramp(64, 1));
    const remote = m.remote();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const getObject = remote.getObject.bind(remote);
    remote.getObject = async (k, o) => {
      const obj = await getObject(k, o);
      await gate;
      return obj;
    };
    const read = vol.download([0, 0, 0, 4, 4, 4]);
    await new Promise((r) => setTimeout(r, 5));
    await vol.upload([0, 0, 0, 4, 4, 4], ramp(64, 2));
    release();
    expect((await read).data).toEqual(ramp(64, 1));
    remote.getObject = getObject;
    expect(vol.lru.lru.length).toBe(0);
    expect((await vol.download([0, 0, 0, 4, 4, 4])).data).toEqual(ramp(64, 2));
  });

  it("missing chunks are not remembered; fillMissing reads them again", async () => {
    const m = counted();
    const w = await m.open("mem://b/m", { info: info8() });
    await w.commitInfo();
    const vol = await m.open("mem://b/m", { lruBytes: 1 << 20, fillMissing: true });
    const remote = m.remote();
    await vol.download([0, 0, 0, 4, 4, 4]);
    await vol.download([0, 0, 0, 4, 4, 4]);
    expect(remote.reads(isChunk)).toBe(2);
    expect(vol.lru.lru.length).toBe(0);
  });

  it("sharded scales: chunks held by the LRU are not fetched, a shard write drops the scale's chunks", async () => {
    const m = counted();
    const vol = await m.open("mem://b/s", { info: info8(), lruBytes: 1 << 20 });
    await vol.commitInfo();
    await vol.setSharding(0, true);
    const data = ramp(512, 3);
    await vol.upload([0, 0, 0, 8, 8, 8], data);
    const reader = await m.open("mem://b/s", { lruBytes: 1 << 20 });
    expect(reader.isSharded(0)).toBe(true);
    const remote = m.remote();
    expect((await reader.download([0, 0, 0, 8, 8, 8])).data).toEqual(data);
    expect(remote.reads()).toBeGreaterThan(0);
    expect(reader.lru.lru.length).toBe(8);
    remote.reset();
    expect((await reader.download([2, 2, 2, 6, 6, 6])).data).toEqual((await vol.download([2, 2, 2, 6, 6, 6])).data);
    expect(remote.calls).toEqual([]);
    await reader.upload([0, 0, 0, 8, 8, 8], ramp(512, 4));
    expect(reader.lru.lru.length).toBe(0);
    expect((await reader.download([0, 0, 0, 8, 8, 8])).data).toEqual(ramp(512, 4));
  });

  it("an lruEncoding no plugin provides fails at open", async () => {
    const m = counted();
    const w = await m.open("mem://b/x", { info: info8() });
    await w.commitInfo();
    await rejects(m.open("mem://b/x", { lruBytes: 1000, lruEncoding: "compresso" }), "UNKNOWN_CODEC", "compresso");
  });
});
