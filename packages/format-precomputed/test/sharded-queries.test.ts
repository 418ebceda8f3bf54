import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { GetOptions, KeyValueStore } from "@cloudvolume/core";
import { MemoryStore } from "@cloudvolume/storage-memory";
import { gzipCodec } from "@cloudvolume/codec-gzip";
import { ShardedStore, encodeShard, parseShardingSpec, shardLocation } from "../src/index.js";

/**
 * ShardedStore.has (exists per chunk from the indices alone) and getMany({ raw }) (data
 * as stored, CloudVolume's get_data(raw=True)), which exists and downloadFiles use.
 */

const spec = parseShardingSpec({
  "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 1, minishard_bits: 2, shard_bits: 1,
  minishard_index_encoding: "gzip", data_encoding: "gzip",
});

const payload = (id: bigint) => new Uint8Array(20 + Number(id % 5n)).map((_, i) => Number((id * 7n + BigInt(i)) % 253n));

async function build(ids: bigint[]): Promise<{ store: KeyValueStore; gets: Array<{ key: string; range?: GetOptions["range"] }>; sizes: Map<string, number> }> {
  const store = new MemoryStore();
  const byFile = new Map<string, Array<[bigint, Uint8Array]>>();
  for (const id of ids) {
    const f = shardLocation(spec, id).filename;
    if (!byFile.has(f)) byFile.set(f, []);
    byFile.get(f)!.push([id, payload(id)]);
  }
  const sizes = new Map<string, number>();
  for (const [f, entries] of byFile) {
    const built = await encodeShard(spec, entries, { gzip: gzipCodec });
    await store.put(`s/${f}`, built.data);
    sizes.set(f, built.data.byteLength);
  }
  const gets: Array<{ key: string; range?: GetOptions["range"] }> = [];
  const get = store.get.bind(store);
  store.get = (key: string, opts?: GetOptions) => {
    gets.push({ key, range: opts?.range });
    return get(key, opts);
  };
  return { store, gets, sizes };
}

describe("ShardedStore queries", () => {
  it("has() answers from the shard and minishard indices without reading chunk data", async () => {
    const ids = [0n, 1n, 2n, 5n, 9n, 12n, 31n];
    const { store, gets } = await build(ids);
    const sharded = new ShardedStore(store, spec, { prefix: "s", gzip: gzipCodec });
    const asked = [0n, 1n, 2n, 3n, 4n, 5n, 9n, 12n, 13n, 31n, 64n];
    expect([...(await sharded.has(asked))].sort()).toEqual([...ids].sort());
    const data = await sharded.getMany(ids);
    const dataReads = gets.length;
    expect(dataReads).toBeGreaterThan(0);
    gets.length = 0;
    sharded.invalidate();
    await sharded.has(asked);
    const indexOnly = gets.length;
    gets.length = 0;
    sharded.invalidate();
    await sharded.getMany(asked);
    expect(gets.length).toBeGreaterThan(indexOnly); // getMany reads the data ranges on top of the same index reads
    expect(data.size).toBe(ids.length);
  });

  it("getMany({ raw: true }) returns the data as stored (gzip kept), otherwise decoded", async () => {
    const ids = [3n, 4n, 8n];
    const { store } = await build(ids);
    const sharded = new ShardedStore(store, spec, { prefix: "s", gzip: gzipCodec });
    const raw = await sharded.getMany(ids, { raw: true });
    const decoded = await sharded.getMany(ids);
    for (const id of ids) {
      expect(decoded.get(id)).toEqual(payload(id));
      expect(new Uint8Array(gunzipSync(raw.get(id)!))).toEqual(payload(id));
      expect(raw.get(id)).not.toEqual(payload(id));
    }
  });
});
