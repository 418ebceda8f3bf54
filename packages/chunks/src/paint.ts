import {
  CloudVolumeError, bytesOf, chunksInRegion, copyBox, dtypeInfo, formatUrl, mapConcurrent,
  type Bbox, type ShardedChunks, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import type { IoOptions } from "./options.js";
import { splitJobs, type ChunkPainter } from "./parallel.js";
import type { ChunkedVolume } from "./volume.js";

/*
 * The read hot path: fetch every chunk of a region, decode it into a pooled buffer and
 * paint its overlap into the one output allocated by download (core's copyBox: flat
 * loops of word-sized copies). Nothing here knows a format: chunk keys, codecs and shard
 * lookups come from the layer.
 */

/** Chunks per getMany batch when reading a sharded region: bounds the compressed bytes held at once. */
const SHARD_READ_BATCH = 512;

/** A chunk of a sharded mip: its box, its id and the shard that holds it. */
export interface ShardedChunk {
  chunk: Bbox;
  id: bigint;
  shard: string;
}

/** Chunks grouped by shard, in batches of at most SHARD_READ_BATCH, each chunk with its id. */
export function shardBatches(sh: ShardedChunks, chunks: readonly Bbox[]): ShardedChunk[][] {
  const byShard = new Map<string, ShardedChunk[]>();
  for (const chunk of chunks) {
    const { shard, id } = sh.locate(chunk);
    let list = byShard.get(shard);
    if (!list) byShard.set(shard, (list = []));
    list.push({ chunk, id, shard });
  }
  const out: ShardedChunk[][] = [];
  for (const list of byShard.values()) for (let i = 0; i < list.length; i += SHARD_READ_BATCH) out.push(list.slice(i, i + SHARD_READ_BATCH));
  return out;
}

/** Paint a chunk's voxels (covering `chunk`) into `out` (covering `bbox`) where they overlap. */
function paintOverlap(out: VolumeArray, dst: Uint8Array, bbox: Bbox, chunk: Bbox, voxels: Uint8Array, bpv: number): void {
  const overlap = chunk.intersection(bbox);
  copyBox({
    src: voxels, srcShape: chunk.size(), srcOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]],
    dst, dstShape: [out.shape[0], out.shape[1], out.shape[2]] as Vec3, dstOrigin: [overlap.min[0] - bbox.min[0], overlap.min[1] - bbox.min[1], overlap.min[2] - bbox.min[2]],
    size: overlap.size(), bytesPerVoxel: bpv, channels: out.shape[3],
  });
}

/** Fetch every chunk overlapping `bbox` (or just `only`) and paint it into `out` (which covers `bbox`). */
export async function paintRegion(
  vol: ChunkedVolume, out: VolumeArray, bbox: Bbox, mip: number, fillMissing: boolean, signal?: AbortSignal, only?: Bbox[], onChunk?: () => void,
): Promise<void> {
  const chunks = only ?? [...chunksInRegion(bbox, vol.chunkSize(mip), vol.voxelOffset(mip), vol.bounds(mip))];
  if (chunks.length === 0) return;
  if (vol.isSharded(mip)) return paintSharded(vol, out, bbox, mip, fillMissing, chunks, signal, onChunk);
  const p = await vol.pipeline(mip);
  const dst = bytesOf(out.data);
  const bpv = dtypeInfo(vol.dtype).bytes;
  await mapConcurrent(chunks, vol.concurrency * 2, async (chunk) => {
    const key = vol.chunkKey(chunk, mip);
    const voxels = await vol.readChunk(key, chunk, mip, p, signal);
    if (voxels === undefined) {
      if (!fillMissing) {
        throw new CloudVolumeError("NOT_FOUND", `chunk ${key} is missing from ${vol.url}; pass fillMissing: true to read it as background`, { url: vol.url, key, mip, bbox: chunk.toString() });
      }
      onChunk?.();
      return; // the output was filled with the background when allocated
    }
    paintOverlap(out, dst, bbox, chunk, voxels, bpv);
    vol.pool.release(voxels);
    onChunk?.();
  }, signal);
}

/**
 * paintRegion for a sharded mip: chunks are looked up by id through the mip's shard
 * adapter, one batch per shard, so each shard's index is read once and adjacent chunks
 * come back in one ranged read.
 */
async function paintSharded(
  vol: ChunkedVolume, out: VolumeArray, bbox: Bbox, mip: number, fillMissing: boolean, chunks: Bbox[], signal?: AbortSignal, onChunk?: () => void,
): Promise<void> {
  const sh = vol.shards(mip);
  const batches = shardBatches(sh, chunks);
  const p = await vol.pipeline(mip);
  const edges = vol.edgeForm(p);
  const dst = bytesOf(out.data);
  const bpv = dtypeInfo(vol.dtype).bytes;
  await mapConcurrent(batches, vol.concurrency, async (batch) => {
    // Chunks held by the LRU are not fetched (cache/chunk-lru.ts).
    const held = vol.lru.enabled ? new Map(batch.map((c) => [c.id, vol.lru.lookup(vol.chunkKey(c.chunk, mip))] as const)) : undefined;
    const found = await sh.getMany(batch.filter((c) => held?.get(c.id) === undefined).map((c) => c.id), { signal });
    for (const { chunk, id, shard } of batch) {
      const payload = found.get(id);
      const key = sh.keyOf(shard);
      if (payload === undefined && held?.get(id) === undefined) {
        if (!fillMissing) {
          throw new CloudVolumeError("NOT_FOUND", `chunk ${chunk} (id ${id}) is missing from shard file ${key} of ${vol.url}; pass fillMissing: true to read it as background`, { url: vol.url, key, mip, bbox: chunk.toString() });
        }
        onChunk?.();
        continue;
      }
      const voxels = held
        ? (await vol.lruRead(vol.chunkKey(chunk, mip), chunk, mip, p, `${key} (chunk ${id})`, async () => payload, undefined, held.get(id)))!
        : await vol.decodeChunk(payload!, chunk, mip, p.codec, `${key} (chunk ${id})`, undefined, edges, p.params);
      paintOverlap(out, dst, bbox, chunk, voxels, bpv);
      vol.pool.release(voxels);
      onChunk?.();
    }
  }, signal);
}

/**
 * paintRegion on other threads: the chunks go out in jobs (grouped by shard on a sharded
 * mip), each painted by a worker straight into the shared output.
 */
export async function paintInParallel(
  vol: ChunkedVolume, painter: ChunkPainter, out: VolumeArray, bbox: Bbox, mip: number, chunks: Bbox[], fillMissing: boolean, io: IoOptions,
): Promise<void> {
  const groups = vol.isSharded(mip) ? shardBatches(vol.shards(mip), chunks).map((b) => b.map((c) => c.chunk)) : [chunks];
  const { info: _i, signal: _s, lruBytes: _l, cacheFactory: _f, ...rest } = vol.options;
  const options: Record<string, unknown> = {};
  // Only what a structured clone carries (no callbacks, no signals) goes to the workers.
  for (const [k, v] of Object.entries(rest)) if (v === null || ["string", "number", "boolean", "bigint"].includes(typeof v)) options[k] = v;
  const base = {
    url: workerUrl(vol), info: JSON.stringify(vol.info), options, mip, dtype: vol.dtype,
    out: out.data.buffer as SharedArrayBuffer, outByteOffset: out.data.byteOffset, shape: out.shape,
    bbox: [...bbox.min, ...bbox.max], fillMissing,
  };
  const jobs = splitJobs(groups, painter.threads);
  // Two jobs per thread in flight, so a worker has the next job queued when it finishes one.
  await mapConcurrent(jobs, painter.threads * 2, (job) => painter.paint({ ...base, chunks: job }, { signal: io.signal, onChunk: io.onChunk }), io.signal);
}

/** The cloudpath a worker opens the layer at: the format prefix and where redirects led. */
export function workerUrl(vol: ChunkedVolume): string {
  return formatUrl(vol.format, vol.parsed.storageUrl);
}
