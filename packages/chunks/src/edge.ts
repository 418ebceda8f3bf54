import type { Vec3 } from "@cloudvolume/core";

/**
 * Edge chunks of sharded images: Neuroglancer's volume.md ("Chunked representation of
 * volume data") gives every chunk the extent [voxel_offset + g * chunk_size,
 * voxel_offset + min((g + 1) * chunk_size, size)), so chunks at the upper bound are
 * truncated, sharded or not, and that is what we write. Some writers (older CloudVolume
 * releases among them) stored sharded edge chunks padded to the full chunk size, so a
 * reader has to tell the two apart. Most encodings make that easy (a raw chunk's length,
 * a png/jpeg picture's size fail loudly when wrong), but a compressed_segmentation chunk
 * does not record its shape, and decoding a padded one as truncated can "succeed" with
 * the blocks in the wrong places. This looks at the stored bytes to decide.
 */
export type StoredExtent = "truncated" | "padded";

export function storedEdgeExtent(
  encoding: string, bytes: Uint8Array, truncated: Vec3, full: Vec3, channels: number, bytesPerVoxel: number,
  blockSize?: readonly number[],
): StoredExtent | undefined {
  const voxels = (s: Vec3) => s[0] * s[1] * s[2] * channels * bytesPerVoxel;
  if (encoding === "raw") {
    if (bytes.byteLength === voxels(truncated)) return "truncated";
    if (bytes.byteLength === voxels(full)) return "padded";
    return undefined;
  }
  if (encoding === "compressed_segmentation" && blockSize && bytes.byteLength >= 4 * (channels + 2)) {
    // compressed_segmentation (neuroglancer sliceview/compressed_segmentation/README.md):
    // one uint32 offset per channel, then per channel a 2-word header per block, whose
    // second word is the block's encoded-values offset from the channel start. Encoders
    // (Neuroglancer's, CloudVolume's, ours) write block 0's values right after the
    // headers, so that offset is 2 x the number of blocks the chunk was encoded with.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const channelStart = dv.getUint32(0, true);
    if (4 * (channelStart + 2) > bytes.byteLength) return undefined;
    const headerWords = dv.getUint32(4 * (channelStart + 1), true);
    const blocks = (s: Vec3) => Math.ceil(s[0] / blockSize[0]) * Math.ceil(s[1] / blockSize[1]) * Math.ceil(s[2] / blockSize[2]);
    if (headerWords === 2 * blocks(truncated)) return "truncated";
    if (headerWords === 2 * blocks(full)) return "padded";
    return undefined;
  }
  return undefined;
}
