import { CloudVolumeError, HOST_IS_LITTLE_ENDIAN, byteswapInPlace, dtypeInfo, type ArrayCodec, type ChunkSpec } from "@cloudvolume/core";

/**
 * The Precomputed `raw` encoding (shared/spec/precomputed.md, "Raw payload"): a
 * chunk's bytes are its voxels in Fortran order with axes (x, y, z, channel), x
 * fastest, each number little-endian, nothing else: no header, no padding. Edge
 * chunks are stored at their clipped shape, so the only integrity check the format
 * allows is the length, and we always make it: a short or long file is a truncated
 * upload or the wrong dtype/chunk size in `info`, never data to paint.
 */

/** Bytes a raw chunk of this spec must have: shape product x channels x bytes per voxel. */
export function rawByteLength(chunk: ChunkSpec): number {
  const [x, y, z] = chunk.shape;
  const n = x * y * z * chunk.channels * dtypeInfo(chunk.dtype).bytes;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `raw chunk${chunk.key ? ` ${chunk.key}` : ""}: shape ${chunk.shape.join("x")} with ${chunk.channels} channel(s) is not a valid chunk size`,
      chunk.key === undefined ? {} : { key: chunk.key },
    );
  }
  return n;
}

function describeSize(chunk: ChunkSpec, n: number): string {
  return `${n} bytes (${chunk.shape.join("x")} voxels x ${chunk.channels} channel(s) x ${dtypeInfo(chunk.dtype).bytes} byte(s) of ${chunk.dtype})`;
}

export const rawCodec: ArrayCodec = {
  name: "raw",
  passthrough: true,

  /** Without `out` this returns `bytes` itself (no copy) on a little-endian host; with `out`, copies into it. */
  decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array {
    const size = rawByteLength(chunk);
    if (bytes.byteLength !== size) {
      throw new CloudVolumeError(
        "DECODE_FAILED",
        `raw chunk ${chunk.key ?? "(no key)"} has ${bytes.byteLength} bytes, expected ${describeSize(chunk, size)}; ` +
          "the file is truncated or the scale's data_type, num_channels or chunk size in info does not match it",
        chunk.key === undefined ? {} : { key: chunk.key },
      );
    }
    const width = dtypeInfo(chunk.dtype).bytes;
    if (out) {
      if (out.byteLength !== size) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `raw decode: output buffer has ${out.byteLength} bytes, chunk needs ${size}`, chunk.key === undefined ? {} : { key: chunk.key });
      }
      out.set(bytes);
      if (!HOST_IS_LITTLE_ENDIAN) byteswapInPlace(out, width);
      return out;
    }
    // Never swap the caller's buffer: it may be cached or shared (a shard's bytes).
    if (!HOST_IS_LITTLE_ENDIAN && width > 1) return byteswapInPlace(bytes.slice(), width);
    return bytes;
  },

  /** Returns `voxels` itself (the raw encoding is the voxel bytes) after checking the length. */
  encode(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
    const size = rawByteLength(chunk);
    if (voxels.byteLength !== size) {
      throw new CloudVolumeError(
        "INVALID_ARGUMENT",
        `raw encode of ${chunk.key ?? "a chunk"}: got ${voxels.byteLength} bytes of voxels, expected ${describeSize(chunk, size)}`,
        chunk.key === undefined ? {} : { key: chunk.key },
      );
    }
    const width = dtypeInfo(chunk.dtype).bytes;
    if (!HOST_IS_LITTLE_ENDIAN && width > 1) return byteswapInPlace(voxels.slice(), width);
    return voxels;
  },
};
