import {
  Bbox, CloudVolumeError, bytesOf, chunksInRegion, forEachConcurrent, isUniform as isUniformVoxels, mapConcurrent, scalarBytes, vequal,
  type ChunkPipeline, type ShardedChunks,
} from "@cloudvolume/core";
import type { TransferOptions, TransferStats } from "./options.js";
import { shardBatches } from "./paint.js";
import { encodeOrFail, type ChunkedVolume } from "./volume.js";
import { wholeShards } from "./write.js";

/*
 * transferTo: one mip of a layer copied into another, of the same format or not, chunk by
 * chunk (never the whole volume). Stored bytes are copied untouched where both chunk
 * pipelines have the same signature; otherwise each chunk is decoded and re-encoded.
 */

/** Same chunk bytes mean the same voxels in both layers. */
function interchangeable(a: ChunkPipeline, b: ChunkPipeline): boolean {
  return a.signature === b.signature && a.edgeChunks === b.edgeChunks;
}

export function sameGridAs(src: ChunkedVolume, dst: ChunkedVolume, mip: number): boolean {
  const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => v === b[i]);
  return dst.info.scales.length > mip && same(dst.chunkSize(mip), src.chunkSize(mip)) &&
    same(dst.voxelOffset(mip), src.voxelOffset(mip)) && same(dst.scale(mip).size, src.scale(mip).size) && dst.dtype === src.dtype &&
    dst.numChannels === src.numChannels;
}

export async function transferTo(src: ChunkedVolume, dst: ChunkedVolume, opts: TransferOptions = {}): Promise<TransferStats> {
  const mip = src.mipIndex(opts.mip);
  const signal = opts.signal;
  dst.assertWritable(`mip ${mip}`);
  if (dst.info.scales[mip]?.locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} of ${dst.url} is locked; unlock the scale before writing`, { url: dst.url, mip });
  if (opts.sharded !== undefined) await dst.setSharding(mip, opts.sharded);
  const bounds = src.bounds(mip);
  const region = opts.bbox ? Bbox.from(opts.bbox).clamp(bounds) : bounds;
  const sameGrid = sameGridAs(src, dst, mip);
  const stats = { chunks: 0, copied: 0, recoded: 0 };
  if (dst.info.scales.length > mip && dst.isSharded(mip)) return transferToSharded(src, dst, mip, region, sameGrid, opts, stats);
  if (!sameGrid) {
    // Destination chunks are the unit of work: read the matching region, write it.
    const dstBounds = dst.bounds(mip);
    // Whole destination chunks are written: a region that cuts them would overwrite voxels outside it.
    const dstRegion = region.clamp(dstBounds);
    if (!dstRegion.isEmpty() && !dstRegion.isAlignedTo(dst.chunkSize(mip), dst.voxelOffset(mip), dstBounds)) {
      throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunks of the destination's ${dst.chunkSize(mip).join("x")} grid; align the region to it`, { url: dst.url, mip });
    }
    await forEachConcurrent(chunksInRegion(region, dst.chunkSize(mip), dst.voxelOffset(mip), dstBounds), src.concurrency, async (chunk) => {
      const cut = await src.download(chunk, { mip, signal, fillMissing: true });
      await dst.upload(chunk, cut, { mip, signal });
      stats.chunks++; stats.recoded++;
      opts.onChunk?.();
    }, signal);
    return stats;
  }
  if (src.isSharded(mip)) return transferFromSharded(src, dst, mip, region, opts, stats);
  const sp = await src.pipeline(mip);
  const dp = await dst.writer(mip);
  const dstCompression = dst.writeCompression(mip);
  const byteCodec = await dst.ctx.compression(dstCompression);
  const cacheControl = dst.cacheControl();
  const bgPattern = scalarBytes(dst.dtype, dst.background(mip));
  const sameEncoding = interchangeable(sp, dp);
  await forEachConcurrent(chunksInRegion(region, src.chunkSize(mip), src.voxelOffset(mip), bounds), src.concurrency * 2, async (chunk) => {
    const key = src.chunkKey(chunk, mip);
    const dstKey = dst.chunkKey(chunk, mip);
    const partial = !chunk.intersection(region).equals(chunk);
    if (partial) throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunk ${key}; align the region to the chunk grid`, { url: src.url, key, mip });
    const obj = await src.fetch(key, signal);
    stats.chunks++;
    if (!obj) return;
    const enc = obj.contentEncoding && obj.contentEncoding !== "identity" ? obj.contentEncoding : undefined;
    if (sameEncoding && enc === dstCompression && !dst.options.deleteBlackUploads) {
      await dst.putBytes(dstKey, obj.data, enc, cacheControl, signal);
      stats.copied++;
    } else {
      const voxels = await src.readChunk(key, chunk, mip, sp, signal);
      if (!voxels) return;
      await dst.writeChunk(dstKey, chunk, mip, voxels, dp, byteCodec, cacheControl, bgPattern, signal);
      src.pool.release(voxels);
      stats.recoded++;
    }
    opts.onChunk?.();
  }, signal);
  return stats;
}

/**
 * transferTo a sharded destination mip: the destination's shards are the unit of work,
 * so the region must cover them whole. Each shard is assembled from the source's chunks
 * (stored bytes reused when the pipelines agree, else decoded and re-encoded; a missing
 * source chunk stays missing) and written with one put. Two sharded mips with the same
 * grid, shard signature and pipeline copy whole shard files untouched, as CloudVolume's
 * transfer_sharded_to_sharded does.
 */
async function transferToSharded(
  src: ChunkedVolume, dst: ChunkedVolume, mip: number, region: Bbox, sameGrid: boolean, opts: TransferOptions, stats: TransferStats,
): Promise<TransferStats> {
  const signal = opts.signal;
  const dsh = dst.shards(mip);
  const shards = wholeShards(dst, dsh, region.clamp(dst.bounds(mip)), mip, "transfer region");
  const srcSharded: ShardedChunks | undefined = sameGrid && src.isSharded(mip) ? src.shards(mip) : undefined;
  const sp = await src.pipeline(mip);
  const dp = await dst.pipeline(mip);
  const sameEncoding = sameGrid && interchangeable(sp, dp);
  const cacheControl = dst.cacheControl();
  if (srcSharded && sameEncoding && !dst.options.deleteBlackUploads && srcSharded.signature === dsh.signature) {
    // Same chunk ids in the same shard files: copy the files as stored.
    await forEachConcurrent(shards, src.concurrency, async (shard) => {
      const bytes = await src.fetchRaw(srcSharded.keyOf(shard.shard), signal);
      stats.chunks += shard.chunks.length;
      if (bytes === undefined) await dsh.deleteShard(shard.shard, signal);
      else {
        await dsh.putShard(shard.shard, bytes, { cacheControl, signal });
        stats.copied += shard.chunks.length;
      }
      for (let i = 0; i < shard.chunks.length; i++) opts.onChunk?.(); // progress counts chunks, as elsewhere
    }, signal);
    return stats;
  }
  const writer = await dst.writer(mip);
  const bgPattern = scalarBytes(dst.dtype, dst.background(mip));
  const full = src.chunkSize(mip);
  await forEachConcurrent(shards, 2, async (shard) => {
    const ids = shard.chunks.map((c) => dsh.locate(c).id);
    // Same grid => same chunk boxes: a sharded source is read in one batch per shard.
    const srcIds = srcSharded ? shard.chunks.map((c) => srcSharded.locate(c).id) : undefined;
    const fromShards = srcSharded ? await srcSharded.getMany(srcIds!, { signal }) : undefined;
    const payloads = await mapConcurrent(shard.chunks, src.concurrency, async (chunk, i): Promise<Uint8Array | undefined> => {
      stats.chunks++;
      let voxels: Uint8Array;
      if (sameGrid) {
        const key = fromShards ? `${srcSharded!.keyOf(srcSharded!.locate(chunk).shard)} (chunk ${srcIds![i]})` : src.chunkKey(chunk, mip);
        const stored = fromShards ? fromShards.get(srcIds![i]) : await src.fetchPayload(key, chunk, mip, sp.codec, signal);
        if (stored === undefined) return undefined; // missing stays missing
        // Edge chunks are re-encoded so a padded source chunk is written in the destination's form.
        if (sameEncoding && !dst.options.deleteBlackUploads && vequal(chunk.size(), full)) {
          stats.copied++;
          return stored;
        }
        voxels = await src.decodeChunk(stored, chunk, mip, sp.codec, key, undefined, fromShards ? src.edgeForm(sp) : sp.edgeChunks, sp.params);
      } else {
        voxels = bytesOf((await src.download(chunk, { mip, signal, fillMissing: true })).data);
      }
      try {
        if (dst.options.deleteBlackUploads && isUniformVoxels(voxels, bgPattern)) return undefined;
        const encoded = await dst.encodeChunk(voxels, chunk, mip, writer, `${dsh.keyOf(shard.shard)} (chunk ${chunk})`);
        stats.recoded++;
        // Kept until the shard is built, after `voxels` goes back to the pool: raw hands back its input.
        return encoded.buffer === voxels.buffer ? encoded.slice() : encoded;
      } finally {
        src.pool.release(voxels);
        opts.onChunk?.();
      }
    }, signal);
    const entries: Array<[bigint, Uint8Array]> = [];
    payloads.forEach((payload, i) => { if (payload) entries.push([ids[i], payload]); });
    await dsh.writeShard(shard.shard, entries, { cacheControl, signal });
  }, signal);
  return stats;
}

/**
 * transferTo from a sharded mip to an unsharded one on the same grid: chunks are read in
 * batches per source shard and written one object each, stored bytes reused (with the
 * destination's transfer compression) when the pipelines agree.
 */
async function transferFromSharded(src: ChunkedVolume, dst: ChunkedVolume, mip: number, region: Bbox, opts: TransferOptions, stats: TransferStats): Promise<TransferStats> {
  const signal = opts.signal;
  const sh = src.shards(mip);
  const chunks = [...chunksInRegion(region, src.chunkSize(mip), src.voxelOffset(mip), src.bounds(mip))];
  for (const chunk of chunks) {
    if (!chunk.intersection(region).equals(chunk)) {
      throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunk ${chunk}; align the region to the chunk grid`, { url: src.url, mip });
    }
  }
  const sp = await src.pipeline(mip);
  const dp = await dst.writer(mip);
  const byteCodec = await dst.ctx.compression(dst.writeCompression(mip));
  const cacheControl = dst.cacheControl();
  const bgPattern = scalarBytes(dst.dtype, dst.background(mip));
  const sameEncoding = interchangeable(sp, dp);
  const full = src.chunkSize(mip);
  await forEachConcurrent(shardBatches(sh, chunks), src.concurrency, async (batch) => {
    const found = await sh.getMany(batch.map((c) => c.id), { signal });
    await mapConcurrent(batch, src.concurrency, async ({ chunk, id, shard }) => {
      stats.chunks++;
      const stored = found.get(id);
      if (stored === undefined) return;
      const dstKey = dst.chunkKey(chunk, mip);
      if (sameEncoding && !dst.options.deleteBlackUploads && vequal(chunk.size(), full)) {
        const payload = byteCodec ? await encodeOrFail(() => byteCodec.encode(stored, { level: dst.options.compressLevel }), dstKey, dst.url, `${byteCodec.name} stream`) : stored;
        await dst.putBytes(dstKey, payload, byteCodec?.name, cacheControl, signal);
        stats.copied++;
      } else {
        const voxels = await src.decodeChunk(stored, chunk, mip, sp.codec, `${sh.keyOf(shard)} (chunk ${id})`, undefined, src.edgeForm(sp), sp.params);
        await dst.writeChunk(dstKey, chunk, mip, voxels, dp, byteCodec, cacheControl, bgPattern, signal);
        src.pool.release(voxels);
        stats.recoded++;
      }
      opts.onChunk?.();
    }, signal);
  }, signal);
  return stats;
}
