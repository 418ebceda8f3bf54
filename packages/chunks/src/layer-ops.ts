import { Bbox, CloudVolumeError, chunksInRegion, forEachConcurrent, formatUrl, type BboxLike, type LayerInfo, type Vec3 } from "@cloudvolume/core";
import type { TransferOptions, TransferStats } from "./options.js";
import type { MemoryCutoutOptions, TransferToOptions } from "./operations.js";
import { sameGridAs } from "./transfer.js";
import { ChunkedVolume, unsupported } from "./volume.js";

/*
 * Operations on whole layers (after CloudVolume's transfer_to, memory_cutout, lock_mips):
 * transfers with re-encoding and blocks, disposable in-memory copies, write locks.
 */


/** Set a scale's encoding (CloudVolume's meta.encoding setter), checking the codec can encode; commits when it changed. */
async function setEncoding(dst: ChunkedVolume, mip: number, encoding: string): Promise<void> {
  const scale = dst.info.scales[mip];
  if (!scale) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist in ${dst.url}`, { url: dst.url, mip });
  if (scale.encoding === encoding) return;
  const codec = await dst.ctx.codec(encoding);
  if (!codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${codec.name} can decode but not encode`, { url: dst.url, mip });
  const before = structuredClone(scale);
  scale.encoding = encoding;
  if (encoding === "compressed_segmentation") scale.compressed_segmentation_block_size ??= [8, 8, 8];
  else delete scale.compressed_segmentation_block_size;
  try {
    await dst.commitInfo();
  } catch (e) {
    dst.info.scales[mip] = before;
    throw e;
  }
}

/**
 * transferTo with CloudVolume's transfer_to options: `encoding` re-encodes into the
 * destination (its scale's encoding is set and committed first), `compress` sets the
 * destination's transfer compression for this transfer, `blockSize` the unit of work
 * when the chunk grids differ. Refused (READ_ONLY) when the destination scale is locked.
 */
export async function transferWith(src: ChunkedVolume, dst: ChunkedVolume, opts: TransferToOptions = {}): Promise<TransferStats> {
  const { encoding, compress, blockSize, ...rest } = opts;
  const mip = src.mipIndex(opts.mip);
  dst.assertWritable(`mip ${mip}`);
  if (dst.info.scales[mip]?.locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} of ${dst.url} is locked; unlock the scale before writing`, { url: dst.url, mip });
  if (encoding !== undefined) await setEncoding(dst, mip, encoding);
  const saved = dst.options.compress;
  if (compress !== undefined) dst.options.compress = compress;
  try {
    if (blockSize !== undefined) {
      if (rest.sharded !== undefined) await dst.setSharding(mip, rest.sharded);
      if (dst.info.scales.length > mip && !dst.isSharded(mip) && !sameGridAs(src, dst, mip)) return await transferBlocks(src, dst, mip, blockSize, rest);
    }
    return await src.transferTo(dst, { ...rest, mip });
  } finally {
    dst.options.compress = saved;
  }
}

/** Grid-changing transfer in blocks of whole destination chunks: one download and one upload per block. */
async function transferBlocks(src: ChunkedVolume, dst: ChunkedVolume, mip: number, blockSize: number | Vec3, opts: TransferOptions): Promise<TransferStats> {
  const dcs = dst.chunkSize(mip);
  const shape = typeof blockSize === "number" ? [blockSize, blockSize, blockSize] : blockSize;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `blockSize must be a positive integer (chunks per axis) or a voxel shape [x, y, z], got ${JSON.stringify(blockSize)}`, { url: dst.url });
  }
  const block: Vec3 = typeof blockSize === "number"
    ? [blockSize * dcs[0], blockSize * dcs[1], blockSize * dcs[2]]
    : [Math.ceil(shape[0] / dcs[0]) * dcs[0], Math.ceil(shape[1] / dcs[1]) * dcs[1], Math.ceil(shape[2] / dcs[2]) * dcs[2]];
  const bounds = src.bounds(mip);
  const region = opts.bbox ? Bbox.from(opts.bbox).clamp(bounds) : bounds;
  const dstBounds = dst.bounds(mip);
  const dstRegion = region.clamp(dstBounds);
  if (!dstRegion.isEmpty() && !dstRegion.isAlignedTo(dcs, dst.voxelOffset(mip), dstBounds)) {
    throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunks of the destination's ${dcs.join("x")} grid; align the region to it`, { url: dst.url, mip });
  }
  const stats: TransferStats = { chunks: 0, copied: 0, recoded: 0 };
  const blocks = [...chunksInRegion(dstRegion, block, dst.voxelOffset(mip), dstBounds)].map((b) => b.intersection(dstRegion)).filter((b) => !b.isEmpty());
  await forEachConcurrent(blocks, 2, async (b) => {
    const cut = await src.download(b, { mip, signal: opts.signal, fillMissing: true });
    await dst.upload(b, cut, { mip, signal: opts.signal });
    let n = 0;
    for (const _c of chunksInRegion(b, dcs, dst.voxelOffset(mip), dstBounds)) n++;
    stats.chunks += n;
    stats.recoded += n;
    for (let i = 0; i < n; i++) opts.onChunk?.();
  }, opts.signal);
  return stats;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A disposable mem:// layer of the same format holding the chunks of `bbox` (expanded to the chunk grid),
 * unsharded, in `encoding` if given (CloudVolume's memory_cutout). Its info is the
 * source's (every scale, so mips keep their numbers; no redirect, no locks); it reads
 * with the source's fillMissing and background. Needs the mem:// storage plugin in the
 * source's Context. Remove its objects with deleteLayer when done.
 */
export async function memoryCutout(vol: ChunkedVolume, bboxLike: BboxLike, opts: MemoryCutoutOptions = {}): Promise<ChunkedVolume> {
  const mip = vol.mipIndex(opts.mip);
  const bbox = vol.requestBox(bboxLike, mip);
  const realized = bbox.expandToChunkSize(vol.chunkSize(mip), vol.voxelOffset(mip)).clamp(vol.bounds(mip));
  const info = structuredClone(vol.info) as LayerInfo;
  delete info.redirect;
  for (const s of info.scales) delete s.locked;
  delete info.scales[mip].sharding;
  const dst = await ChunkedVolume.open(vol.ctx, formatUrl(vol.format, `mem://cutout-${randomId()}`), {
    info, mip, compress: opts.compress, fillMissing: vol.options.fillMissing, backgroundColor: vol.options.backgroundColor,
    bounded: vol.options.bounded, autocrop: vol.options.autocrop,
  });
  try {
    await dst.commitInfo();
    if (!realized.isEmpty()) await transferWith(vol, dst, { mip, bbox: realized, encoding: opts.encoding, signal: opts.signal });
  } catch (e) {
    await deleteLayer(dst).catch(() => {});
    throw e;
  }
  return dst;
}

/** Delete every object of a layer (CloudVolume's cleanup of a memory cutout). */
export async function deleteLayer(vol: ChunkedVolume): Promise<void> {
  vol.assertWritable("the layer");
  const list = vol.store.list;
  if (!list) throw new CloudVolumeError("UNAVAILABLE", `storage ${vol.store.url} cannot list`, { url: vol.url });
  const keys: string[] = [];
  for await (const k of list.call(vol.store, "")) keys.push(k);
  await forEachConcurrent(keys, 16, (k) => vol.store.delete!(k));
}

// ---- locks ----------------------------------------------------------------------------

/**
 * Set or clear the write lock of scales (CloudVolume's meta.lock_mips / unlock_mips):
 * the info is re-read from storage, `locked` set to true or false on each mip, and the
 * info committed. Locked scales refuse upload, delete and being a transfer destination.
 */
export async function setMipLocks(vol: ChunkedVolume, mips: number | readonly number[], locked: boolean): Promise<void> {
  const list = typeof mips === "number" ? [mips] : [...mips];
  const n = vol.info.scales.length;
  for (const m of list) {
    if (!Number.isInteger(m) || m < 0 || m >= n) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `cannot ${locked ? "lock" : "unlock"} mip ${m}: this layer has mips 0..${n - 1}`, { url: vol.url });
    }
  }
  vol.assertWritable("info");
  if (!vol.layer.capabilities.locks) throw unsupported(vol, "write-locking mips (lockMips / unlockMips)");
  await vol.refreshInfo();
  for (const m of list) {
    if (!vol.info.scales[m]) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${m} no longer exists in the stored info of ${vol.url}`, { url: vol.url, mip: m });
    vol.info.scales[m].locked = locked;
  }
  await vol.commitInfo();
}
