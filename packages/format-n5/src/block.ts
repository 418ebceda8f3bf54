import {
  CloudVolumeError, HOST_IS_LITTLE_ENDIAN, checkDecodeOutput, chunkDecodeFailed, chunkEncodeFailed, dtypeInfo, describeChunk, isCloudVolumeError,
  type ArrayCodec, type ByteCodec, type ChunkSpec,
} from "@cloudvolume/core";
import type { N5Compression } from "./metadata.js";

/*
 * An N5 data block (saalfeldlab/n5 README, "File-system specification" item 9), all
 * big-endian:
 *
 *   uint16 mode          0 = default, 1 = varlength (an element count follows the dimensions),
 *                        2 = object (opaque bytes, no numeric elements; newer n5-java)
 *   uint16 ndim
 *   uint32 dims[ndim]    the block's own size, dimensions[0] first; end blocks may be smaller
 *                        than blockSize (n5-java, TensorStore) or padded to it (zarr-python)
 *   [uint32 count]       mode 1 only
 *   data                 the elements, dimensions[0] fastest, big-endian, compressed as the
 *                        dataset's `compression` says
 *
 * dimensions[0] fastest is the chunk engine's Fortran order (x, y, z, channel), so decoding
 * is: read the header, decompress, crop to the chunk when the block is padded, and swap
 * the bytes of every element to the host's (little-endian) order.
 */

export const MODE_DEFAULT = 0;
export const MODE_VARLENGTH = 1;
export const MODE_OBJECT = 2;

export interface BlockHeader {
  mode: number;
  dims: number[];
  /** Element count (mode 1). */
  count?: number;
  /** Where the (compressed) data starts. */
  dataOffset: number;
}

/** Thrown by parseBlockHeader; the codec reports it as DECODE_FAILED naming the key. */
export class BlockFormatError extends Error {}

export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  if (bytes.byteLength < 4) throw new BlockFormatError(`${bytes.byteLength} bytes is too short for an N5 block header (mode and ndim alone take 4)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mode = dv.getUint16(0, false);
  const ndim = dv.getUint16(2, false);
  if (mode === MODE_OBJECT) return { mode, dims: [], dataOffset: 4 };
  if (mode !== MODE_DEFAULT && mode !== MODE_VARLENGTH) throw new BlockFormatError(`unknown block mode ${mode} (N5 knows 0 = default, 1 = varlength, 2 = object)`);
  let off = 4 + 4 * ndim;
  if (mode === MODE_VARLENGTH) off += 4;
  if (off > bytes.byteLength) throw new BlockFormatError(`the header of a ${ndim}-dimensional ${mode === 1 ? "varlength " : ""}block needs ${off} bytes, the block has ${bytes.byteLength} (truncated)`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  const h: BlockHeader = { mode, dims, dataOffset: off };
  if (mode === MODE_VARLENGTH) h.count = dv.getUint32(4 + 4 * ndim, false);
  return h;
}

export function blockHeaderBytes(dims: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, MODE_DEFAULT, false);
  dv.setUint16(2, dims.length, false);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return out;
}

/** Swap every `width`-byte element of `b` in place (big-endian <-> little-endian). */
export function swapInPlace(b: Uint8Array, width: number): void {
  if (width <= 1) return;
  if (width === 2 && b.byteOffset % 2 === 0) {
    const a = new Uint16Array(b.buffer, b.byteOffset, b.byteLength >>> 1);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      a[i] = ((v & 0xff) << 8) | (v >>> 8);
    }
    return;
  }
  if ((width === 4 || width === 8) && b.byteOffset % 4 === 0) {
    const a = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      a[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    }
    if (width === 8) {
      for (let i = 0; i < a.length; i += 2) {
        const t = a[i];
        a[i] = a[i + 1];
        a[i + 1] = t;
      }
    }
    return;
  }
  for (let i = 0; i < b.byteLength; i += width) {
    for (let x = i, y = i + width - 1; x < y; x++, y--) {
      const t = b[x];
      b[x] = b[y];
      b[y] = t;
    }
  }
}

/** How a block's payload is (de)compressed: a ByteCodec from the Context, or none (raw). */
export interface BlockCompression {
  /** The compression object of the dataset, for messages and codec params. */
  config: N5Compression;
  /** Name of the byte codec used, for messages ("gzip", "zlib", "n5-lz4", ...). */
  name: string;
  codec?: ByteCodec;
  /** Level handed to codec.encode. */
  level?: number;
  /** Params handed to the codec (blosc's cname, shuffle, typesize, ...). */
  params?: Readonly<Record<string, unknown>>;
}

/** The block's dimensions (N5 order) a chunk of `spec` has, for a dataset of rank `ndim`. */
export function n5Dims(spec: ChunkSpec, ndim: number): number[] {
  const [x, y, z] = spec.shape;
  if (ndim === 4) return [x, y, z, spec.channels];
  return [x, y, z].slice(0, ndim);
}

/**
 * The ArrayCodec of one N5 dataset: `ndim` is the dataset's rank (1 to 4; a 4th dimension is
 * the channel axis). Decoding accepts end blocks truncated to the volume or padded to the
 * block size (anything at least the chunk's extent: the header says); encoding writes the
 * chunk as it is, so end blocks are truncated, as the N5 specification has them.
 */
export function n5BlockCodec(ndim: number, compression: BlockCompression): ArrayCodec {
  const codecName = `n5 (${compression.name})`;
  return {
    name: "n5",

    async decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Promise<Uint8Array> {
      let h: BlockHeader;
      try {
        h = parseBlockHeader(bytes);
      } catch (e) {
        if (e instanceof BlockFormatError) throw chunkDecodeFailed(codecName, chunk, e.message, e);
        throw e;
      }
      if (h.mode === MODE_OBJECT) {
        throw new CloudVolumeError(
          "UNSUPPORTED",
          `${codecName} block ${describeChunk(chunk)}: block mode 2 (object: opaque serialized bytes, not numeric elements) is not supported; only modes 0 (default) and 1 (varlength) hold voxels`,
          chunk.key === undefined ? {} : { key: chunk.key },
        );
      }
      const want = n5Dims(chunk, ndim);
      if (h.dims.length !== ndim) throw chunkDecodeFailed(codecName, chunk, `the block header has ${h.dims.length} dimensions (${h.dims.join("x")}), the dataset ${ndim}`);
      if (h.dims.some((d, i) => d < want[i])) {
        throw chunkDecodeFailed(codecName, chunk, `the block header says ${h.dims.join("x")}, smaller than the chunk's ${want.join("x")} (N5 order)`);
      }
      const elements = h.dims.reduce((a, b) => a * b, 1);
      if (h.mode === MODE_VARLENGTH && h.count !== elements) {
        throw chunkDecodeFailed(codecName, chunk, `varlength block (mode 1) holds ${h.count} elements, but its dimensions ${h.dims.join("x")} need ${elements}`);
      }
      const bpv = dtypeInfo(chunk.dtype).bytes;
      const stored = elements * bpv;
      const payload = bytes.subarray(h.dataOffset);
      let data: Uint8Array;
      if (compression.codec) {
        try {
          data = await compression.codec.decode(payload, { decodedSize: stored, key: chunk.key, params: compression.params });
        } catch (e) {
          if (isCloudVolumeError(e) && e.code !== "DECODE_FAILED") throw e;
          throw chunkDecodeFailed(codecName, chunk, `${compression.name} decompression failed: ${(e as Error)?.message ?? e}`, e);
        }
      } else data = payload;
      if (data.byteLength !== stored) {
        throw chunkDecodeFailed(codecName, chunk, `the block holds ${data.byteLength} bytes of data, its header (${h.dims.join("x")} ${chunk.dtype}) needs ${stored}${data.byteLength < stored ? " (truncated)" : " (trailing bytes)"}`);
      }
      const [sx, sy, sz] = chunk.shape;
      const size = sx * sy * sz * chunk.channels * bpv;
      checkDecodeOutput(codecName, chunk, out, size);
      const target = out ?? new Uint8Array(size);
      const dx = h.dims[0], dy = h.dims[1] ?? 1, dz = h.dims[2] ?? 1;
      if (dx === sx && dy === sy && dz === sz) {
        target.set(data.subarray(0, size)); // also crops a 4-D block padded on the channel axis
      } else {
        // A padded end block: copy the chunk's rows out of it.
        const row = sx * bpv;
        let o = 0;
        for (let c = 0; c < chunk.channels; c++)
          for (let z = 0; z < sz; z++)
            for (let y = 0; y < sy; y++) {
              const s = (((c * dz + z) * dy + y) * dx) * bpv;
              target.set(data.subarray(s, s + row), o);
              o += row;
            }
      }
      if (HOST_IS_LITTLE_ENDIAN) swapInPlace(target, bpv);
      return target;
    },

    async encode(voxels: Uint8Array, chunk: ChunkSpec): Promise<Uint8Array> {
      const bpv = dtypeInfo(chunk.dtype).bytes;
      const dims = n5Dims(chunk, ndim);
      const size = dims.reduce((a, b) => a * b, 1) * bpv;
      if (voxels.byteLength !== size) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `${codecName} encode of ${describeChunk(chunk)}: got ${voxels.byteLength} bytes of voxels, expected ${size}`, chunk.key === undefined ? {} : { key: chunk.key });
      }
      const header = blockHeaderBytes(dims);
      if (!compression.codec) {
        const out = new Uint8Array(header.byteLength + size);
        out.set(header, 0);
        out.set(voxels, header.byteLength);
        if (HOST_IS_LITTLE_ENDIAN) swapInPlace(out.subarray(header.byteLength), bpv);
        return out;
      }
      const big = voxels.slice();
      if (HOST_IS_LITTLE_ENDIAN) swapInPlace(big, bpv);
      let packed: Uint8Array;
      try {
        packed = await compression.codec.encode(big, { level: compression.level, params: compression.params });
      } catch (e) {
        if (isCloudVolumeError(e)) throw e;
        throw chunkEncodeFailed(codecName, chunk, `${compression.name} compression failed: ${(e as Error)?.message ?? e}`, e);
      }
      const out = new Uint8Array(header.byteLength + packed.byteLength);
      out.set(header, 0);
      out.set(packed, header.byteLength);
      return out;
    },
  };
}
