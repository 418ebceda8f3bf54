import { describe, expect, it } from "vitest";
import type { ArrayCodec, ByteCodec } from "../src/codec.js";
import { Context } from "../src/context.js";
import type { CodecPlugin, CompressionPlugin, FormatPlugin, StorageFactory, StoragePlugin } from "../src/plugin.js";
import type { KeyValueStore } from "../src/storage.js";
import type { ParsedUrl } from "../src/url.js";
import { expectCode, expectRejectCode, tick } from "./helpers.js";

function fakeStore(url: string): KeyValueStore {
  return { url, capabilities: { write: false, list: false, rangeReads: false }, get: async () => undefined };
}

function storagePlugin(protocols: string[], pkg = "@test/storage", tag = pkg) {
  const calls = { load: 0, factory: [] as ParsedUrl[] };
  const plugin: StoragePlugin = {
    kind: "storage",
    protocols,
    package: pkg,
    load: async () => {
      calls.load++;
      await tick();
      const f: StorageFactory = (url, ctx) => {
        calls.factory.push(url);
        expect(ctx).toBeInstanceOf(Context);
        return fakeStore(`${tag}:${url.storageUrl}`);
      };
      return f;
    },
  };
  return { plugin, calls };
}

function codecPlugin(names: string[], pkg = "@test/codec") {
  const calls = { load: 0 };
  const codec: ArrayCodec = { name: names[0], decode: (b) => b };
  const plugin: CodecPlugin = { kind: "codec", names, package: pkg, load: async () => { calls.load++; return codec; } };
  return { plugin, calls, codec };
}

function compressionPlugin(names: string[], pkg = "@test/gzip") {
  const calls = { load: 0 };
  const codec: ByteCodec = { name: names[0], suffix: ".gz", decode: (b) => b, encode: (b) => b };
  const plugin: CompressionPlugin = { kind: "compression", names, package: pkg, load: async () => { calls.load++; return codec; } };
  return { plugin, calls, codec };
}

describe("Context construction", () => {
  it("requires a plugin list", () => {
    expectCode(() => new Context(undefined as never), "INVALID_ARGUMENT");
    expectCode(() => new Context({} as never), "INVALID_ARGUMENT");
  });

  it("merges the retry policy over the default", () => {
    expect(new Context({ plugins: [], retry: { attempts: 2 } }).retry).toEqual({ attempts: 2, baseDelayMs: 100, maxDelayMs: 5000 });
  });

  it("concurrency defaults and overrides; one limiter per protocol", () => {
    const d = new Context({ plugins: [] });
    expect([d.concurrencyOf("file"), d.concurrencyOf("mem"), d.concurrencyOf("gs")]).toEqual([16, 64, 32]);
    const c = new Context({ plugins: [], concurrency: { gs: 4, default: 8 } });
    expect(c.concurrencyOf("gs")).toBe(4);
    expect(c.concurrencyOf("s3")).toBe(8);
    expect(c.concurrencyOf("file")).toBe(16);
    expect(c.limiter("gs").limit).toBe(4);
    expect(c.limiter("s3").limit).toBe(8);
    expect(c.limiter("gs")).toBe(c.limiter("gs"));
    expect(c.limiter("gs")).not.toBe(c.limiter("s3"));
  });

  it("does not keep a reference to the caller's plugin array", () => {
    const list = [storagePlugin(["mem"]).plugin];
    const ctx = new Context({ plugins: list });
    list.length = 0;
    expect(ctx.plugins.length).toBe(1);
  });
});

describe("Context.storage", () => {
  it("finds the plugin by protocol, loads it lazily and once", async () => {
    const mem = storagePlugin(["mem"], "@test/mem");
    const file = storagePlugin(["file"], "@test/file");
    const ctx = new Context({ plugins: [file.plugin, mem.plugin] });
    expect(mem.calls.load).toBe(0);
    const [s1, s2] = await Promise.all([ctx.storage("mem://a"), ctx.storage("mem://b")]);
    const s3 = await ctx.storage(ctx.parse("precomputed://mem://c"));
    expect([s1.url, s2.url, s3.url]).toEqual(["@test/mem:mem://a", "@test/mem:mem://b", "@test/mem:mem://c"]);
    expect(mem.calls.load).toBe(1);
    expect(mem.calls.factory.map((u) => u.path)).toEqual(["a", "b", "c"]);
    expect(file.calls.load).toBe(0);
    expect((await ctx.storage("/tmp/x")).url).toBe("@test/file:file:///tmp/x");
  });

  it("keeps two storage plugins of one package apart", async () => {
    const a = storagePlugin(["s3"], "@cloudvolume/storage-s3", "s3-impl");
    const b = storagePlugin(["matrix"], "@cloudvolume/storage-s3", "matrix-impl");
    const ctx = new Context({ plugins: [a.plugin, b.plugin] });
    expect((await ctx.storage("s3://bucket/x")).url).toBe("s3-impl:s3://bucket/x");
    expect((await ctx.storage("matrix://bucket/x")).url).toBe("matrix-impl:matrix://bucket/x");
    expect([a.calls.load, b.calls.load]).toEqual([1, 1]);
  });

  it("an unknown protocol gives UNSUPPORTED_SCHEME naming the package to install", async () => {
    const ctx = new Context({ plugins: [storagePlugin(["mem"]).plugin] });
    const e = await expectRejectCode(ctx.storage("s3://bucket/layer"), "UNSUPPORTED_SCHEME");
    expect(e.message).toContain("@cloudvolume/storage-s3");
    expect((e as unknown as { url: string }).url).toBe("s3://bucket/layer");
    const g = await expectRejectCode(ctx.storage("gs://b/l"), "UNSUPPORTED_SCHEME");
    expect(g.message).toContain("@cloudvolume/storage-gcs");
    const f = await expectRejectCode(ctx.storage("/local/dir"), "UNSUPPORTED_SCHEME");
    expect(f.message).toContain("@cloudvolume/storage-file");
    const u = await expectRejectCode(ctx.storage("weird://x"), "UNSUPPORTED_SCHEME");
    expect(u.message).toContain("weird");
    expect(u.message).toMatch(/no known package/);
  });

  it("a rejecting load() gives UNAVAILABLE with the cause, and a later call loads again", async () => {
    let calls = 0;
    const cause = new Error("network down");
    const plugin: StoragePlugin = {
      kind: "storage",
      protocols: ["mem"],
      package: "@test/flaky",
      load: async () => {
        calls++;
        if (calls === 1) throw cause;
        return (url) => fakeStore(url.storageUrl);
      },
    };
    const ctx = new Context({ plugins: [plugin] });
    const e = await expectRejectCode(ctx.storage("mem://x"), "UNAVAILABLE");
    expect(e.cause).toBe(cause);
    expect(e.message).toContain("@test/flaky");
    expect(e.message).toContain("network down");
    expect((await ctx.storage("mem://x")).url).toBe("mem://x");
    expect(calls).toBe(2);
    await ctx.storage("mem://y");
    expect(calls).toBe(2);
  });

  it("a load() that throws synchronously also gives UNAVAILABLE", async () => {
    const plugin: StoragePlugin = {
      kind: "storage",
      protocols: ["mem"],
      package: "@test/broken",
      load: () => { throw new Error("sync failure"); },
    };
    const ctx = new Context({ plugins: [plugin] });
    const e = await expectRejectCode(ctx.storage("mem://x"), "UNAVAILABLE");
    expect((e.cause as Error).message).toBe("sync failure");
  });
});

describe("Context.codec", () => {
  it("resolves by name and caches the load", async () => {
    const raw = codecPlugin(["raw"], "@test/raw");
    const ctx = new Context({ plugins: [raw.plugin] });
    expect(await ctx.codec("raw")).toBe(raw.codec);
    expect(await ctx.codec("raw")).toBe(raw.codec);
    expect(raw.calls.load).toBe(1);
  });

  it("one plugin serving several names loads once", async () => {
    const fp = codecPlugin(["fpzip", "kempressed"], "@test/fpzip");
    const ctx = new Context({ plugins: [fp.plugin] });
    expect(await ctx.codec("fpzip")).toBe(fp.codec);
    expect(await ctx.codec("kempressed")).toBe(fp.codec);
    expect(fp.calls.load).toBe(1);
  });

  it("an unknown codec gives UNKNOWN_CODEC naming the package", async () => {
    const ctx = new Context({ plugins: [codecPlugin(["raw"]).plugin] });
    const e = await expectRejectCode(ctx.codec("jpeg"), "UNKNOWN_CODEC");
    expect(e.message).toContain("@cloudvolume/codec-jpeg");
    const c = await expectRejectCode(ctx.codec("compressed_segmentation"), "UNKNOWN_CODEC");
    expect(c.message).toContain("@cloudvolume/codec-compressed-segmentation");
    const x = await expectRejectCode(ctx.codec("nope"), "UNKNOWN_CODEC");
    expect(x.message).toMatch(/no known package/);
  });

  it("does not confuse plugin kinds", async () => {
    // A compression plugin called "raw" is not an array codec.
    const ctx = new Context({ plugins: [compressionPlugin(["raw"]).plugin] });
    await expectRejectCode(ctx.codec("raw"), "UNKNOWN_CODEC");
  });
});

describe("Context.compression", () => {
  it("identity-like names give undefined without loading anything", async () => {
    const gz = compressionPlugin(["gzip"]);
    const ctx = new Context({ plugins: [gz.plugin] });
    for (const n of [undefined, "", "identity", "raw", "none"]) expect(await ctx.compression(n)).toBeUndefined();
    expect(gz.calls.load).toBe(0);
  });

  it("resolves by name or Content-Encoding value and caches", async () => {
    const gz = compressionPlugin(["gzip", "x-gzip"]);
    const ctx = new Context({ plugins: [gz.plugin] });
    expect(await ctx.compression("gzip")).toBe(gz.codec);
    expect(await ctx.compression("x-gzip")).toBe(gz.codec);
    expect(gz.calls.load).toBe(1);
    expect(ctx.hasCompression("gzip")).toBe(true);
    expect(ctx.hasCompression("br")).toBe(false);
  });

  it("unknown compression gives UNKNOWN_CODEC naming the package", async () => {
    const ctx = new Context({ plugins: [] });
    const e = await expectRejectCode(ctx.compression("br"), "UNKNOWN_CODEC");
    expect(e.message).toContain("@cloudvolume/codec-brotli");
  });
});

describe("Context.format and parse", () => {
  it("resolves formats and reports missing ones", async () => {
    const impl = { open: () => "opened" };
    let loads = 0;
    const fmt: FormatPlugin = { kind: "format", names: ["precomputed"], package: "@test/pre", load: async () => { loads++; return impl; } };
    const ctx = new Context({ plugins: [fmt] });
    expect(await ctx.format<typeof impl>("precomputed")).toBe(impl);
    expect(await ctx.format("precomputed")).toBe(impl);
    expect(loads).toBe(1);
    const e = await expectRejectCode(ctx.format("zarr"), "UNSUPPORTED_SCHEME");
    expect(e.message).toContain("@cloudvolume/format-zarr");
  });

  it("parse knows built-in formats and those of format plugins", () => {
    const fmt: FormatPlugin = { kind: "format", names: ["myfmt"], package: "@test/myfmt", load: async () => ({}) };
    const ctx = new Context({ plugins: [fmt] });
    expect(ctx.parse("myfmt://gs://b/l")).toMatchObject({ format: "myfmt", protocol: "gs", path: "b/l" });
    expect(ctx.parse("zarr://s3://b")).toMatchObject({ format: "zarr", protocol: "s3" });
    // No plugin knows "myfmt", but a second scheme follows and no storage protocol has
    // that name: it is a format prefix, so the error is about a missing format plugin.
    expect(new Context({ plugins: [] }).parse("myfmt://gs://b/l")).toMatchObject({ format: "myfmt", protocol: "gs" });
    // A storage protocol may wrap another URL: then it stays the protocol.
    const wrapper = storagePlugin(["wrap"], "@test/wrap");
    expect(new Context({ plugins: [wrapper.plugin] }).parse("wrap://file:///x")).toMatchObject({ format: "precomputed", protocol: "wrap", path: "file:///x" });
  });

  it("a missing format names every way to add its plugin", async () => {
    const e = await expectRejectCode(new Context({ plugins: [] }).format("npychunks"), "UNSUPPORTED_SCHEME");
    expect(e.message).toContain('no format plugin for "npychunks"');
    for (const way of ["plugins", "--plugin", "CLOUDVOLUME_PLUGINS"]) expect(e.message).toContain(way);
  });
});

describe("Context.with", () => {
  it("adds plugins that take precedence and keeps settings", async () => {
    const base = storagePlugin(["mem"], "@test/base");
    const extra = storagePlugin(["mem"], "@test/extra");
    const ctx = new Context({ plugins: [base.plugin], concurrency: { gs: 3 }, retry: { attempts: 9 } });
    const ctx2 = ctx.with([extra.plugin]);
    expect((await ctx2.storage("mem://x")).url).toBe("@test/extra:mem://x");
    expect((await ctx.storage("mem://x")).url).toBe("@test/base:mem://x");
    expect(ctx2.concurrencyOf("gs")).toBe(3);
    expect(ctx2.retry.attempts).toBe(9);
    expect(ctx2.plugins.length).toBe(2);
  });
});
