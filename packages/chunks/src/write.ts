import {
  Bbox, CloudVolumeError, bytesOf, chunksInRegion, copyBox, dtypeInfo, fillPattern, isUniform, mapConcurrent, scalarBytes,
  type BboxLike, type ShardRef, type ShardedChunks, type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import type { IoOptions } from "./options.js";
import type { ChunkedVolume } from "./volume.js";

/*
 * The write path: split the input into chunks of the grid, encode, compress and put each
 * one (the store makes each put atomic). Chunks cut by the box are read back, painted and
 * rewritten when nonAlignedWrites allows; a sharded mip is written whole shards at a time.
 */

/** Check and describe upload input: a typed array of the layer's dtype covering `bbox`, or { data, shape }. */
export function asInput(vol: ChunkedVolume, data: VolumeArray | TypedArray, bbox: Bbox): VolumeArray {
  const size = bbox.size();
  const channels = vol.numChannels;
  const expected = dtypeInfo(vol.dtype);
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof expected.ctor)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `upload data is ${data.constructor.name} but the layer's data_type is ${vol.dtype}`, { url: vol.url });
    }
    const n = size[0] * size[1] * size[2] * channels;
    if (data.length !== n) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `upload data has ${data.length} values but ${bbox} with ${channels} channel(s) needs ${n}`, { url: vol.url, bbox: bbox.toString() });
    }
    return { data: data as TypedArray, shape: [size[0], size[1], size[2], channels], stride: [1, size[0], size[0] * size[1], size[0] * size[1] * size[2]], dtype: vol.dtype };
  }
  const a = data as VolumeArray;
  if (!a || !ArrayBuffer.isView(a.data) || !Array.isArray(a.shape)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", "upload data must be a typed array or { data, shape }", { url: vol.url });
  }
  if (!(a.data instanceof expected.ctor)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `upload data is ${a.data.constructor.name} but the layer's data_type is ${vol.dtype}`, { url: vol.url });
  }
  const shape = [a.shape[0], a.shape[1], a.shape[2], a.shape[3] ?? 1];
  if (shape[0] !== size[0] || shape[1] !== size[1] || shape[2] !== size[2] || shape[3] !== channels) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `upload data shape ${shape.join("x")} does not match ${bbox} (${size.join("x")}x${channels})`, { url: vol.url, bbox: bbox.toString() });
  }
  if (a.data.length !== shape[0] * shape[1] * shape[2] * shape[3]) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `upload data has ${a.data.length} values, shape ${shape.join("x")} needs ${shape[0] * shape[1] * shape[2] * shape[3]}`, { url: vol.url });
  }
  return { data: a.data, shape: shape as [number, number, number, number], stride: [1, shape[0], shape[0] * shape[1], shape[0] * shape[1] * shape[2]], dtype: vol.dtype };
}

/** A write off the chunk grid is an ALIGNMENT error unless nonAlignedWrites (sharded or not). */
export function checkChunkAlignment(vol: ChunkedVolume, bbox: Bbox, mip: number): void {
  const chunkSize = vol.chunkSize(mip);
  const offset = vol.voxelOffset(mip);
  const bounds = vol.bounds(mip);
  if (bbox.isAlignedTo(chunkSize, offset, bounds) || vol.options.nonAlignedWrites) return;
  const expanded = bbox.expandToChunkSize(chunkSize, offset).clamp(bounds);
  const shrunk = bbox.shrinkToChunkSize(chunkSize, offset);
  throw new CloudVolumeError(
    "ALIGNMENT",
    `write ${bbox} is not aligned to the ${chunkSize.join("x")} chunk grid at offset ${offset.join(",")} (mip ${mip}); ` +
      `align it (e.g. ${expanded} or ${shrunk}) or pass nonAlignedWrites: true`,
    { url: vol.url, mip, bbox: bbox.toString() },
  );
}

export async function upload(vol: ChunkedVolume, bboxLike: BboxLike, data: VolumeArray | TypedArray, io: IoOptions = {}): Promise<void> {
  const mip = vol.mipIndex(io.mip);
  vol.assertMipWritable(mip);
  let bbox = Bbox.from(bboxLike);
  const src = asInput(vol, data, bbox);
  const bounds = vol.bounds(mip);
  let srcOffset: Vec3 = [0, 0, 0];
  if (!bounds.containsBbox(bbox)) {
    if (vol.options.bounded && !vol.options.autocrop) {
      throw new CloudVolumeError("OUT_OF_BOUNDS", `write ${bbox} is outside the bounds ${bounds} at mip ${mip}; pass autocrop: true to write only the part inside`, { url: vol.url, mip, bbox: bbox.toString() });
    }
    const cropped = bbox.clamp(bounds);
    if (cropped.isEmpty()) return;
    srcOffset = [cropped.min[0] - bbox.min[0], cropped.min[1] - bbox.min[1], cropped.min[2] - bbox.min[2]];
    bbox = cropped;
  }
  if (vol.isSharded(mip)) return uploadSharded(vol, bbox, src, srcOffset, mip, io.signal, io.onChunk, io.fillMissing);
  const chunkSize = vol.chunkSize(mip);
  const offset = vol.voxelOffset(mip);
  checkChunkAlignment(vol, bbox, mip);
  const p = await vol.writer(mip);
  const byteCodec = await vol.ctx.compression(vol.writeCompression(mip));
  const cacheControl = vol.cacheControl();
  const bpv = dtypeInfo(vol.dtype).bytes;
  const channels = vol.numChannels;
  const srcBytes = bytesOf(src.data);
  const srcShape: Vec3 = [src.shape[0], src.shape[1], src.shape[2]];
  const bgPattern = scalarBytes(vol.dtype, vol.background(mip));
  const chunks = [...chunksInRegion(bbox, chunkSize, offset, bounds)];

  await mapConcurrent(chunks, vol.concurrency * 2, async (chunk) => {
    const key = vol.chunkKey(chunk, mip);
    const overlap = chunk.intersection(bbox);
    const cs = chunk.size();
    const buf = vol.pool.acquire(cs[0] * cs[1] * cs[2] * channels * bpv);
    try {
      if (!overlap.equals(chunk)) {
        // Partial chunk (non-aligned write): start from what is stored.
        const existing = await vol.readChunk(key, chunk, mip, p, io.signal, buf);
        if (!existing) {
          if (!(io.fillMissing ?? vol.options.fillMissing)) {
            throw new CloudVolumeError("NOT_FOUND", `non-aligned write needs chunk ${key}, which is missing; pass fillMissing: true to treat it as background`, { url: vol.url, key, mip });
          }
          fillPattern(buf, bgPattern);
        }
      }
      copyBox({
        src: srcBytes, srcShape,
        srcOrigin: [overlap.min[0] - bbox.min[0] + srcOffset[0], overlap.min[1] - bbox.min[1] + srcOffset[1], overlap.min[2] - bbox.min[2] + srcOffset[2]],
        dst: buf, dstShape: cs,
        dstOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]],
        size: overlap.size(), bytesPerVoxel: bpv, channels,
      });
      await vol.writeChunk(key, chunk, mip, buf, p, byteCodec, cacheControl, bgPattern, io.signal);
    } finally {
      vol.pool.release(buf);
    }
    io.onChunk?.();
  }, io.signal);
}

/**
 * The shards a write of `bbox` touches, checking that it covers each of them whole
 * (every chunk of the shard, truncated at the volume bound, lies inside `bbox`): a shard
 * cannot be patched (sharded.md: "the entire shard must be re-written").
 */
export function wholeShards(vol: ChunkedVolume, sh: ShardedChunks, bbox: Bbox, mip: number, what: string): ShardRef[] {
  const shards = sh.shardsTouching(bbox);
  for (const shard of shards) {
    if (shard.chunks.every((c) => bbox.containsBbox(c))) continue;
    throw new CloudVolumeError(
      "ALIGNMENT",
      `${what} ${bbox} covers only part of shard file ${sh.keyOf(shard.shard)} at mip ${mip}: a sharded scale is written whole shards at a time; ${sh.alignmentHint(bbox)}`,
      { url: vol.url, mip, bbox: bbox.toString(), key: sh.keyOf(shard.shard) },
    );
  }
  return shards;
}

/**
 * upload for a sharded mip: the write must cover every chunk of each shard it touches.
 * Each shard is built from its chunks' encodings and written with one put. With
 * deleteBlackUploads, background chunks are left out and a shard left empty is deleted.
 * The transfer `compress` option does not apply: the shard's own encoding decides.
 */
async function uploadSharded(vol: ChunkedVolume, bbox: Bbox, src: VolumeArray, srcOffset: Vec3, mip: number, signal?: AbortSignal, onChunk?: () => void, fillMissing?: boolean): Promise<void> {
  const sh = vol.shards(mip);
  if (sh.patchable) checkChunkAlignment(vol, bbox, mip);
  const shards = sh.patchable ? sh.shardsTouching(bbox) : wholeShards(vol, sh, bbox, mip, "write");
  const p = await vol.writer(mip);
  const bpv = dtypeInfo(vol.dtype).bytes;
  const channels = vol.numChannels;
  const srcBytes = bytesOf(src.data);
  const srcShape: Vec3 = [src.shape[0], src.shape[1], src.shape[2]];
  const bgPattern = scalarBytes(vol.dtype, vol.background(mip));
  const cacheControl = vol.cacheControl();
  await mapConcurrent(shards, 2, async (shard) => {
    // A patchable shard keeps the stored bytes of chunks the write does not cover whole.
    const outside = shard.chunks.filter((c) => !bbox.containsBbox(c));
    const stored = outside.length > 0 ? await sh.getMany(outside.map((c) => sh.locate(c).id), { signal }) : new Map<bigint, Uint8Array>();
    const payloads = await mapConcurrent(shard.chunks, vol.concurrency, async (chunk) => {
      const overlap = chunk.intersection(bbox);
      if (overlap.isEmpty()) return stored.get(sh.locate(chunk).id);
      const cs = chunk.size();
      const buf = vol.pool.acquire(cs[0] * cs[1] * cs[2] * channels * bpv);
      try {
        if (!overlap.equals(chunk)) {
          // Partial chunk (non-aligned write): start from what the shard stores.
          const id = sh.locate(chunk).id;
          const old = stored.get(id);
          if (old) await vol.decodeChunk(old, chunk, mip, p.codec, `${sh.keyOf(shard.shard)} (chunk ${id})`, buf, vol.edgeForm(p), p.params);
          else if (fillMissing ?? vol.options.fillMissing) fillPattern(buf, bgPattern);
          else throw new CloudVolumeError("NOT_FOUND", `non-aligned write needs chunk ${chunk} of shard ${sh.keyOf(shard.shard)}, which is missing; pass fillMissing: true to treat it as background`, { url: vol.url, key: sh.keyOf(shard.shard), mip });
        }
        copyBox({
          src: srcBytes, srcShape,
          srcOrigin: [overlap.min[0] - bbox.min[0] + srcOffset[0], overlap.min[1] - bbox.min[1] + srcOffset[1], overlap.min[2] - bbox.min[2] + srcOffset[2]],
          dst: buf, dstShape: cs, dstOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]], size: overlap.size(), bytesPerVoxel: bpv, channels,
        });
        if (vol.options.deleteBlackUploads && isUniform(buf, bgPattern)) return undefined;
        const encoded = await vol.encodeChunk(buf, chunk, mip, p, `${sh.keyOf(shard.shard)} (chunk ${chunk})`);
        // Kept until the shard is built, after `buf` goes back to the pool: raw hands back its input.
        return encoded.buffer === buf.buffer ? encoded.slice() : encoded;
      } finally {
        vol.pool.release(buf);
      }
    }, signal);
    const entries: Array<[bigint, Uint8Array]> = [];
    shard.chunks.forEach((chunk, i) => {
      const payload = payloads[i];
      if (payload) entries.push([sh.locate(chunk).id, payload]);
    });
    await sh.writeShard(shard.shard, entries, { cacheControl, signal });
    for (const chunk of shard.chunks) if (!chunk.intersection(bbox).isEmpty()) onChunk?.();
  }, signal);
}
