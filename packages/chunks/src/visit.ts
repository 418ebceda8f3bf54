import { CloudVolumeError, forEachConcurrent, mapConcurrent, throwIfAborted, type Bbox, type ChunkPipeline } from "@cloudvolume/core";
import { shardBatches } from "./paint.js";
import type { ChunkedVolume } from "./volume.js";

/*
 * Chunk access for the volume operations (operations.ts): each chunk's stored payload
 * without painting, existence from listings or shard indices, deletes. Sharded mips go
 * through their shard adapter in batches per shard, others one object per chunk.
 */

/**
 * Visit `chunks` (boxes of `mip`'s grid, truncated at the bounds) with each one's stored
 * payload, or undefined when it is missing. The payload is the array-encoded bytes with
 * transfer compression removed; with `decompress: false` it is the bytes as stored
 * (transfer compression, or a shard's data encoding such as gzip, kept). `fn` may run
 * concurrently.
 */
export async function visitChunks(
  vol: ChunkedVolume, chunks: readonly Bbox[], mip: number,
  fn: (chunk: Bbox, payload: Uint8Array | undefined, key: string) => Promise<void> | void,
  opts: { signal?: AbortSignal; decompress?: boolean } = {},
): Promise<void> {
  const signal = opts.signal;
  const decompress = opts.decompress ?? true;
  if (vol.isSharded(mip)) {
    const sh = vol.shards(mip);
    await mapConcurrent(shardBatches(sh, chunks), vol.concurrency, async (batch) => {
      const found = await sh.getMany(batch.map((c) => c.id), { signal, raw: !decompress });
      for (const { chunk, id, shard } of batch) await fn(chunk, found.get(id), `${sh.keyOf(shard)} (chunk ${id})`);
    }, signal);
    return;
  }
  const codec = decompress ? (await vol.pipeline(mip)).codec : undefined;
  await mapConcurrent(chunks, vol.concurrency * 2, async (chunk) => {
    const key = vol.chunkKey(chunk, mip);
    const payload = decompress ? await vol.fetchPayload(key, chunk, mip, codec, signal) : (await vol.fetch(key, signal))?.data;
    await fn(chunk, payload, key);
  }, signal);
}

/** Decode a visitChunks payload into `chunk`'s voxels (a pooled buffer: hand it back with vol.pool.release). */
export function decodePayload(vol: ChunkedVolume, payload: Uint8Array, chunk: Bbox, mip: number, p: ChunkPipeline, key: string): Promise<Uint8Array> {
  return vol.decodeChunk(payload, chunk, mip, p.codec, key, undefined, vol.edgeForm(p), p.params);
}

/** Which of `chunks` are stored, without reading their data (a sharded mip answers from its indices). */
export async function chunksExist(vol: ChunkedVolume, chunks: readonly Bbox[], mip: number, signal?: AbortSignal): Promise<boolean[]> {
  if (vol.isSharded(mip)) {
    const sh = vol.shards(mip);
    const ids = chunks.map((c) => sh.locate(c).id);
    const found = await sh.has(ids, { signal });
    return ids.map((id) => found.has(id));
  }
  const store = vol.store;
  return mapConcurrent(chunks, vol.concurrency, (chunk) => {
    const key = vol.chunkKey(chunk, mip);
    return vol.request(async () => {
      throwIfAborted(signal);
      if (store.exists) return store.exists(key);
      return (store.getObject ? await store.getObject(key, { signal }) : await store.get(key, { signal })) !== undefined;
    }, signal);
  }, signal);
}

/**
 * Delete stored objects: chunk objects of an unsharded mip (every transfer-compression
 * variant, as the stores do), or whole shards (`shards`, names as the adapter gives them)
 * of a sharded one.
 */
export async function deleteObjects(vol: ChunkedVolume, mip: number, what: { keys?: readonly string[]; shards?: readonly string[] }, signal?: AbortSignal): Promise<void> {
  vol.assertWritable(`mip ${mip}`);
  const store = vol.store;
  const del = store.delete;
  if (!del) throw new CloudVolumeError("READ_ONLY", `storage ${store.url} cannot delete`, { url: vol.url, mip });
  await forEachConcurrent(what.keys ?? [], vol.concurrency, (key) => vol.request(() => del.call(store, key), signal), signal);
  if (what.shards?.length) {
    const sh = vol.shards(mip);
    await forEachConcurrent(what.shards, vol.concurrency, (shard) => sh.deleteShard(shard, signal), signal);
  }
}
