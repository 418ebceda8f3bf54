import {
  CloudVolumeError, HOST_IS_LITTLE_ENDIAN, chunkDecodeFailed, dtypeInfo, fillPattern, scalarBytes,
  type ArrayCodec, type ByteCodec, type ChunkSpec,
} from "@cloudvolume/core";
import { chunkLayout, moveElements, swapBytes, type AxisMap } from "./axes.js";
import type { ZarrArrayMeta } from "./metadata.js";

/**
 * Inflate on the calling thread into the engine's pooled buffer (ByteCodec.decodeInto)
 * from this compression ratio on, as the engine does for Precomputed raw chunks; below
 * it the asynchronous decoder (libuv's thread pool for gzip/zlib) is faster.
 */
const INFLATE_HERE_RATIO = 8;

/**
 * The chunk codec of one zarr v2 array: stored bytes -> compressor (a Context
 * compression plugin, given the compressor configuration as params) -> the chunk's
 * elements in the array's order and byte order -> the engine's voxels (Fortran x, y, z,
 * c, little-endian), and back. The engine pads edge chunks (edgeChunks "padded"), so the
 * codec always sees whole chunks.
 */
export function zarrChunkCodec(meta: ZarrArrayMeta, map: AxisMap, compressor: ByteCodec | undefined, fill: number | bigint): ArrayCodec {
  const bpv = meta.dtype.itemsize;
  const zarrBytes = meta.chunks.reduce((a, b) => a * b, 1) * bpv;
  const params = meta.compressor ? { ...meta.compressor, typesize: bpv } : undefined;
  const swap = meta.dtype.bigEndian === HOST_IS_LITTLE_ENDIAN;
  const name = `zarr2 ${meta.compressor ? String(meta.compressor.id) : "raw"}`;

  const layoutOf = (chunk: ChunkSpec) => chunkLayout(map, meta.chunks, meta.order, chunk.shape, chunk.channels);

  return {
    name,

    async decode(bytes, chunk, out) {
      const layout = layoutOf(chunk);
      const voxelBytes = chunk.shape[0] * chunk.shape[1] * chunk.shape[2] * chunk.channels * dtypeInfo(chunk.dtype).bytes;
      if (out && out.byteLength !== voxelBytes) throw new CloudVolumeError("INVALID_ARGUMENT", `${name} decode: output buffer has ${out.byteLength} bytes, chunk ${chunk.key} needs ${voxelBytes}`, { key: chunk.key });
      let raw: Uint8Array;
      let owned = false; // raw is ours to modify (not the stored bytes)
      if (!compressor) {
        raw = bytes;
      } else if (out && layout.identity && !swap && compressor.decodeInto && bytes.byteLength * INFLATE_HERE_RATIO <= zarrBytes) {
        raw = compressor.decodeInto(bytes, out, { key: chunk.key });
        owned = true;
      } else {
        raw = await compressor.decode(bytes, { decodedSize: zarrBytes, key: chunk.key, params });
        owned = true;
      }
      if (raw.byteLength !== zarrBytes) {
        throw chunkDecodeFailed(name, chunk, `decompresses to ${raw.byteLength} bytes, a ${meta.chunks.join("x")} chunk of ${meta.dtype.text} is ${zarrBytes}${raw.byteLength < zarrBytes ? " (truncated?)" : ""}`);
      }
      let voxels: Uint8Array;
      if (layout.identity) {
        if (out && raw !== out) out.set(raw);
        voxels = out ?? (owned ? raw : raw.slice());
      } else {
        voxels = out ?? new Uint8Array(voxelBytes);
        moveElements(raw, voxels, layout, chunk.shape, chunk.channels, bpv, true);
      }
      if (swap) swapBytes(voxels, bpv);
      return voxels;
    },

    async encode(voxels, chunk) {
      const layout = layoutOf(chunk);
      let raw: Uint8Array;
      if (layout.identity) {
        raw = swap ? voxels.slice() : voxels;
      } else {
        raw = new Uint8Array(zarrBytes);
        fillPattern(raw, scalarBytes(chunk.dtype, fill)); // chunk space the volume does not cover (padded channels)
        moveElements(raw, voxels, layout, chunk.shape, chunk.channels, bpv, false);
      }
      if (swap) swapBytes(raw, bpv);
      if (!compressor) return raw === voxels ? voxels.slice() : raw;
      return compressor.encode(raw, { params });
    },
  };
}
