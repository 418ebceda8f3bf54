import { open as openFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { Bbox, CloudVolumeError, bytesOf, dtypeInfo, viewAs, type BboxLike } from "@cloudvolume/core";
import { checkChunkAlignment, wholeShards, type ChunkedVolume, type IoOptions } from "@cloudvolume/chunks";

/**
 * Cutouts to and from files on local disk (Node only), in the layout the CLI's
 * `download --out` / `upload --in` use: raw little-endian voxels in Fortran order (x
 * fastest, then y, z, channel), no header. Both stream in slabs of whole chunk rows
 * along z (whole shards on sharded scales), so neither holds the box in memory.
 */

/** Bytes of one slab at most by default (at least one chunk row is always taken). */
const SLAB_BYTES = 256 * 1024 * 1024;

export interface FileIoOptions extends IoOptions {
  /** Upper bound on the bytes held at once (default 256 MiB; at least one row of chunks, or shards, along z). */
  slabBytes?: number;
}

/** The z ranges of `bbox` cut on the grid lines z = offset + k * step, each up to `maxLayers` steps thick. */
function slabs(bbox: Bbox, offset: number, step: number, maxLayers: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let z = bbox.min[2];
  while (z < bbox.max[2]) {
    const nextLine = offset + (Math.floor((z - offset) / step) + maxLayers) * step;
    const end = Math.min(bbox.max[2], nextLine);
    out.push([z, end]);
    z = end;
  }
  return out;
}

/** The z extent of a shard: slabs of whole shards are written whole (shards mixing all of the volume: the volume). */
function shardDepth(vol: ChunkedVolume, mip: number): number {
  return vol.shards(mip).brick?.[2] ?? vol.scale(mip).size[2];
}

function slabStep(vol: ChunkedVolume, mip: number, bbox: Bbox, slabBytes = SLAB_BYTES): { step: number; layers: number } {
  const step = vol.isSharded(mip) ? shardDepth(vol, mip) : vol.chunkSize(mip)[2];
  const s = bbox.size();
  const layerBytes = s[0] * s[1] * step * vol.numChannels * dtypeInfo(vol.dtype).bytes;
  return { step, layers: Math.max(1, Math.floor(slabBytes / Math.max(1, layerBytes))) };
}

/**
 * Download `bbox` into the file at `path` (CloudVolume's download_to_file, without the
 * mmap): written to a temporary name beside it and renamed, so `path` is never half
 * written. With autocrop the box is cropped to the bounds first. Returns the box written.
 */
export async function downloadToFile(vol: ChunkedVolume, bboxLike: BboxLike, path: string, opts: FileIoOptions = {}): Promise<Bbox> {
  const { slabBytes, ...io } = opts;
  const mip = vol.mipIndex(io.mip);
  let bbox = Bbox.from(bboxLike);
  if (vol.options.autocrop) bbox = bbox.clamp(vol.bounds(mip));
  if (bbox.isEmpty()) throw new CloudVolumeError("INVALID_ARGUMENT", `requested ${Bbox.from(bboxLike)} is empty${vol.options.autocrop ? " inside the bounds" : ""}`, { url: vol.url, mip });
  const s = bbox.size();
  const bpv = dtypeInfo(vol.dtype).bytes;
  const channels = vol.numChannels;
  const plane = s[0] * s[1] * bpv;
  const channelBytes = plane * s[2];
  const { step, layers } = slabStep(vol, mip, bbox, slabBytes);
  const tmp = join(dirname(path), `.${basename(path).slice(0, 40)}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  const fh = await openFile(tmp, "w");
  try {
    await fh.truncate(channelBytes * channels);
    for (const [z0, z1] of slabs(bbox, vol.voxelOffset(mip)[2], step, layers)) {
      const box = new Bbox([bbox.min[0], bbox.min[1], z0], [bbox.max[0], bbox.max[1], z1]);
      const bytes = bytesOf((await vol.download(box, { ...io, mip })).data);
      const slabChannel = plane * (z1 - z0);
      for (let c = 0; c < channels; c++) {
        await fh.write(bytes, c * slabChannel, slabChannel, c * channelBytes + (z0 - bbox.min[2]) * plane);
      }
    }
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  return bbox;
}

/**
 * Upload the file at `path` (the layout above, exactly the size of `bbox`) to `bbox`
 * (CloudVolume's upload_from_file counterpart). The write follows upload's rules (chunk
 * alignment unless nonAlignedWrites, whole shards on sharded scales, locked scales
 * refused); an unaligned box is refused before anything is written.
 */
export async function uploadFromFile(vol: ChunkedVolume, bboxLike: BboxLike, path: string, opts: FileIoOptions = {}): Promise<void> {
  const { slabBytes, ...io } = opts;
  const mip = vol.mipIndex(io.mip);
  const bbox = Bbox.from(bboxLike);
  if (bbox.isEmpty()) throw new CloudVolumeError("INVALID_ARGUMENT", `requested ${bbox} is empty`, { url: vol.url, mip });
  const s = bbox.size();
  const bpv = dtypeInfo(vol.dtype).bytes;
  const channels = vol.numChannels;
  const plane = s[0] * s[1] * bpv;
  const channelBytes = plane * s[2];
  const size = await stat(path).then((st) => st.size, (e: NodeJS.ErrnoException) => {
    throw new CloudVolumeError(e.code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR", `cannot read ${path}: ${e.message}`, { cause: e });
  });
  if (size !== channelBytes * channels) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${path} has ${size} bytes; ${bbox} of ${vol.dtype} with ${channels} channel(s) needs ${channelBytes * channels}`, { url: vol.url, mip, bbox: bbox.toString() });
  }
  vol.assertWritable(`mip ${mip}`);
  if (vol.scale(mip).locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} is locked; unlock the scale before writing`, { url: vol.url, mip });
  // Check the whole box up front, so a refused write leaves nothing half uploaded.
  const bounds = vol.bounds(mip);
  if (!bounds.containsBbox(bbox) && vol.options.bounded && !vol.options.autocrop) {
    throw new CloudVolumeError("OUT_OF_BOUNDS", `write ${bbox} is outside the bounds ${bounds} at mip ${mip}; pass autocrop: true to write only the part inside`, { url: vol.url, mip, bbox: bbox.toString() });
  }
  const inside = bbox.clamp(bounds);
  if (vol.isSharded(mip) && !vol.shards(mip).patchable) {
    if (!inside.isEmpty()) wholeShards(vol, vol.shards(mip), inside, mip, "write");
  } else if (!inside.isEmpty()) {
    checkChunkAlignment(vol, inside, mip);
  }
  const { step, layers } = slabStep(vol, mip, bbox, slabBytes);
  const fh = await openFile(path, "r");
  try {
    for (const [z0, z1] of slabs(bbox, vol.voxelOffset(mip)[2], step, layers)) {
      const slabChannel = plane * (z1 - z0);
      const buf = new Uint8Array(slabChannel * channels);
      for (let c = 0; c < channels; c++) {
        const at = c * channelBytes + (z0 - bbox.min[2]) * plane;
        const { bytesRead } = await fh.read(buf, c * slabChannel, slabChannel, at);
        if (bytesRead !== slabChannel) throw new CloudVolumeError("IO_ERROR", `${path} changed while it was read (short read at byte ${at})`, {});
      }
      const box = new Bbox([bbox.min[0], bbox.min[1], z0], [bbox.max[0], bbox.max[1], z1]);
      await vol.upload(box, viewAs(buf, vol.dtype), { ...io, mip });
    }
  } finally {
    await fh.close();
  }
}
