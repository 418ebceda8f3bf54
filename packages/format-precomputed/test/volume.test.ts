import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Bbox, Context, isCloudVolumeError, type ErrorCode } from "@cloudvolume/core";
import { fixturePath, expectRejects as rejects } from "@cloudvolume/testing";
import { memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { cacheControlFor } from "@cloudvolume/chunks";
import {
  PrecomputedVolume,
  createNewInfo,
  parseInfo,
  precomputed,
  serializeJson,
  type PrecomputedInfo,
  type PrecomputedOptions,
} from "../src/index.js";

/** A context over one in-memory bucket map the test can look into. */
function memory() {
  const buckets = new Map<string, MemoryBucket>();
  const ctx = new Context({ plugins: [memoryStorage({ buckets }), raw(), gzip(), precomputed()] });
  const bucket = (name = "b"): MemoryBucket => {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = new Map()));
    return b;
  };
  const open = (url: string, opts?: PrecomputedOptions) => PrecomputedVolume.open(ctx, url, opts);
  return { ctx, buckets, bucket, open };
}


const multiscaleInfo = (): PrecomputedInfo => parseInfo(readFileSync(join(fixturePath("pc_image_u8_multiscale"), "info")));

function smallInfo(o: { encoding?: string; chunkSize?: [number, number, number]; dtype?: "uint8" | "uint16" | "uint64" } = {}): PrecomputedInfo {
  return createNewInfo({
    layerType: "image", dataType: o.dtype ?? "uint16", encoding: o.encoding ?? "raw", resolution: [4, 4, 40], voxelOffset: [1, 2, 3],
    volumeSize: [10, 11, 12], chunkSize: o.chunkSize ?? [4, 4, 4],
  });
}

/** Deterministic, non-constant uint16 voxels for a 10x11x12 volume. */
function volumeData(): Uint16Array {
  const a = new Uint16Array(10 * 11 * 12);
  for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761) >>> 16;
  return a;
}

/** Object keys of one layer in a bucket (chunk keys only, relative to the layer). */
function chunkKeys(bucket: MemoryBucket, layer: string): string[] {
  return [...bucket.keys()]
    .filter((k) => k.startsWith(`${layer}/`))
    .map((k) => k.slice(layer.length + 1))
    .filter((k) => k !== "info" && k !== "provenance")
    .sort();
}

describe("cacheControlFor", () => {
  it("maps booleans, numbers and strings", () => {
    expect(cacheControlFor(true)).toBe("public, max-age=3600");
    expect(cacheControlFor(undefined)).toBe("public, max-age=3600");
    expect(cacheControlFor(false)).toBe("no-cache");
    expect(cacheControlFor(0)).toBe("no-cache");
    expect(cacheControlFor(60)).toBe("public, max-age=60");
    expect(cacheControlFor("private, max-age=5")).toBe("private, max-age=5");
  });

  it("rejects negative and fractional seconds with INVALID_ARGUMENT", async () => {
    await rejects(() => cacheControlFor(-1), "INVALID_ARGUMENT", "-1");
    await rejects(() => cacheControlFor(1.5), "INVALID_ARGUMENT");
  });

  it("is what uploads send as Cache-Control", async () => {
    const m = memory();
    const vol = await m.open("mem://b/cc", { info: smallInfo(), cdnCache: 60 });
    await vol.commitInfo();
    await vol.upload([1, 2, 3, 5, 6, 7], new Uint16Array(64));
    expect(m.bucket().get("cc/4_4_40/1-5_2-6_3-7")?.cacheControl).toBe("public, max-age=60");
    expect(m.bucket().get("cc/info")?.cacheControl).toBe("no-cache");
  });
});

describe("mips", () => {
  it("mipIndex resolves indices and resolutions (pc_image_u8_multiscale)", async () => {
    const vol = await memory().open("mem://b/ms", { info: multiscaleInfo() });
    expect([0, 1, 2].map((m) => vol.mipIndex(m))).toEqual([0, 1, 2]);
    expect(vol.mipIndex([4, 4, 40])).toBe(0);
    expect(vol.mipIndex([8, 8, 40])).toBe(1);
    expect(vol.mipIndex([16, 16, 80])).toBe(2);
    expect(vol.mipIndex(undefined)).toBe(0);
    expect(vol.bounds([16, 16, 80]).toArray()).toEqual([0, 0, 0, 16, 16, 16]);
    expect(vol.chunkSize(1)).toEqual([16, 16, 16]);
    const at1 = await memory().open("mem://b/ms", { info: multiscaleInfo(), mip: [8, 8, 40] });
    expect(at1.mip).toBe(1);
    expect(at1.mipIndex(undefined)).toBe(1);
  });

  it("mipIndex rejects mips that do not exist", async () => {
    const vol = await memory().open("mem://b/ms", { info: multiscaleInfo() });
    for (const bad of [3, -1, 1.5, Number.NaN]) await rejects(() => vol.mipIndex(bad), "INVALID_ARGUMENT", "does not exist; this layer has mips 0..2");
    await rejects(() => vol.mipIndex([8, 8, 80]), "INVALID_ARGUMENT", "no scale has resolution 8,8,80");
    await rejects(memory().open("mem://b/ms", { info: multiscaleInfo(), mip: 5 }), "INVALID_ARGUMENT");
    await rejects(vol.download([0, 0, 0, 1, 1, 1], { mip: 7 }), "INVALID_ARGUMENT");
  });

  it("bboxToMip floors min and ceils max", async () => {
    const vol = await memory().open("mem://b/ms", { info: multiscaleInfo() });
    expect(vol.bboxToMip([1, 1, 1, 9, 9, 3], 0, 2).toArray()).toEqual([0, 0, 0, 3, 3, 2]);
    expect(vol.bboxToMip([5, 6, 1, 7, 7, 2], 0, 1).toArray()).toEqual([2, 3, 1, 4, 4, 2]);
    expect(vol.bboxToMip([-3, -1, 0, 3, 1, 1], 0, [8, 8, 40]).toArray()).toEqual([-2, -1, 0, 2, 1, 1]);
    expect(vol.bboxToMip([0, 0, 0, 3, 3, 2], [16, 16, 80], 0).toArray()).toEqual([0, 0, 0, 12, 12, 4]);
    expect(vol.bboxToMip([1, 2, 3, 4, 5, 6], 1, 1).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("info and provenance persistence", () => {
  it("commitInfo writes CloudVolume's serialisation; a reopened volume reads it", async () => {
    const m = memory();
    const info = multiscaleInfo();
    const vol = await m.open("mem://b/layer", { info });
    await vol.commitInfo();
    const stored = m.bucket().get("layer/info")!;
    expect(new TextDecoder().decode(stored.data)).toBe(readFileSync(join(fixturePath("pc_image_u8_multiscale"), "info"), "utf8"));
    expect(stored.contentType).toBe("application/json");
    expect((await m.open("mem://b/layer")).info).toEqual(info);
  });

  it("commitInfo refuses an invalid info and writes nothing", async () => {
    const m = memory();
    const vol = await m.open("mem://b/layer", { info: smallInfo() });
    await vol.commitInfo();
    const before = m.bucket().get("layer/info")!.data;
    vol.info.scales[0].chunk_sizes = [[4, 0, 4]];
    await rejects(vol.commitInfo(), "INVALID_METADATA", "scales[0].chunk_sizes[0]");
    expect(m.bucket().get("layer/info")!.data).toEqual(before);
    const fresh = await m.open("mem://b/fresh", { info: smallInfo() });
    (fresh.info as Record<string, unknown>).data_type = "bool";
    await rejects(fresh.commitInfo(), "INVALID_METADATA", "data_type");
    expect(m.bucket().has("fresh/info")).toBe(false);
  });

  it("opening a layer without info is NOT_FOUND; a broken info is INVALID_METADATA", async () => {
    const m = memory();
    await rejects(m.open("mem://b/nothing"), "NOT_FOUND", "no info file");
    m.bucket().set("bad/info", { data: new TextEncoder().encode('{"type":"image"}') });
    await rejects(m.open("mem://b/bad"), "INVALID_METADATA", "data_type");
  });

  it("provenance: defaults when absent, commitProvenance writes it, a reopened volume reads it", async () => {
    const m = memory();
    const vol = await m.open("mem://b/prov", { info: smallInfo() });
    await vol.commitInfo();
    expect((await m.open("mem://b/prov")).provenance).toEqual({ description: "", owners: [], processing: [], sources: [] });
    vol.provenance.description = "test layer";
    vol.provenance.owners.push("someone@example.org");
    vol.provenance.processing.push({ method: "unit test" });
    await vol.commitProvenance();
    const stored = m.bucket().get("prov/provenance")!;
    expect(new TextDecoder().decode(stored.data)).toBe(serializeJson(vol.provenance));
    const again = await m.open("mem://b/prov");
    expect(again.provenance).toEqual({ description: "test layer", owners: ["someone@example.org"], processing: [{ method: "unit test" }], sources: [] });
    // refreshProvenance sees a later write
    vol.provenance.sources.push("gs://elsewhere");
    await vol.commitProvenance();
    expect((await again.refreshProvenance()).sources).toEqual(["gs://elsewhere"]);
  });

  it("a provenance option overrides the stored one; a broken stored provenance is INVALID_METADATA", async () => {
    const m = memory();
    const vol = await m.open("mem://b/p2", { info: smallInfo() });
    await vol.commitInfo();
    expect((await m.open("mem://b/p2", { provenance: { description: "given" } })).provenance).toEqual({ description: "given", owners: [], processing: [], sources: [] });
    m.bucket().set("p2/provenance", { data: new TextEncoder().encode('{"owners": 1}') });
    await rejects(m.open("mem://b/p2"), "INVALID_METADATA", "provenance: owners must be an array");
  });
});

describe("writeCompression", () => {
  async function wc(opts: PrecomputedOptions, info: PrecomputedInfo = smallInfo()) {
    return (await memory().open("mem://b/wc", { ...opts, info })).writeCompression(0);
  }
  const withCompress = (compress: unknown, encoding = "raw") => ({ ...smallInfo({ encoding }), compress }) as PrecomputedInfo;

  it("encoding default: gzip for raw, compressed_segmentation, compresso, crackle; none otherwise", async () => {
    for (const enc of ["raw", "compresso", "crackle"]) expect(await wc({}, smallInfo({ encoding: enc })), enc).toBe("gzip");
    const cseg = { ...smallInfo({ encoding: "raw" }) };
    cseg.scales[0] = { ...cseg.scales[0], encoding: "compressed_segmentation", compressed_segmentation_block_size: [8, 8, 8] };
    expect(await wc({}, cseg)).toBe("gzip");
    for (const enc of ["png", "jpeg", "jxl", "fpzip", "kempressed", "zfpc"]) expect(await wc({}, smallInfo({ encoding: enc })), enc).toBeUndefined();
  });

  it("info.compress beats the encoding default", async () => {
    expect(await wc({}, withCompress("br"))).toBe("br");
    expect(await wc({}, withCompress("none"))).toBeUndefined();
    expect(await wc({}, withCompress("gzip", "png"))).toBe("gzip");
  });

  it("the open option beats info.compress", async () => {
    expect(await wc({ compress: "gzip" }, withCompress("br"))).toBe("gzip");
    expect(await wc({ compress: false }, withCompress("br"))).toBeUndefined();
    expect(await wc({ compress: "none" }, withCompress("gzip"))).toBeUndefined();
    expect(await wc({ compress: "zstd" })).toBe("zstd");
  });

  it("true means gzip, false means none", async () => {
    expect(await wc({ compress: true }, smallInfo({ encoding: "png" }))).toBe("gzip");
    expect(await wc({ compress: false })).toBeUndefined();
    expect(await wc({ compress: null })).toBe("gzip");
  });

  it("a bad value is INVALID_ARGUMENT", async () => {
    await rejects(wc({ compress: "lz4" as never }), "INVALID_ARGUMENT", '"lz4"');
    await rejects(wc({}, withCompress("deflate")), "INVALID_ARGUMENT", '"deflate"');
  });

  it("uploads store chunks with that Content-Encoding", async () => {
    const data = new Uint16Array(64).map((_, i) => i);
    for (const [opts, enc] of [[{}, "gzip"], [{ compress: false }, undefined]] as const) {
      const m = memory();
      const vol = await m.open("mem://b/l", { ...opts, info: smallInfo() });
      await vol.commitInfo();
      await vol.upload([1, 2, 3, 5, 6, 7], data);
      const obj = m.bucket().get("l/4_4_40/1-5_2-6_3-7")!;
      expect(obj.contentEncoding).toBe(enc);
      const bytes = enc === "gzip" ? gunzipSync(obj.data) : obj.data;
      expect(new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))).toEqual(data);
    }
  });
});

describe("transferTo", () => {
  /** Source layer src with every chunk except the ones in `skipZ` written (gzip level 1, so re-encoding would change bytes). */
  async function source(m: ReturnType<typeof memory>, skipLastZ = false) {
    const src = await m.open("mem://b/src", { info: smallInfo(), compressLevel: 1 });
    await src.commitInfo();
    const data = volumeData();
    if (!skipLastZ) await src.upload(src.bounds(), data);
    else {
      // z 3..11 only: the chunks of z 11..15 stay missing.
      await src.upload([1, 2, 3, 11, 13, 11], data.subarray(0, 10 * 11 * 8));
    }
    return { src, data };
  }

  it("same grid, same encoding and compression: stored bytes are copied untouched", async () => {
    const m = memory();
    const { src, data } = await source(m);
    const dst = await m.open("mem://b/dst", { info: smallInfo() });
    await dst.commitInfo();
    const stats = await src.transferTo(dst);
    const keys = chunkKeys(m.bucket(), "src");
    expect(keys).toHaveLength(27);
    expect(stats).toEqual({ chunks: 27, copied: 27, recoded: 0 });
    expect(chunkKeys(m.bucket(), "dst")).toEqual(keys);
    for (const k of keys) {
      const a = m.bucket().get(`src/${k}`)!;
      const b = m.bucket().get(`dst/${k}`)!;
      expect(b.contentEncoding, k).toBe("gzip");
      expect(b.data, k).toEqual(a.data);
    }
    // dst compresses at level 9: a re-encode would not have produced the level-1 bytes.
    const probe = await m.open("mem://b/probe", { info: smallInfo() });
    await probe.commitInfo();
    await probe.upload(probe.bounds(), data);
    expect(m.bucket().get(`probe/${keys[0]}`)!.data).not.toEqual(m.bucket().get(`src/${keys[0]}`)!.data);
    expect((await dst.download(dst.bounds())).data).toEqual(data);
  });

  it("different compression: each chunk is decoded and re-encoded", async () => {
    const m = memory();
    const { src, data } = await source(m);
    const dst = await m.open("mem://b/dst", { info: smallInfo(), compress: false });
    await dst.commitInfo();
    const stats = await src.transferTo(dst);
    expect(stats).toEqual({ chunks: 27, copied: 0, recoded: 27 });
    for (const k of chunkKeys(m.bucket(), "dst")) {
      const obj = m.bucket().get(`dst/${k}`)!;
      expect(obj.contentEncoding, k).toBeUndefined();
      expect(obj.data, k).toEqual(new Uint8Array(gunzipSync(m.bucket().get(`src/${k}`)!.data)));
    }
    expect((await dst.download(dst.bounds())).data).toEqual(data);
  });

  it("missing chunks stay missing", async () => {
    const m = memory();
    const { src, data } = await source(m, true);
    const present = chunkKeys(m.bucket(), "src");
    expect(present).toHaveLength(18);
    for (const compress of [undefined, false] as const) {
      const url = `mem://b/dst-${compress}`;
      const dst = await m.open(url, { info: smallInfo(), compress });
      await dst.commitInfo();
      const stats = await src.transferTo(dst);
      expect(stats.chunks).toBe(27);
      expect(stats.copied + stats.recoded).toBe(18);
      expect(chunkKeys(m.bucket(), `dst-${compress}`)).toEqual(present);
      await rejects(dst.download(dst.bounds()), "NOT_FOUND");
      const got = await dst.download(dst.bounds(), { fillMissing: true });
      const expected = new Uint16Array(data.length);
      expected.set(data.subarray(0, 10 * 11 * 8));
      expect(got.data).toEqual(expected);
    }
  });

  it("a different chunk grid falls back to reading each destination chunk: same voxels", async () => {
    const m = memory();
    const { src, data } = await source(m, true);
    const dst = await m.open("mem://b/grid", { info: smallInfo({ chunkSize: [5, 3, 7] }) });
    await dst.commitInfo();
    const stats = await src.transferTo(dst);
    // ceil(10/5) * ceil(11/3) * ceil(12/7) destination chunks
    expect(stats).toEqual({ chunks: 16, copied: 0, recoded: 16 });
    expect(chunkKeys(m.bucket(), "grid")).toHaveLength(16);
    expect(chunkKeys(m.bucket(), "grid")).toContain("4_4_40/1-6_2-5_3-10");
    const expected = new Uint16Array(data.length);
    expected.set(data.subarray(0, 10 * 11 * 8));
    expect((await dst.download(dst.bounds())).data).toEqual(expected);
  });

  it("different grids: a region that cuts destination chunks is ALIGNMENT and writes nothing; an aligned one leaves the rest", async () => {
    const m = memory();
    const { src, data } = await source(m);
    const dst = await m.open("mem://b/coarse", { info: smallInfo({ chunkSize: [8, 8, 8] }), compress: false });
    await dst.commitInfo();
    const old = new Uint16Array(data.length).fill(7);
    await dst.upload(dst.bounds(), old);
    const before = new Map(chunkKeys(m.bucket(), "coarse").map((k) => [k, m.bucket().get(`coarse/${k}`)!.data]));
    // [1,2,3]-[5,6,7] is one source chunk but only part of the destination chunk [1,2,3]-[9,10,11].
    await rejects(src.transferTo(dst, { bbox: [1, 2, 3, 5, 6, 7] }), "ALIGNMENT", "cuts chunks of the destination");
    for (const [k, bytes] of before) expect(m.bucket().get(`coarse/${k}`)!.data, k).toEqual(bytes);
    // [9,2,3]-[11,13,15] is the destination's x-edge column: aligned to its grid.
    const stats = await src.transferTo(dst, { bbox: [9, 2, 3, 11, 13, 15] });
    expect(stats).toEqual({ chunks: 4, copied: 0, recoded: 4 });
    const got = (await dst.download(dst.bounds())).data as Uint16Array;
    for (let z = 0; z < 12; z++)
      for (let y = 0; y < 11; y++)
        for (let x = 0; x < 10; x++) {
          const i = x + 10 * (y + 11 * z);
          if (got[i] !== (x >= 8 ? data[i] : 7)) throw new Error(`voxel (${x + 1}, ${y + 2}, ${z + 3}) is ${got[i]}`);
        }
  });

  it("a locked destination scale refuses transfers with READ_ONLY and nothing is written", async () => {
    const m = memory();
    const { src } = await source(m);
    for (const chunkSize of [[4, 4, 4], [8, 8, 8]] as const) {
      const info = smallInfo({ chunkSize: [...chunkSize] });
      info.scales[0].locked = true;
      const layer = `locked-${chunkSize[0]}`;
      const dst = await m.open(`mem://b/${layer}`, { info });
      await dst.commitInfo();
      await rejects(src.transferTo(dst), "READ_ONLY", "locked");
      expect(chunkKeys(m.bucket(), layer)).toEqual([]);
    }
  });

  it("a region that cuts chunks is ALIGNMENT; an aligned region copies just its chunks", async () => {
    const m = memory();
    const { src } = await source(m);
    const dst = await m.open("mem://b/part", { info: smallInfo() });
    await dst.commitInfo();
    await rejects(src.transferTo(dst, { bbox: [2, 2, 3, 5, 6, 7] }), "ALIGNMENT");
    const stats = await src.transferTo(dst, { bbox: [1, 2, 3, 5, 6, 7] });
    expect(stats).toEqual({ chunks: 1, copied: 1, recoded: 0 });
    expect(chunkKeys(m.bucket(), "part")).toEqual(["4_4_40/1-5_2-6_3-7"]);
  });
});

describe("write protection", () => {
  it("a locked scale refuses uploads with READ_ONLY; other writes still work", async () => {
    const m = memory();
    const info = smallInfo();
    info.scales[0].locked = true;
    const vol = await m.open("mem://b/locked", { info });
    await vol.commitInfo();
    await rejects(vol.upload([1, 2, 3, 5, 6, 7], new Uint16Array(64)), "READ_ONLY", "mip 0 is locked");
    expect(chunkKeys(m.bucket(), "locked")).toEqual([]);
    vol.info.scales[0].locked = false;
    await vol.upload([1, 2, 3, 5, 6, 7], new Uint16Array(64));
    expect(chunkKeys(m.bucket(), "locked")).toEqual(["4_4_40/1-5_2-6_3-7"]);
  });

  it("a layer reached through a redirect is read-only and reads the target", async () => {
    const m = memory();
    const target = await m.open("mem://b/target", { info: smallInfo() });
    await target.commitInfo();
    const data = volumeData();
    await target.upload(target.bounds(), data);
    m.bucket().set("stub/info", { data: new TextEncoder().encode(JSON.stringify({ redirect: "mem://b/target" })) });
    const vol = await m.open("mem://b/stub");
    expect(vol.readOnly).toBe(true);
    expect(vol.redirected).toBe(true);
    expect(vol.url).toBe("mem://b/target");
    expect((await vol.download(vol.bounds())).data).toEqual(data);
    await rejects(vol.upload([1, 2, 3, 5, 6, 7], new Uint16Array(64)), "READ_ONLY", "redirect");
    await rejects(vol.commitInfo(), "READ_ONLY");
    await rejects(vol.commitProvenance(), "READ_ONLY");
    const dst = await m.open("mem://b/other", { info: smallInfo() });
    await rejects(dst.transferTo(vol), "READ_ONLY");
    expect(target.readOnly).toBe(false);
    // A redirect stub that is not followed has no scales to read.
    await rejects(m.open("mem://b/stub", { maxRedirects: 0 }), "INVALID_METADATA", "info: type");
  });

  it("redirect chains: followed across hops, cycles and too many hops are INVALID_METADATA", async () => {
    const m = memory();
    const stub = (from: string, to: string) => m.bucket().set(`${from}/info`, { data: new TextEncoder().encode(JSON.stringify({ redirect: `mem://b/${to}` })) });
    const target = await m.open("mem://b/end", { info: smallInfo() });
    await target.commitInfo();
    stub("a", "b1");
    stub("b1", "end");
    const vol = await m.open("mem://b/a");
    expect(vol.url).toBe("mem://b/end");
    expect(vol.readOnly).toBe(true);
    await rejects(m.open("mem://b/a", { maxRedirects: 1 }), "INVALID_METADATA", "maxRedirects=1");
    stub("x", "y");
    stub("y", "x");
    await rejects(m.open("mem://b/x"), "INVALID_METADATA", "redirect cycle");
  });
});

describe("reads and writes at other mips", () => {
  it("uploads and downloads at a mip given by resolution", async () => {
    const m = memory();
    const vol = await m.open("mem://b/ms", { info: multiscaleInfo(), compress: false });
    await vol.commitInfo();
    const data = new Uint8Array(16 * 16 * 16).map((_, i) => (i * 7) & 0xff);
    await vol.upload(vol.bounds(2), data, { mip: [16, 16, 80] });
    expect(chunkKeys(m.bucket(), "ms")).toEqual(["16_16_80/0-16_0-16_0-8", "16_16_80/0-16_0-16_8-16"]);
    const got = await vol.download(new Bbox([0, 0, 0], [16, 16, 16]), { mip: 2 });
    expect(got.mip).toBe(2);
    expect(got.data).toEqual(data);
    await rejects(vol.download(vol.bounds(2), { mip: 0 }), "NOT_FOUND");
  });
});
