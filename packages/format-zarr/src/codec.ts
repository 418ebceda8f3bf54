import {
  CloudVolumeError, HOST_IS_LITTLE_ENDIAN, chunkDecodeFailed, dtypeInfo, fillPattern, scalarBytes,
  type ArrayCodec, type ByteCodec, type ChunkSpec,
} from "@cloudvolume/core";
import { chunkLayout, moveElements, swapBytes, type AxisMap } from "./axes.js";
import type { ZarrDtype } from "./dtype.js";

/*
 * A single compressor with ByteCodec.decodeInto inflates on the calling thread straight
 * into the engine's pooled buffer, whatever the compression ratio: measured on the
 * 512x512x64 gzip arrays of bench/zarr-vs-zarrita.mjs (2 cores, medians of 7), the async
 * decoder on libuv's pool was no faster on one thread (uint8 87 vs 84 ms, uint64 178 vs
 * 164 ms) and slower under two worker threads (uint64 114 vs 86 ms), where each worker
 * already is the parallelism and the pool hop adds a copy.
 */

/** One bytes -> bytes step of a chunk's encoding (a zarr v2 compressor; a zarr v3 bytes-to-bytes codec). */
export interface ByteStage {
  readonly name: string;
  /** `size`: the decoded size when this is the last step undone (the chunk's element bytes). */
  decode(bytes: Uint8Array, key: string, size?: number): Promise<Uint8Array>;
  encode(bytes: Uint8Array): Promise<Uint8Array>;
  /** Decode into `out` on the calling thread (a compressor with ByteCodec.decodeInto). */
  decodeInto?(bytes: Uint8Array, out: Uint8Array, key: string): Uint8Array;
}

/** A Context compression plugin as a ByteStage, given its codec configuration as params. */
export function compressorStage(name: string, codec: ByteCodec, params: Readonly<Record<string, unknown>>): ByteStage {
  return {
    name,
    decode: async (bytes, key, size) => codec.decode(bytes, { decodedSize: size, key, params }),
    encode: async (bytes) => codec.encode(bytes, { params }),
    decodeInto: codec.decodeInto ? (bytes, out, key) => codec.decodeInto!(bytes, out, { key }) : undefined,
  };
}

/** How one array's chunks are stored, whatever the zarr version. */
export interface ChunkEncoding {
  /** For messages ("zarr2 blosc", "zarr3 bytes/gzip"). */
  readonly name: string;
  /** The stored chunk's shape, in zarr axes. */
  readonly chunks: readonly number[];
  /** Element strides of the stored chunk per zarr axis (its order or transposition). */
  readonly strides: readonly number[];
  readonly dtype: ZarrDtype;
  /** Stored big-endian. */
  readonly bigEndian: boolean;
  /** Bytes -> bytes steps in encoding order. */
  readonly stages: readonly ByteStage[];
}

/**
 * The chunk codec of one zarr array: stored bytes -> the byte stages undone in reverse ->
 * the chunk's elements in the stored order and byte order -> the engine's voxels
 * (Fortran x, y, z, c, little-endian), and back. The engine pads edge chunks (edgeChunks
 * "padded"), so the codec always sees whole chunks.
 */
export function zarrChunkCodec(enc: ChunkEncoding, map: AxisMap, fill: number | bigint): ArrayCodec {
  const bpv = enc.dtype.itemsize;
  const zarrBytes = enc.chunks.reduce((a, b) => a * b, 1) * bpv;
  const swap = enc.bigEndian === HOST_IS_LITTLE_ENDIAN && bpv > 1;
  const { name, stages } = enc;
  const only = stages.length === 1 ? stages[0] : undefined;

  const layoutOf = (chunk: ChunkSpec) => chunkLayout(map, enc.chunks, enc.strides, chunk.shape, chunk.channels);

  const undo = async (bytes: Uint8Array, key: string): Promise<Uint8Array> => {
    let b = bytes;
    for (let i = stages.length - 1; i >= 0; i--) b = await stages[i].decode(b, key, i === 0 ? zarrBytes : undefined);
    return b;
  };

  return {
    name,

    async decode(bytes, chunk, out) {
      const layout = layoutOf(chunk);
      const voxelBytes = chunk.shape[0] * chunk.shape[1] * chunk.shape[2] * chunk.channels * dtypeInfo(chunk.dtype).bytes;
      if (out && out.byteLength !== voxelBytes) throw new CloudVolumeError("INVALID_ARGUMENT", `${name} decode: output buffer has ${out.byteLength} bytes, chunk ${chunk.key} needs ${voxelBytes}`, { key: chunk.key });
      let raw: Uint8Array;
      let owned = false; // raw is ours to modify (not the stored bytes)
      if (stages.length === 0) {
        raw = bytes;
      } else if (out && layout.identity && !swap && only?.decodeInto) {
        raw = only.decodeInto(bytes, out, chunk.key ?? "");
        owned = true;
      } else {
        raw = await undo(bytes, chunk.key ?? "");
        owned = raw !== bytes && raw.buffer !== bytes.buffer;
      }
      if (raw.byteLength !== zarrBytes) {
        throw chunkDecodeFailed(name, chunk, `decodes to ${raw.byteLength} bytes, a ${enc.chunks.join("x")} chunk of ${enc.dtype.text} is ${zarrBytes}${raw.byteLength < zarrBytes ? " (truncated?)" : ""}`);
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
      if (stages.length === 0) return raw === voxels ? voxels.slice() : raw;
      let b = raw;
      for (const s of stages) b = await s.encode(b);
      return b;
    },
  };
}
