import { expectRejects as rejects, seededRandom } from "@cloudvolume/testing";
import { describe, expect, it } from "vitest";
import { Bbox, Context, bytesOf, dtypeInfo, isCloudVolumeError, type DataType, type ErrorCode, type GetOptions, type TypedArray } from "@cloudvolume/core";
import { memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip, gzipCodec } from "@cloudvolume/codec-gzip";
import {
  PrecomputedVolume, computeShardParamsForImage, createNewInfo, decodeShardFile, encodeShard, parseShardingSpec, precomputed,
  type PrecomputedInfo, type PrecomputedOptions,
} from "../src/index.js";

/**
 * Sharded scales through PrecomputedVolume: the multi-shard layout (preshift 1,
 * minishard 2, shard 3 on a 10x11x12 volume at offset (1,2,3) with 4^3 chunks and 4
 * channels), edge chunks, whole-shard uploads, deleteBlackUploads, fillMissing and
 * transfers in and out of the sharded format.
 */

function memory() {
  const buckets = new Map<string, MemoryBucket>();
  const ctx = new Context({ plugins: [memoryStorage({ buckets }), raw(), gzip(), precomputed()] });
  const bucket = (name = "b"): MemoryBucket => {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = new Map()));
    return b;
  };
  const open = (url: string, opts?: PrecomputedOptions) => PrecomputedVolume.open(ctx, url, opts);
  return { ctx, bucket, open };
}


const SIZE = [10, 11, 12] as const;
const OFFSET = [1, 2, 3] as const;
const CHANNELS = 4;
const MULTI = { "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 1, minishard_bits: 2, shard_bits: 3 };

function shardedInfo(dtype: DataType, encodings: "raw" | "gzip" = "raw", sharding: Record<string, unknown> = MULTI): PrecomputedInfo {
  const info = createNewInfo({
    layerType: "image", dataType: dtype, encoding: "raw", resolution: [4, 4, 40], voxelOffset: [...OFFSET],
    volumeSize: [...SIZE], chunkSize: [4, 4, 4], numChannels: CHANNELS,
  });
  info.scales[0].sharding = { ...sharding, minishard_index_encoding: encodings, data_encoding: encodings };
  return info;
}

/** Deterministic, non-constant voxels of every dtype (no zeros, so background checks mean something). */
function volumeData(dtype: DataType, n = SIZE[0] * SIZE[1] * SIZE[2] * CHANNELS): TypedArray {
  const a = new (dtypeInfo(dtype).ctor)(n) as TypedArray;
  for (let i = 0; i < n; i++) {
    const v = ((i * 2654435761) >>> 8) % 250 + 1;
    if (a instanceof BigUint64Array || a instanceof BigInt64Array) (a as BigUint64Array)[i] = (BigInt(v) << 40n) + BigInt(i) + 1n;
    else if (a instanceof Float32Array || a instanceof Float64Array) a[i] = v / 7 - 3.5;
    else (a as Uint8Array)[i] = v;
  }
  return a;
}

/** Voxel bytes of box [min, max) (absolute coordinates) out of the whole-volume data, Fortran x,y,z,c. */
function cut(data: Uint8Array, bpv: number, min: readonly number[], max: readonly number[]): Uint8Array {
  const [sx, sy, sz] = [max[0] - min[0], max[1] - min[1], max[2] - min[2]];
  const out = new Uint8Array(sx * sy * sz * CHANNELS * bpv);
  for (let c = 0; c < CHANNELS; c++) for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
    const gx = min[0] + x - OFFSET[0], gy = min[1] + y - OFFSET[1], gz = min[2] + z - OFFSET[2];
    const src = (gx + SIZE[0] * (gy + SIZE[1] * (gz + SIZE[2] * c))) * bpv;
    const dst = (x + sx * (y + sy * (z + sz * c))) * bpv;
    for (let b = 0; b < bpv; b++) out[dst + b] = data[src + b];
  }
  return out;
}

/** Grid 3x3x3 has 2 Morton bits per axis: code = x0 y0 z0 x1 y1 z1 (volume.md), written out by hand. */
const morton = (x: number, y: number, z: number) => BigInt((x & 1) | ((y & 1) << 1) | ((z & 1) << 2) | ((x >> 1) << 3) | ((y >> 1) << 4) | ((z >> 1) << 5));
/** Truncated chunk box of grid cell g (chunks at the upper edge stop at the bound: 10 = 4+4+2, 11 = 4+4+3). */
const chunkBox = (g: number[]) => {
  const min = g.map((v, d) => OFFSET[d] + 4 * v);
  return { min, max: min.map((v, d) => Math.min(v + 4, OFFSET[d] + SIZE[d])) };
};

const rng = seededRandom;

const shardKeys = (b: MemoryBucket, layer: string) => [...b.keys()].filter((k) => k.startsWith(`${layer}/4_4_40/`)).map((k) => k.slice(layer.length + 8)).sort();

describe("multi-shard volume: preshift 1, minishard 2, shard 3; 10x11x12 voxels x 4 channels at offset (1,2,3), 4^3 chunks", () => {
  const cases: Array<[DataType, "raw" | "gzip"]> = [];
  for (const dt of ["uint8", "uint16", "uint32", "uint64", "int16", "float32", "float64"] as DataType[]) for (const e of ["raw", "gzip"] as const) cases.push([dt, e]);

  it.each(cases)("%s, %s index and data: 8 shard files laid out as the format says; reads whole and 20 sub-boxes", async (dtype, enc) => {
    const m = memory();
    const vol = await m.open("mem://b/v", { info: shardedInfo(dtype, enc) });
    await vol.commitInfo();
    const data = volumeData(dtype);
    await vol.upload(vol.bounds(), data);
    const bpv = dtypeInfo(dtype).bytes;
    const bytes = bytesOf(data);

    // Shard number = chunk id >> (preshift + minishard) = the 2x2x2-chunk brick (x1, y1, z1): 8 files.
    expect(shardKeys(m.bucket(), "v")).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => `${n}.shard`));
    expect(vol.shardShape()).toEqual([8, 8, 8]);
    const spec = parseShardingSpec(vol.scale().sharding);
    for (let shard = 0; shard < 8; shard++) {
      const file = m.bucket().get(`v/4_4_40/${shard}.shard`)!.data;
      const chunks = await decodeShardFile(spec, file, { gzip: gzipCodec });
      const expected = new Map<bigint, Uint8Array>();
      for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
        if ((x >> 1) + 2 * (y >> 1) + 4 * (z >> 1) !== shard) continue;
        const b = chunkBox([x, y, z]);
        expected.set(morton(x, y, z), cut(bytes, bpv, b.min, b.max));
      }
      expect([...chunks.keys()].sort(), `shard ${shard}`).toEqual([...expected.keys()].sort());
      // Edge chunks are stored truncated: e.g. grid (2,2,z) holds 2x3x4 voxels.
      for (const [id, want] of expected) expect(chunks.get(id), `shard ${shard} chunk ${id}`).toEqual(want);
    }

    const whole = await vol.download(vol.bounds());
    expect(bytesOf(whole.data)).toEqual(bytes);
    const rand = rng(dtype.length * 31 + enc.length);
    for (let i = 0; i < 20; i++) {
      const min = [0, 1, 2].map((d) => OFFSET[d] + Math.floor(rand() * SIZE[d]));
      const max = min.map((v, d) => v + 1 + Math.floor(rand() * (OFFSET[d] + SIZE[d] - v)));
      const got = await vol.download([...min, ...max]);
      expect(Buffer.from(bytesOf(got.data)).equals(Buffer.from(cut(bytes, bpv, min, max))), `box ${min}-${max}`).toBe(true);
    }
  });

  it("reads edge chunks stored padded to the full chunk size too (raw and gzip)", async () => {
    for (const enc of ["raw", "gzip"] as const) {
      const m = memory();
      const vol = await m.open("mem://b/p", { info: shardedInfo("uint16", enc) });
      await vol.commitInfo();
      const data = volumeData("uint16");
      const bytes = bytesOf(data);
      const spec = parseShardingSpec(vol.scale().sharding);
      // Write the shard files by hand with every edge chunk padded to 4x4x4 (padding 0xEE).
      const byShard = new Map<number, Array<[bigint, Uint8Array]>>();
      for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
        const b = chunkBox([x, y, z]);
        const t = cut(bytes, 2, b.min, b.max);
        const [sx, sy, sz] = [b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]];
        const padded = new Uint8Array(4 * 4 * 4 * CHANNELS * 2).fill(0xee);
        for (let c = 0; c < CHANNELS; c++) for (let zz = 0; zz < sz; zz++) for (let yy = 0; yy < sy; yy++) {
          const src = (sx * (yy + sy * (zz + sz * c))) * 2;
          padded.set(t.subarray(src, src + sx * 2), (4 * (yy + 4 * (zz + 4 * c))) * 2);
        }
        const shard = (x >> 1) + 2 * (y >> 1) + 4 * (z >> 1);
        if (!byShard.has(shard)) byShard.set(shard, []);
        byShard.get(shard)!.push([morton(x, y, z), padded]);
      }
      for (const [shard, entries] of byShard) {
        const built = await encodeShard(spec, entries, { gzip: gzipCodec });
        expect(built.filename).toBe(`${shard}.shard`);
        m.bucket().set(`p/4_4_40/${built.filename}`, { data: built.data });
      }
      expect(bytesOf((await vol.download(vol.bounds())).data)).toEqual(bytes);
      expect(bytesOf((await vol.download([8, 9, 10, 11, 13, 15])).data)).toEqual(cut(bytes, 2, [8, 9, 10], [11, 13, 15]));
    }
  });

  it("a whole-volume read asks each shard for its index once, each minishard once, and its data in one merged range", async () => {
    const m = memory();
    const vol = await m.open("mem://b/r", { info: shardedInfo("uint8") });
    await vol.commitInfo();
    await vol.upload(vol.bounds(), volumeData("uint8"));
    const store = (vol as unknown as { store: { get: (k: string, o?: GetOptions) => Promise<Uint8Array | undefined> } }).store;
    const gets: string[] = [];
    const get = store.get.bind(store);
    store.get = (k, o) => {
      gets.push(`${k} ${o?.range ? JSON.stringify(o.range) : ""}`);
      return get(k, o);
    };
    await vol.download(vol.bounds());
    // (shard, minishard) pairs: minishard = (id >> 1) & 3.
    const pairs = new Set<string>();
    for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
      const id = morton(x, y, z);
      pairs.add(`${id >> 3n}:${(id >> 1n) & 3n}`);
    }
    expect(gets.filter((g) => g.includes('"offset":0,"length":64'))).toHaveLength(8);
    expect(gets).toHaveLength(8 + pairs.size + 8);
    gets.length = 0;
    await vol.download(vol.bounds());
    expect(gets).toHaveLength(8); // indices came from the LRU
  });
});

describe("sharded uploads", () => {
  it("a write that covers part of a shard is ALIGNMENT naming the shard shape; whole shards (truncated at the bound) are fine", async () => {
    const m = memory();
    const vol = await m.open("mem://b/a", { info: shardedInfo("uint8") });
    await vol.commitInfo();
    const one = new Uint8Array(4 * 4 * 4 * CHANNELS).fill(9);
    const err = await rejects(vol.upload([1, 2, 3, 5, 6, 7], one), "ALIGNMENT", /covers only part of shard file 4_4_40\/0\.shard at mip 0: .*8x8x8 voxels \(2x2x2 chunks of 4x4x4\) anchored at 1,2,3/);
    expect(err.key).toBe("4_4_40/0.shard");
    expect(err.message).toContain("Bbox(1,2,3, 9,10,11)");
    // nonAlignedWrites does not make a shard patchable.
    const lenient = await m.open("mem://b/a", { nonAlignedWrites: true });
    await rejects(lenient.upload([1, 2, 3, 5, 6, 7], one), "ALIGNMENT");
    // Two shards, one of them cut: nothing is written.
    await rejects(vol.upload([1, 2, 3, 11, 10, 7], new Uint8Array(10 * 8 * 4 * CHANNELS)), "ALIGNMENT", /4_4_40\/0\.shard/);
    expect(shardKeys(m.bucket(), "a")).toEqual([]);
    // Shard (1,1,1) is the edge brick [9,11) x [10,13) x [11,15): 1 chunk of 2x3x4.
    const edge = new Uint8Array(2 * 3 * 4 * CHANNELS).map((_, i) => i + 1);
    await vol.upload([9, 10, 11, 11, 13, 15], edge);
    expect(shardKeys(m.bucket(), "a")).toEqual(["7.shard"]);
    expect((await vol.download([9, 10, 11, 11, 13, 15])).data).toEqual(edge);
    // Shard 0 is 8x8x8 at the offset.
    const block = volumeData("uint8", 8 * 8 * 8 * CHANNELS) as Uint8Array;
    await vol.upload([1, 2, 3, 9, 10, 11], block);
    expect((await vol.download([1, 2, 3, 9, 10, 11])).data).toEqual(block);
    expect(shardKeys(m.bucket(), "a")).toEqual(["0.shard", "7.shard"]);
  });

  it("with one request at a time (pooled chunk buffers reused at once), every chunk keeps its own bytes", async () => {
    const buckets = new Map<string, MemoryBucket>();
    const ctx = new Context({ plugins: [memoryStorage({ buckets }), raw(), gzip(), precomputed()], concurrency: { mem: 1 } });
    for (const enc of ["raw", "gzip"] as const) {
      const vol = await PrecomputedVolume.open(ctx, `mem://b/one-${enc}`, { info: shardedInfo("uint8", enc) });
      await vol.commitInfo();
      const data = volumeData("uint8");
      await vol.upload(vol.bounds(), data);
      expect((await vol.download(vol.bounds())).data).toEqual(data);
    }
  });

  it("murmurhash images: a shard gathers chunks from all over, so only the whole volume can be written", async () => {
    const m = memory();
    const vol = await m.open("mem://b/mm", { info: shardedInfo("uint8", "raw", { ...MULTI, hash: "murmurhash3_x86_128", preshift_bits: 0, minishard_bits: 1, shard_bits: 1 }) });
    await vol.commitInfo();
    await rejects(vol.upload([1, 2, 3, 9, 10, 11], new Uint8Array(8 * 8 * 8 * CHANNELS)), "ALIGNMENT", /write the whole volume/);
    const data = volumeData("uint8");
    await vol.upload(vol.bounds(), data);
    expect(shardKeys(m.bucket(), "mm")).toEqual(["0.shard", "1.shard"]);
    expect((await vol.download(vol.bounds())).data).toEqual(data);
  });

  it("deleteBlackUploads leaves background chunks out and deletes a shard that would be empty", async () => {
    const m = memory();
    const vol = await m.open("mem://b/d", { info: shardedInfo("uint16"), deleteBlackUploads: true, backgroundColor: 5 });
    await vol.commitInfo();
    const data = volumeData("uint16") as Uint16Array;
    // Paint chunk (0,0,0) = voxels [1,5)x[2,6)x[3,7) with the background value 5.
    for (let c = 0; c < CHANNELS; c++) for (let z = 0; z < 4; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data[x + 10 * (y + 11 * (z + 12 * c))] = 5;
    await vol.upload(vol.bounds(), data);
    const spec = parseShardingSpec(vol.scale().sharding);
    const shard0 = await decodeShardFile(spec, m.bucket().get("d/4_4_40/0.shard")!.data);
    expect(shard0.has(0n)).toBe(false);
    expect(shard0.size).toBe(7);
    await rejects(vol.download(vol.bounds()), "NOT_FOUND", /chunk Bbox\(1,2,3, 5,6,7\) \(id 0\) is missing from shard file 4_4_40\/0\.shard/);
    expect((await vol.download(vol.bounds(), { fillMissing: true })).data).toEqual(data);
    // All background over shard 7: the file goes away.
    expect(shardKeys(m.bucket(), "d")).toContain("7.shard");
    await vol.upload([9, 10, 11, 11, 13, 15], new Uint16Array(2 * 3 * 4 * CHANNELS).fill(5));
    expect(shardKeys(m.bucket(), "d")).not.toContain("7.shard");
    // Without deleteBlackUploads every chunk is written.
    const keep = await m.open("mem://b/d");
    await keep.upload([9, 10, 11, 11, 13, 15], new Uint16Array(2 * 3 * 4 * CHANNELS).fill(5));
    expect(shardKeys(m.bucket(), "d")).toContain("7.shard");
  });

  it("fillMissing: a missing shard file is NOT_FOUND naming it, or background", async () => {
    const m = memory();
    const vol = await m.open("mem://b/f", { info: shardedInfo("uint8") });
    await vol.commitInfo();
    const block = volumeData("uint8", 8 * 8 * 8 * CHANNELS) as Uint8Array;
    await vol.upload([1, 2, 3, 9, 10, 11], block);
    const err = await rejects(vol.download([1, 2, 3, 10, 10, 11]), "NOT_FOUND", /is missing from shard file 4_4_40\/1\.shard .* fillMissing: true/);
    expect(err.key).toBe("4_4_40/1.shard");
    const filled = await m.open("mem://b/f", { fillMissing: true, backgroundColor: 3 });
    const got = await filled.download([1, 2, 3, 10, 10, 11]);
    for (let c = 0; c < CHANNELS; c++) for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 9; x++) {
      const v = got.data[x + 9 * (y + 8 * (z + 8 * c))];
      expect(v).toBe(x < 8 ? block[x + 8 * (y + 8 * (z + 8 * c))] : 3);
    }
  });

  it("the shard file is written with one put, uncompressed, whatever the compress option says", async () => {
    const m = memory();
    const vol = await m.open("mem://b/w", { info: shardedInfo("uint8", "gzip"), compress: "br" });
    await vol.commitInfo();
    const store = (vol as unknown as { store: { put: (...a: unknown[]) => Promise<void> } }).store;
    const puts: string[] = [];
    const put = store.put.bind(store);
    store.put = (...a: unknown[]) => {
      puts.push(a[0] as string);
      return put(...a);
    };
    await vol.upload([1, 2, 3, 9, 10, 11], volumeData("uint8", 8 * 8 * 8 * CHANNELS));
    expect(puts).toEqual(["4_4_40/0.shard"]);
    expect(m.bucket().get("w/4_4_40/0.shard")!.contentEncoding).toBeUndefined();
  });
});

describe("transferTo and sharding", () => {
  async function unshardedSource(m: ReturnType<typeof memory>, dtype: DataType = "uint16") {
    const info = shardedInfo(dtype);
    delete info.scales[0].sharding;
    const src = await m.open("mem://b/src", { info });
    await src.commitInfo();
    const data = volumeData(dtype);
    await src.upload(src.bounds(), data);
    return { src, data, info };
  }

  it("unsharded -> sharded (sharded: true): CloudVolume's parameters, committed; and back (sharded: false)", async () => {
    const m = memory();
    const { src, data, info } = await unshardedSource(m);
    const dst = await m.open("mem://b/sh", { info: structuredClone(info) });
    await dst.commitInfo();
    const stats = await src.transferTo(dst, { sharded: true });
    // The 15 chunks at the x or y edge are re-encoded (a padded source would be written truncated), the rest copied as stored.
    expect(stats).toEqual({ chunks: 27, copied: 12, recoded: 15 });
    const want = computeShardParamsForImage({ size: [...SIZE], chunkSize: [4, 4, 4], encoding: "raw", dtype: "uint16" });
    expect(dst.scale().sharding).toEqual(want);
    const reopened = await m.open("mem://b/sh");
    expect(reopened.scale().sharding).toEqual(want);
    // 27 chunks -> 32 per shard (preshift 5), but the 3x3x3 grid's ids use 6 Morton bits: the
    // leftover bit becomes a shard bit, so 2 shards.
    expect(want).toMatchObject({ preshift_bits: 5, minishard_bits: 0, shard_bits: 1 });
    expect(shardKeys(m.bucket(), "sh")).toEqual(["0.shard", "1.shard"]);
    expect((await reopened.download(reopened.bounds())).data).toEqual(data);

    const back = await m.open("mem://b/back", { info: structuredClone(reopened.info) });
    await back.commitInfo();
    const s2 = await reopened.transferTo(back, { sharded: false });
    expect(s2.chunks).toBe(27);
    expect(back.scale().sharding).toBeUndefined();
    expect(shardKeys(m.bucket(), "back")).toHaveLength(27);
    expect(m.bucket().get("back/4_4_40/9-11_10-13_11-15")!.contentEncoding).toBe("gzip");
    expect((await (await m.open("mem://b/back")).download(back.bounds())).data).toEqual(data);
  });

  it("an explicit spec, missing chunks stay missing, and a region that cuts a destination shard is ALIGNMENT", async () => {
    const m = memory();
    const info = shardedInfo("uint8");
    delete info.scales[0].sharding;
    const src = await m.open("mem://b/src", { info });
    await src.commitInfo();
    const block = volumeData("uint8", 8 * 8 * 8 * CHANNELS) as Uint8Array;
    await src.upload([1, 2, 3, 9, 10, 11], block);
    const dst = await m.open("mem://b/x", { info: structuredClone(info) });
    await dst.commitInfo();
    await rejects(src.transferTo(dst, { sharded: { ...MULTI } as never, bbox: [1, 2, 3, 5, 6, 7] }), "ALIGNMENT", /transfer region .* covers only part of shard file 4_4_40\/0\.shard/);
    const stats = await src.transferTo(dst, { sharded: { ...MULTI } as never });
    expect(stats.chunks).toBe(27);
    expect(stats.copied + stats.recoded).toBe(8);
    expect(shardKeys(m.bucket(), "x")).toEqual(["0.shard"]);
    await rejects(dst.download(dst.bounds()), "NOT_FOUND");
    expect((await dst.download([1, 2, 3, 9, 10, 11])).data).toEqual(block);
  });

  it("sharded -> sharded with the same spec copies shard files untouched; another spec re-encodes", async () => {
    const m = memory();
    const src = await m.open("mem://b/s1", { info: shardedInfo("uint32", "gzip") });
    await src.commitInfo();
    const data = volumeData("uint32");
    await src.upload(src.bounds(), data);
    const same = await m.open("mem://b/s2", { info: shardedInfo("uint32", "gzip") });
    await same.commitInfo();
    const stats = await src.transferTo(same);
    expect(stats).toEqual({ chunks: 27, copied: 27, recoded: 0 });
    for (const k of shardKeys(m.bucket(), "s1")) expect(m.bucket().get(`s2/4_4_40/${k}`)!.data).toEqual(m.bucket().get(`s1/4_4_40/${k}`)!.data);

    const other = await m.open("mem://b/s3", { info: shardedInfo("uint32", "raw", { ...MULTI, preshift_bits: 0, minishard_bits: 3, shard_bits: 3 }) });
    await other.commitInfo();
    await src.transferTo(other);
    expect(shardKeys(m.bucket(), "s3")).toEqual(["0.shard", "1.shard", "2.shard", "3.shard", "4.shard", "5.shard", "6.shard", "7.shard"]);
    expect((await other.download(other.bounds())).data).toEqual(data);
    // Different grid: rebuilt from downloads.
    const regrid = await m.open("mem://b/s4", { info: shardedInfo("uint32", "raw", { ...MULTI, preshift_bits: 0, minishard_bits: 0, shard_bits: 0 }) });
    regrid.info.scales[0].chunk_sizes = [[5, 6, 12]];
    await regrid.commitInfo();
    await src.transferTo(regrid);
    expect((await regrid.download(regrid.bounds())).data).toEqual(data);
    // sharded -> unsharded on another grid.
    const plain = shardedInfo("uint32");
    delete plain.scales[0].sharding;
    plain.scales[0].chunk_sizes = [[5, 11, 6]];
    const flat = await m.open("mem://b/s5", { info: plain });
    await flat.commitInfo();
    await src.transferTo(flat);
    expect((await flat.download(flat.bounds())).data).toEqual(data);
  });

  it("setSharding refuses a spec whose Morton bits do not fit and keeps one chunk size", async () => {
    const m = memory();
    const info = shardedInfo("uint8");
    delete info.scales[0].sharding;
    info.scales[0].chunk_sizes.push([2, 2, 2]);
    const vol = await m.open("mem://b/ss", { info });
    await vol.setSharding(0, true);
    expect(vol.scale().chunk_sizes).toEqual([[4, 4, 4]]);
    expect(vol.isSharded()).toBe(true);
    await rejects(vol.setSharding(0, { ...MULTI, minishard_bits: 99 } as never), "INVALID_METADATA", /scales\[0\]\.sharding\.minishard_bits/);
    await vol.setSharding(0, false);
    expect(vol.isSharded()).toBe(false);
    expect(Bbox.from(vol.bounds()).size()).toEqual([...SIZE]);
  });
});
