import type { Vec3 } from "./bbox.js";
import type { DataType, TypedArray } from "./dtype.js";

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
  /**
   * The encoded bytes are the voxels (Precomputed's raw): decode without `out` hands back
   * its input. The engine then inflates compressed chunks straight into pooled buffers
   * and lets the codec return them, instead of giving it a second buffer to fill.
   */
  readonly passthrough?: boolean;
  /** Decode into `out` when given (a pooled buffer of exactly the decoded size), else a new buffer. */
  decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array | Promise<Uint8Array>;
  encode?(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array | Promise<Uint8Array>;
  /*
   * Optional queries answered from the encoded bytes without decoding the whole chunk
   * (CloudVolume's chunks.labels / contains / read_voxel). Encodings that can (e.g.
   * compressed_segmentation, from its lookup tables) provide them; callers decode when
   * they are absent.
   */
  /** The distinct values of the chunk (all channels), ascending, in the chunk's dtype. */
  labels?(bytes: Uint8Array, chunk: ChunkSpec): TypedArray | Promise<TypedArray>;
  /** True when some voxel of the chunk has `value`. */
  contains?(bytes: Uint8Array, chunk: ChunkSpec, value: number | bigint): boolean | Promise<boolean>;
  /** One voxel (chunk-relative x, y, z, channel c); a bigint for 64-bit dtypes. */
  readVoxel?(bytes: Uint8Array, chunk: ChunkSpec, x: number, y: number, z: number, c?: number): number | bigint | Promise<number | bigint>;
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
  decode(bytes: Uint8Array, opts?: { decodedSize?: number; key?: string; params?: Readonly<Record<string, unknown>> }): Uint8Array | Promise<Uint8Array>;
  /**
   * `params` carries a format's own settings for codecs that have more than a level
   * (blosc's cname, shuffle and typesize; zarr's and n5's codec configurations).
   */
  encode(bytes: Uint8Array, opts?: { level?: number; params?: Readonly<Record<string, unknown>> }): Uint8Array | Promise<Uint8Array>;
  /**
   * Optional: decode synchronously, on the calling thread, into `out` (a pooled buffer)
   * and return the filled part of it (`out` itself when it is filled exactly); a stream
   * that decodes to more than `out` holds comes back in a new buffer. For worker threads, where the thread is
   * the unit of parallelism and a fresh output buffer per chunk costs more than inflating.
   */
  decodeInto?(bytes: Uint8Array, out: Uint8Array, opts?: { key?: string }): Uint8Array;
}
