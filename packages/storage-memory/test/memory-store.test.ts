import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Context, isCloudVolumeError, parseUrl, type KeyValueStore } from "@cloudvolume/core";
import { describeKeyValueStore } from "@cloudvolume/testing";
import { MemoryStore, memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";

describeKeyValueStore("memory", () => new MemoryStore());

// The same suite through the plugin, on a store below a bucket root (keys get a prefix).
describeKeyValueStore("memory via mem:// plugin", async () => {
  const ctx = new Context({ plugins: [memoryStorage()] });
  return ctx.storage("mem://bucket/some/layer");
});

async function keys(store: KeyValueStore, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list!(prefix)) out.push(k);
  return out.sort();
}

describe("memoryStorage plugin", () => {
  it("stores opened from one plugin instance share objects", async () => {
    const ctx = new Context({ plugins: [memoryStorage()] });
    const a = await ctx.storage("mem://b/layer");
    const b = await ctx.storage("precomputed://mem://b/layer");
    await a.put!("info", new Uint8Array([1, 2]), { contentEncoding: "gzip" });
    expect(await b.getObject!("info")).toEqual({ data: new Uint8Array([1, 2]), contentEncoding: "gzip" });
    await b.delete!("info");
    expect(await a.get("info")).toBeUndefined();
  });

  it("two plugin instances are isolated (no module-level global)", async () => {
    const one = new Context({ plugins: [memoryStorage()] });
    const two = new Context({ plugins: [memoryStorage()] });
    await (await one.storage("mem://b/layer")).put!("k", new Uint8Array([7]));
    expect(await (await two.storage("mem://b/layer")).get("k")).toBeUndefined();
    expect([...(await (await one.storage("mem://b/layer")).get("k"))!]).toEqual([7]);
  });

  it("layers are keyed by their full path: neighbours and other buckets do not collide", async () => {
    const buckets = new Map<string, MemoryBucket>();
    const factory = await memoryStorage({ buckets }).load();
    const ctx = new Context({ plugins: [] });
    const open = async (u: string) => factory(parseUrl(u), ctx);
    const a = await open("mem://b/a");
    const ab = await open("mem://b/ab");
    const otherBucket = await open("mem://c/a");
    await a.put!("k", new Uint8Array([1]));
    await ab.put!("k", new Uint8Array([2]));
    await otherBucket.put!("k", new Uint8Array([3]));
    expect([...(await a.get("k"))!]).toEqual([1]);
    expect([...(await ab.get("k"))!]).toEqual([2]);
    expect([...(await otherBucket.get("k"))!]).toEqual([3]);
    expect(await keys(a)).toEqual(["k"]);
    // The caller's map holds the objects, by full path inside each bucket.
    expect([...buckets.keys()].sort()).toEqual(["b", "c"]);
    expect([...buckets.get("b")!.keys()].sort()).toEqual(["a/k", "ab/k"]);
    // A store at a parent path sees the children's objects, as on a real bucket.
    const bucketRoot = await open("mem://b");
    expect(await keys(bucketRoot)).toEqual(["a/k", "ab/k"]);
    expect(bucketRoot.url).toBe("mem://b");
  });

  it("rejects a cloudpath without a bucket or one that climbs out", async () => {
    const factory = await memoryStorage().load();
    const ctx = new Context({ plugins: [] });
    const err = async (u: string) => {
      try {
        await factory(parseUrl(u), ctx);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(isCloudVolumeError(await err("mem://"), "INVALID_ARGUMENT")).toBe(true);
    expect(isCloudVolumeError(await err("mem://b/../other"), "PERMISSION_DENIED")).toBe(true);
  });

  it("the descriptor names its protocol and package", () => {
    const p = memoryStorage();
    expect(p.kind).toBe("storage");
    expect(p.protocols).toEqual(["mem"]);
    expect(p.package).toBe("@cloudvolume/storage-memory");
  });
});

describe("MemoryStore", () => {
  it("copies a Node Buffer on put (Buffer#slice would share its memory)", async () => {
    const store = new MemoryStore();
    const buf = Buffer.from([1, 2, 3]);
    await store.put("k", buf);
    buf[0] = 99;
    const got = await store.get("k");
    expect([...got!]).toEqual([1, 2, 3]);
    expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
  });

  it("treats identity and none as no encoding", async () => {
    const store = new MemoryStore();
    await store.put("a", new Uint8Array([1]), { contentEncoding: "identity" });
    await store.put("b", new Uint8Array([1]), { contentEncoding: "none" });
    expect(await store.getObject("a")).toEqual({ data: new Uint8Array([1]) });
    expect(await store.getObject("b")).toEqual({ data: new Uint8Array([1]) });
  });

  it("the package source uses no Node built-ins (it must bundle for browsers)", () => {
    const src = fileURLToPath(new URL("../src/", import.meta.url));
    for (const f of readdirSync(src)) {
      const text = readFileSync(src + f, "utf8");
      expect(text, f).not.toMatch(/from\s+["']node:|import\(["']node:|require\(|\bprocess\.|\bBuffer\.\w+\(/);
    }
  });
});
