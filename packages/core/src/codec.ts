import type { Vec3 } from "./bbox.js";
import type { DataType } from "./dtype.js";

/** What an array codec needs to know about the chunk it encodes or decodes. */
export interface ChunkSpec {
  /** Shape of this chunk in voxels (edge chunks are smaller than the nominal size). */
  shape: Vec3;
  channels: number;
  dtype: DataType;
  /** Storage key, for error messages. */
  key?: string;
  /** Encoding parameters from the scale (e.g. compressed_segmentation_block_size, jpeg_quality). */
  params?: Readonly<Record<string, unknown>>;
}

/**
 * An array codec: chunk bytes <-> voxel bytes in Fortran order (x, y, z, channel),
 * little-endian. Precomputed calls this the scale's `encoding`.
 */
export interface ArrayCodec {
  readonly name: string;
  /** Decode into `out` when given (a pooled buffer of exactly the decoded size), else a new buffer. */
  decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array | Promise<Uint8Array>;
  encode?(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array | Promise<Uint8Array>;
}

/**
 * A byte-stream codec (transfer compression: gzip, br, ...). Separate from the array
 * encoding; on disk CloudVolume marks it with a file-name suffix.
 */
export interface ByteCodec {
  readonly name: string;
  /** File-name suffix CloudFiles uses on local disk (".gz", ".br", ".zstd"). */
  readonly suffix: string;
  /** `decodedSize`, when known, lets the decoder allocate once. */
  decode(bytes: Uint8Array, opts?: { decodedSize?: number; key?: string }): Uint8Array | Promise<Uint8Array>;
  encode(bytes: Uint8Array, opts?: { level?: number }): Uint8Array | Promise<Uint8Array>;
}
