import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ErrorCode, type GetOptions, type KeyValueStore } from "@cloudvolume/core";
import { fixturePath, readExpected, expectRejects as rejects } from "@cloudvolume/testing";
import { MemoryStore } from "@cloudvolume/storage-memory";
import { gzipCodec } from "@cloudvolume/codec-gzip";
import {
  ShardedStore, compressedMortonCode, computeShardParamsForHashed, computeShardParamsForImage, decodeCompressedMorton,
  decodeShardFile, encodeShard, imageShardShape, murmurHash64, murmurhash3_x86_128, parseInfo, parseShardingSpec,
  shardLocation, type ShardingSpec,
} from "../src/index.js";

/**
 * The sharded format's building blocks against vectors from outside this project:
 * the murmurhash vectors (seung-lab/shard-computer and CloudVolume agree on them),
 * SMHasher's verification value, the vectors in shared/spec/precomputed.md, and
 * CloudVolume's shard files.
 */


const spec = (o: Partial<Record<string, unknown>> = {}): ShardingSpec =>
  parseShardingSpec({
    "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 0, minishard_bits: 2, shard_bits: 2,
    minishard_index_encoding: "raw", data_encoding: "raw", ...o,
  });

describe("murmurhash3_x86_128", () => {
  const vectors = JSON.parse(readFileSync(join(fixturePath("hash_murmurhash3_x86_128_vectors"), "vectors.json"), "utf8")) as {
    keys: Array<{ key: string; murmurhash3_x86_128_low64_cloudvolume: string; murmurhash3_x86_128_low64_shardcomputer: string; assignments: Array<Record<string, string | number>> }>;
  };

  it("matches the 22 low-64-bit vectors of shard-computer and CloudVolume", () => {
    expect(vectors.keys).toHaveLength(22);
    for (const k of vectors.keys) {
      expect(k.murmurhash3_x86_128_low64_cloudvolume).toBe(k.murmurhash3_x86_128_low64_shardcomputer);
      expect(murmurHash64(BigInt(k.key)).toString(), `key ${k.key}`).toBe(k.murmurhash3_x86_128_low64_cloudvolume);
    }
  });

  it("assigns every vector key to the listed shard and minishard (identity and murmurhash)", () => {
    let n = 0;
    for (const k of vectors.keys) {
      for (const a of k.assignments) {
        const s = spec({ hash: a.hash, preshift_bits: a.preshift_bits, minishard_bits: a.minishard_bits, shard_bits: a.shard_bits });
        const loc = shardLocation(s, BigInt(k.key));
        expect(loc.minishard, `${k.key} ${JSON.stringify(a)}`).toBe(a.minishard_number);
        expect(loc.filename, `${k.key} ${JSON.stringify(a)}`).toBe(`${a.shard_number_hex}.shard`);
        n++;
      }
    }
    expect(n).toBe(22 * 6);
  });

  it("passes SMHasher's verification test (all tail lengths and the block loop): 0xB3ECE62A", () => {
    // Hash keys 0..i-1 of length i = 0..255 with seed 256 - i, hash the 256 digests with
    // seed 0, take the first 32-bit word (SMHasher's VerificationTest).
    const key = new Uint8Array(256);
    const digests = new Uint8Array(256 * 16);
    const dv = new DataView(digests.buffer);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      murmurhash3_x86_128(key.subarray(0, i), 256 - i).forEach((w, j) => dv.setUint32(16 * i + 4 * j, w, true));
    }
    expect(murmurhash3_x86_128(digests, 0)[0]).toBe(0xb3ece62a);
  });

  it("precomputed.md vectors: murmurhash (preshift 6, minishard 11, shard 7) and identity (preshift 2, minishard 3, shard 3)", () => {
    const m = shardLocation(spec({ hash: "murmurhash3_x86_128", preshift_bits: 6, minishard_bits: 11, shard_bits: 7 }), 1822975381n);
    expect(m.shard).toBe(0x42n);
    expect(m.filename).toBe("42.shard");
    expect(m.minishard).toBe(18);
    const i = shardLocation(spec({ preshift_bits: 2, minishard_bits: 3, shard_bits: 3 }), 0b10101010n);
    expect(i.minishard).toBe(0b010);
    expect(i.shard).toBe(0b101n);
    expect(i.filename).toBe("5.shard");
  });

  it("names shard files in lowercase hex padded to ceil(shard_bits / 4) digits", () => {
    expect(shardLocation(spec({ minishard_bits: 0, shard_bits: 0 }), 12345n).filename).toBe("0.shard");
    expect(shardLocation(spec({ minishard_bits: 0, shard_bits: 9 }), 0x1abn).filename).toBe("1ab.shard");
    expect(shardLocation(spec({ minishard_bits: 0, shard_bits: 12 }), 0xcn).filename).toBe("00c.shard");
    expect(shardLocation(spec({ minishard_bits: 4, shard_bits: 60 }), (1n << 64n) - 1n).filename).toBe("fffffffffffffff.shard");
  });
});

describe("compressed Morton codes", () => {
  it("precomputed.md vectors", () => {
    expect(compressedMortonCode([2, 0, 0], [3, 3, 3])).toBe(0b001000n);
    expect(compressedMortonCode([2, 2, 1], [3, 3, 3])).toBe(0b011100n);
    expect(compressedMortonCode([1, 2, 0], [2, 3, 1])).toBe(0b000101n);
    expect(compressedMortonCode([5, 5, 0], [8, 8, 2])).toBe(0b1100011n);
  });

  /** The volume.md algorithm, literally, on bigints: an independent restatement. */
  function reference(g: number[], grid: number[]): bigint {
    let j = 0n;
    let out = 0n;
    for (let i = 0; i < 64; i++) {
      for (let d = 0; d < 3; d++) {
        if (2 ** i < grid[d]) {
          out |= ((BigInt(g[d]) >> BigInt(i)) & 1n) << j;
          j++;
        }
      }
    }
    return out;
  }

  it("is a bijection onto [0, 2^bits) that agrees with the algorithm in volume.md", () => {
    for (const grid of [[3, 3, 3], [2, 3, 1], [8, 8, 2], [5, 1, 7], [1, 1, 1], [16, 3, 9]] as [number, number, number][]) {
      const seen = new Set<bigint>();
      const bits = grid.reduce((s, n) => s + Math.ceil(Math.log2(n)), 0);
      for (let z = 0; z < grid[2]; z++) for (let y = 0; y < grid[1]; y++) for (let x = 0; x < grid[0]; x++) {
        const c = compressedMortonCode([x, y, z], grid);
        expect(c).toBe(reference([x, y, z], grid));
        expect(c < 1n << BigInt(bits)).toBe(true);
        expect(decodeCompressedMorton(c, grid)).toEqual([x, y, z]);
        seen.add(c);
      }
      expect(seen.size).toBe(grid[0] * grid[1] * grid[2]);
    }
  });

  it("uses bits above 32 (a 2^40 x 2^20 x 4 grid)", () => {
    const grid: [number, number, number] = [2 ** 40, 2 ** 20, 4];
    const g: [number, number, number] = [2 ** 40 - 3, 2 ** 19 + 5, 3];
    expect(compressedMortonCode(g, grid)).toBe(reference(g, grid));
    expect(decodeCompressedMorton(compressedMortonCode(g, grid), grid)).toEqual(g);
  });

  it("refuses positions outside the grid and grids needing more than 64 bits", async () => {
    await rejects(() => compressedMortonCode([3, 0, 0], [3, 3, 3]), "OUT_OF_BOUNDS");
    await rejects(() => compressedMortonCode([0, 0, 0], [2 ** 30, 2 ** 30, 2 ** 10]), "INVALID_METADATA", /70 bits/);
  });
});

describe("sharding specification", () => {
  const info = (sharding: unknown) => ({
    type: "image", data_type: "uint8", num_channels: 1,
    scales: [{ key: "s0", size: [8, 8, 8], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "raw", sharding }],
  });
  const good = { "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 1, minishard_bits: 1, shard_bits: 1 };

  it("parseInfo accepts a valid spec (encodings default to raw) and null", () => {
    expect(parseInfo(info(good)).scales[0].sharding).toEqual(good);
    expect(parseShardingSpec(good)).toMatchObject({ minishardIndexEncoding: "raw", dataEncoding: "raw" });
    expect(parseInfo(info(null)).scales[0].sharding).toBeNull();
  });

  it.each([
    [{ minishard_bits: 40 }, "scales[0].sharding.minishard_bits", /integer from 0 to 32, got 40/],
    [{ minishard_bits: 1.5 }, "scales[0].sharding.minishard_bits", /got 1.5/],
    [{ preshift_bits: -1 }, "scales[0].sharding.preshift_bits", /got -1/],
    [{ preshift_bits: "2" }, "scales[0].sharding.preshift_bits", /got "2"/],
    [{ shard_bits: 64, minishard_bits: 1 }, "scales[0].sharding.shard_bits", /at most 64/],
    [{ "@type": "neuroglancer_uint64_sharded_v2" }, "scales[0].sharding.@type", /neuroglancer_uint64_sharded_v1/],
    [{ hash: "md5" }, "scales[0].sharding.hash", /"identity" or "murmurhash3_x86_128", got "md5"/],
    [{ data_encoding: "br" }, "scales[0].sharding.data_encoding", /"raw" or "gzip"/],
    [{ minishard_index_encoding: 1 }, "scales[0].sharding.minishard_index_encoding", /"raw" or "gzip"/],
  ])("%j is INVALID_METADATA naming %s", async (patch, path, message) => {
    const err = await rejects(() => parseInfo(info({ ...good, ...patch })), "INVALID_METADATA", message);
    expect(err.message).toContain(`info: ${path} `);
  });

  it("a non-object sharding is INVALID_METADATA naming scales[0].sharding", async () => {
    const err = await rejects(() => parseInfo(info("yes")), "INVALID_METADATA", /must be an object/);
    expect(err.message).toContain("scales[0].sharding ");
  });
});

describe("parameter choice (CloudVolume's rules)", () => {
  it("imageShardShape gives the shard shapes CloudVolume recorded for the fixtures", () => {
    for (const name of ["pc_image_u8_sharded", "pc_seg_u64_cseg_sharded"]) {
      const s = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8")).scales[0];
      expect(imageShardShape(s.sharding, s.size, s.chunk_sizes[0]), name).toEqual(readExpected(name).shard_shape_voxels);
    }
  });

  it("imageShardShape stops an axis once its Morton bits run out", () => {
    // grid 3x3x3 (2 bits each), 3 low bits: one per axis.
    expect(imageShardShape({ preshift_bits: 1, minishard_bits: 2 }, [10, 11, 12], [4, 4, 4])).toEqual([8, 8, 8]);
    // grid 4x2x1: bits x0 y0 x1; 2 low bits: x0 y0.
    expect(imageShardShape({ preshift_bits: 2, minishard_bits: 0 }, [64, 32, 16], [16, 16, 16])).toEqual([32, 32, 16]);
    // more low bits than the grid has: the shard covers the whole grid.
    expect(imageShardShape({ preshift_bits: 9, minishard_bits: 0 }, [64, 32, 16], [16, 16, 16])).toEqual([64, 32, 16]);
  });

  it("computeShardParamsForImage: a small volume is one shard holding every chunk", () => {
    // 8 chunks < 2^17 chunks per 3.5 GB of 16 KiB chunks: chunks per shard = 8, preshift 3, no shard bits.
    expect(computeShardParamsForImage({ size: [64, 64, 32], chunkSize: [32, 32, 16], encoding: "raw", dtype: "uint8" })).toEqual({
      "@type": "neuroglancer_uint64_sharded_v1", data_encoding: "gzip", hash: "identity", minishard_bits: 0,
      minishard_index_encoding: "gzip", preshift_bits: 3, shard_bits: 0,
    });
    // jpeg data is already compressed: raw data encoding.
    expect(computeShardParamsForImage({ size: [64, 64, 32], chunkSize: [32, 32, 16], encoding: "jpeg", dtype: "uint8" }).data_encoding).toBe("raw");
  });

  it("computeShardParamsForImage: the memory budget sets chunks per shard, minishards keep <= 4000 labels", () => {
    // 2048^3 uint8 in 64^3 chunks: 32768 chunks (15 Morton bits); 3.5e9 / 262144 -> 13352 -> 8192 chunks
    // per shard; 4 shards (2 bits); 8192 labels -> 4096 -> 2048 per minishard: 2 minishard bits;
    // preshift 13 - 2 = 11; shard bits 15 - 11 - 2 = 2.
    const p = computeShardParamsForImage({ size: [2048, 2048, 2048], chunkSize: [64, 64, 64], encoding: "raw", dtype: "uint8" });
    expect([p.preshift_bits, p.minishard_bits, p.shard_bits]).toEqual([11, 2, 2]);
    // uint64: 8 bytes per voxel -> 1669 -> 1024 chunks per shard: 32 shards, no minishards.
    const q = computeShardParamsForImage({ size: [2048, 2048, 2048], chunkSize: [64, 64, 64], encoding: "raw", dtype: "uint64" });
    expect([q.preshift_bits, q.minishard_bits, q.shard_bits]).toEqual([10, 0, 5]);
    // A smaller budget: 2^20 bytes -> 4 chunks per shard.
    const r = computeShardParamsForImage({ size: [256, 256, 256], chunkSize: [64, 64, 64], encoding: "raw", dtype: "uint8", uncompressedShardBytes: 2 ** 20 });
    expect([r.preshift_bits, r.minishard_bits, r.shard_bits]).toEqual([2, 0, 4]);
  });

  it("computeShardParamsForImage: a one-chunk-deep volume gets CloudVolume's extra preshift bits", () => {
    // 16384 x 16384 x 16 in 64x64x16 chunks: grid 256x256x1, 16 Morton bits, 65536 chunks;
    // 3.5e9 / 65536 -> 53406 -> 32768 chunks per shard, 2 shards; 32768 labels -> 4096 -> 2048
    // per minishard: 4 minishard bits (index 256 B); preshift 15 - 4 = 11; one chunk deep in z:
    // floor(11/3) = 3 more preshift bits, a step onto a multiple of 3 not counting:
    // 12 (not counted), 13, 14, 15 (not counted), 16 -> preshift 16, bits total 16 + 5 = 21;
    // shard bits 21 - 16 - 4 = 1.
    const p = computeShardParamsForImage({ size: [16384, 16384, 16], chunkSize: [64, 64, 16], encoding: "raw", dtype: "uint8" });
    expect([p.preshift_bits, p.minishard_bits, p.shard_bits]).toEqual([16, 4, 1]);
  });

  it("computeShardParamsForHashed", () => {
    // N = 8192/16 = 512 minishards per shard, L = 32768/24 = 1365.33 labels per minishard.
    expect(computeShardParamsForHashed(0)).toEqual({ shardBits: 0, minishardBits: 0, preshiftBits: 0 });
    expect(computeShardParamsForHashed(1000)).toEqual({ shardBits: 0, minishardBits: 0, preshiftBits: 0 });
    // 100000 / L = 73.2 -> 7 minishard bits; 14% full -> shard bits stay 0.
    expect(computeShardParamsForHashed(100_000)).toEqual({ shardBits: 0, minishardBits: 7, preshiftBits: 0 });
    // 1e7 >= N*L: 9 minishard bits, ceil(log2(1e7 / (L * 512))) = 4 shard bits, 89% full.
    expect(computeShardParamsForHashed(10_000_000)).toEqual({ shardBits: 4, minishardBits: 9, preshiftBits: 0 });
    // 1.2e6: 9 + ceil(log2(1.716)) = 1 shard bit, 86% full.
    expect(computeShardParamsForHashed(1_200_000)).toEqual({ shardBits: 1, minishardBits: 9, preshiftBits: 0 });
    // 8e5: 1 shard bit but only 57%... 800000 / 1398101 = 0.572 > 0.55: kept.
    expect(computeShardParamsForHashed(800_000)).toEqual({ shardBits: 1, minishardBits: 9, preshiftBits: 0 });
    // 7e5 -> 1 shard bit, 50% full -> taken back.
    expect(computeShardParamsForHashed(700_000)).toEqual({ shardBits: 0, minishardBits: 9, preshiftBits: 0 });
    // minShards moves bits from minishards to shards.
    expect(computeShardParamsForHashed(100_000, { minShards: 8 })).toEqual({ shardBits: 3, minishardBits: 4, preshiftBits: 0 });
  });
});

/** A memory store that records every get (key and range), to count requests. */
function recording(): { store: KeyValueStore & MemoryStore; gets: Array<{ key: string; range?: GetOptions["range"] }> } {
  const store = new MemoryStore() as KeyValueStore & MemoryStore;
  const gets: Array<{ key: string; range?: GetOptions["range"] }> = [];
  const get = store.get.bind(store);
  store.get = (key: string, opts?: GetOptions) => {
    gets.push({ key, range: opts?.range });
    return get(key, opts);
  };
  return { store, gets };
}

const payload = (id: bigint, n = 10 + Number(id % 7n)) => new Uint8Array(n).map((_, i) => Number((id * 31n + BigInt(i)) % 251n));

describe("ShardedStore and encodeShard", () => {
  for (const enc of ["raw", "gzip"] as const) {
    it(`round trip, ${enc} index and data: every key, missing keys, missing shard files`, async () => {
      const s = spec({ preshift_bits: 1, minishard_bits: 2, shard_bits: 2, minishard_index_encoding: enc, data_encoding: enc });
      const { store } = recording();
      const ids = [0n, 1n, 2n, 3n, 5n, 8n, 9n, 17n, 33n, 34n, 100n, 1000n, 4097n, (1n << 64n) - 1n];
      const byFile = new Map<string, Array<[bigint, Uint8Array]>>();
      for (const id of ids) {
        const f = shardLocation(s, id).filename;
        if (!byFile.has(f)) byFile.set(f, []);
        byFile.get(f)!.push([id, payload(id)]);
      }
      for (const [f, entries] of byFile) {
        const built = await encodeShard(s, entries, { gzip: gzipCodec });
        expect(built.filename).toBe(f);
        await store.put(`layer/${f}`, built.data);
        // The whole file decodes to exactly these entries.
        const back = await decodeShardFile(s, built.data, { gzip: gzipCodec });
        expect([...back.keys()].sort()).toEqual(entries.map((e) => e[0]).sort());
      }
      const sharded = new ShardedStore(store, s, { prefix: "layer", gzip: gzipCodec });
      const got = await sharded.getMany([...ids, 4n, 6n, 7n, 101n, 1n]);
      expect([...got.keys()].sort()).toEqual([...ids].sort());
      for (const id of ids) expect(got.get(id), `id ${id}`).toEqual(payload(id));
      expect(await sharded.get(5n)).toEqual(payload(5n));
      expect(await sharded.get("1000")).toEqual(payload(1000n));
      expect(await sharded.get(4n)).toBeUndefined(); // in a shard file that exists, but not in it
      const absent = [...Array(64).keys()].map(BigInt).find((k) => !byFile.has(shardLocation(s, k).filename));
      if (absent !== undefined) expect(await sharded.get(absent)).toBeUndefined();
      await rejects(() => sharded.get("-1"), "INVALID_ARGUMENT");
      await rejects(() => sharded.get(1n << 64n), "INVALID_ARGUMENT");
    });
  }

  it("lays a shard out as CloudVolume does: index, data by minishard (first-seen order), ids ascending, then minishard indices", async () => {
    const s = spec({ preshift_bits: 0, minishard_bits: 1, shard_bits: 0 });
    // Minishard 1 is seen first; ids within a minishard arrive unsorted.
    const built = await encodeShard(s, [[5n, new Uint8Array([5, 5])], [3n, new Uint8Array([3])], [2n, new Uint8Array([2, 2, 2])], [0n, new Uint8Array([0, 0])]]);
    const u = new BigUint64Array(built.data.buffer.slice(0, 32));
    // Data: minishard 1 (ids 3, 5) = 3 bytes, then minishard 0 (ids 0, 2) = 5 bytes; indices 48 bytes each.
    expect([...u]).toEqual([8n + 48n, 8n + 96n, 8n, 8n + 48n]);
    expect([...built.data.subarray(32, 40)]).toEqual([3, 5, 5, 0, 0, 2, 2, 2]);
    const idx1 = new BigUint64Array(built.data.buffer.slice(40, 88));
    expect([...idx1]).toEqual([3n, 2n, 0n, 0n, 1n, 2n]); // id deltas, offset deltas (first = start), sizes
    const idx0 = new BigUint64Array(built.data.buffer.slice(88, 136));
    expect([...idx0]).toEqual([0n, 2n, 3n, 0n, 2n, 3n]);
    expect(built.data.byteLength).toBe(136);
  });

  it("refuses chunks of two shards in one file, duplicate ids, and gzip without a codec", async () => {
    const s = spec({ minishard_bits: 1, shard_bits: 1 });
    await rejects(encodeShard(s, [[0n, new Uint8Array(1)], [2n, new Uint8Array(1)]]), "INVALID_ARGUMENT", /belongs in shard 1\.shard, not 0\.shard/);
    await rejects(encodeShard(s, [[0n, new Uint8Array(1)], [0n, new Uint8Array(1)]]), "INVALID_ARGUMENT", /twice/);
    await rejects(encodeShard(spec({ data_encoding: "gzip" }), [[0n, new Uint8Array(1)]]), "UNKNOWN_CODEC");
    await rejects(encodeShard(s, []), "INVALID_ARGUMENT");
  });

  it("reads an index once (LRU), merges adjacent data ranges into one GET, and forgets on invalidate", async () => {
    const s = spec({ preshift_bits: 0, minishard_bits: 1, shard_bits: 0 });
    const { store, gets } = recording();
    const entries: Array<[bigint, Uint8Array]> = [...Array(10).keys()].map((i) => [BigInt(i), payload(BigInt(i))]);
    await store.put("0.shard", (await encodeShard(s, entries)).data);
    const sharded = new ShardedStore(store, s);
    const all = await sharded.getMany(entries.map((e) => e[0]));
    expect(all.size).toBe(10);
    // 1 shard index + 2 minishard indices + 1 data range (both minishards' data are contiguous).
    expect(gets.map((g) => g.range)).toEqual([
      { offset: 0, length: 32 },
      expect.objectContaining({ length: 5 * 24 }), expect.objectContaining({ length: 5 * 24 }),
      { offset: 32, length: entries.reduce((n, e) => n + e[1].byteLength, 0) },
    ]);
    gets.length = 0;
    // Indices cached: ids 1 and 5 (minishard 1, with 3 between them) are two data reads only.
    expect((await sharded.getMany([1n, 5n])).size).toBe(2);
    expect(gets).toHaveLength(2);
    gets.length = 0;
    // Adjacent ids in file order (3, 5: 5 follows 3 in minishard 1) are one read.
    await sharded.getMany([3n, 5n]);
    expect(gets).toHaveLength(1);
    gets.length = 0;
    sharded.invalidate("0.shard");
    await sharded.get(1n);
    expect(gets).toHaveLength(3);
  });

  it("a shard index larger than 1 MiB is read entry by entry", async () => {
    const s = spec({ preshift_bits: 0, minishard_bits: 17, shard_bits: 0 });
    const { store, gets } = recording();
    const entries: Array<[bigint, Uint8Array]> = [[7n, payload(7n)], [70000n, payload(70000n)]];
    await store.put("0.shard", (await encodeShard(s, entries)).data);
    const sharded = new ShardedStore(store, s);
    expect(await sharded.get(70000n)).toEqual(payload(70000n));
    expect(gets[0].range).toEqual({ offset: 16 * 70000, length: 16 });
    expect(await sharded.get(8n)).toBeUndefined();
    expect(await sharded.get(7n)).toEqual(payload(7n));
  });

  it("works over a store without range reads", async () => {
    const s = spec({ minishard_bits: 1, shard_bits: 0 });
    const mem = new MemoryStore();
    await mem.put("0.shard", (await encodeShard(s, [[1n, payload(1n)], [2n, payload(2n)]])).data);
    const noRanges: KeyValueStore = { url: "x://", capabilities: { write: false, list: false, rangeReads: false }, get: (k) => mem.get(k) };
    const sharded = new ShardedStore(noRanges, s);
    expect(await sharded.get(2n)).toEqual(payload(2n));
    expect(await sharded.get(3n)).toBeUndefined();
  });
});

describe("malformed shard files are DECODE_FAILED naming the shard file", () => {
  const s = spec({ preshift_bits: 0, minishard_bits: 1, shard_bits: 0 });
  async function shardWith(mutate: (b: Uint8Array) => Uint8Array, sp: ShardingSpec = s): Promise<ShardedStore> {
    const built = await encodeShard(sp, [[0n, payload(0n)], [1n, payload(1n)], [2n, payload(2n)]], { gzip: gzipCodec });
    const store = new MemoryStore();
    await store.put("img/0.shard", mutate(new Uint8Array(built.data)));
    return new ShardedStore(store, sp, { prefix: "img", gzip: gzipCodec });
  }
  const setU64 = (b: Uint8Array, at: number, v: bigint) => new DataView(b.buffer, b.byteOffset).setBigUint64(at, v, true);

  it("truncated shard index", async () => {
    const st = await shardWith((b) => b.subarray(0, 20));
    const err = await rejects(st.get(0n), "DECODE_FAILED", /shard file img\/0\.shard: the file is 20 bytes, shorter than its 32-byte shard index/);
    expect((err as { key?: string }).key).toBe("img/0.shard");
  });

  it("a file cut inside the data or the minishard indices", async () => {
    await rejects((await shardWith((b) => b.subarray(0, b.byteLength - 10))).get(1n), "DECODE_FAILED", /img\/0\.shard: minishard index 1 .* lies past the end of the file/);
  });

  it("shard index entries with start > end or pointing past the file", async () => {
    await rejects((await shardWith((b) => (setU64(b, 16, 500n), b))).get(1n), "DECODE_FAILED", /img\/0\.shard: shard index entry for minishard 1 is \[500, /);
    await rejects((await shardWith((b) => (setU64(b, 24, 100000n), b))).get(1n), "DECODE_FAILED", /img\/0\.shard: minishard index 1 .* past the end/);
  });

  it("a minishard index whose length is not a multiple of 24", async () => {
    // Minishard 0 (ids 0, 2) -> shrink its range by 8 bytes.
    const st = await shardWith((b) => {
      const end = new DataView(b.buffer, b.byteOffset).getBigUint64(8, true);
      setU64(b, 8, end - 8n);
      return b;
    });
    await rejects(st.get(2n), "DECODE_FAILED", /img\/0\.shard: minishard index 0 .* is 40 bytes, not a multiple of 24/);
  });

  it("chunk offsets past the end of the file", async () => {
    const st = await shardWith((b) => {
      const dv = new DataView(b.buffer, b.byteOffset);
      const start = Number(dv.getBigUint64(16, true)) + 32; // minishard 1 index (one id: 1)
      dv.setBigUint64(start + 16, 99999n, true); // its size
      return b;
    });
    await rejects(st.get(1n), "DECODE_FAILED", /img\/0\.shard: chunk 1 is indexed at bytes \d+-\d+, but the file ends at byte \d+/);
  });

  it("gzip failures name the shard file and the chunk id", async () => {
    const gz = spec({ preshift_bits: 0, minishard_bits: 1, shard_bits: 0, data_encoding: "gzip", minishard_index_encoding: "gzip" });
    const st = await shardWith((b) => {
      b[32] ^= 0xff; // the gzip magic of the first data member: chunk 0 (minishard 0 is seen first)
      return b;
    }, gz);
    await rejects(st.get(0n), "DECODE_FAILED", /img\/0\.shard: cannot gunzip the data of chunk 0 /);
    expect(await st.get(1n)).toEqual(payload(1n)); // the other chunks still read
    const broken = await shardWith((b) => {
      const dv = new DataView(b.buffer, b.byteOffset);
      b[Number(dv.getBigUint64(0, true)) + 32 + 1] ^= 0xff; // the gzip magic of minishard index 0
      return b;
    }, gz);
    await rejects(broken.get(0n), "DECODE_FAILED", /img\/0\.shard: cannot gunzip minishard index 0/);
  });

  it("decodeShardFile validates the same way", async () => {
    const built = await encodeShard(s, [[0n, payload(0n)], [1n, payload(1n)]]);
    await rejects(decodeShardFile(s, built.data.subarray(0, 31), { key: "k.shard" }), "DECODE_FAILED", /k\.shard: .*shorter than its 32-byte shard index/);
    await rejects(decodeShardFile(s, built.data.subarray(0, built.data.byteLength - 1), { key: "k.shard" }), "DECODE_FAILED", /k\.shard: minishard index/);
  });
});
