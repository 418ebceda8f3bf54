import { CloudVolumeError, type Bbox, type BboxLike, type LayerInfo, type Vec3, type VolumeArray } from "@cloudvolume/core";
import type { CacheOptions } from "./cache/disk-cache.js";
import type { ChunkPainter } from "./parallel.js";

/** Options that shape reads and writes of any format; names follow CloudVolume's constructor in camelCase. */
export interface VolumeOptions extends CacheOptions {
  /** Default mip: an index, or a resolution [x, y, z] that one scale has. */
  mip?: number | Vec3;
  /** Requests outside the bounds are an error (default true). */
  bounded?: boolean;
  /** Crop requests to the bounds instead of failing (default false). */
  autocrop?: boolean;
  /** Missing chunks read as backgroundColor instead of failing (default false). */
  fillMissing?: boolean;
  /** Value of voxels no chunk covers; default the format's fill value (0 for most). */
  backgroundColor?: number | bigint;
  /** A chunk that is entirely backgroundColor is deleted instead of written (default false). */
  deleteBlackUploads?: boolean;
  /** Allow writes not aligned to the chunk grid: edge chunks are read, painted and rewritten. */
  nonAlignedWrites?: boolean;
  /** Transfer compression for writes: undefined = the format's default; true = gzip. */
  compress?: boolean | "gzip" | "br" | "zstd" | "none" | null;
  compressLevel?: number;
  /** Cache-Control for writes: true = "public, max-age=3600", false/0 = "no-cache", seconds, or a literal header. */
  cdnCache?: boolean | number | string;
  /** Use this metadata instead of reading it (to create a layer; persist with commitInfo). */
  info?: LayerInfo | Record<string, unknown>;
  signal?: AbortSignal;
  /**
   * Inflate gzip chunks of raw layers synchronously on the calling thread, into pooled
   * buffers (ByteCodec.decodeInto), instead of on libuv's thread pool into fresh ones.
   * Worker threads set it. Default: only chunks that compress 8x or more (segmentation),
   * where a fresh buffer costs more than the inflate.
   */
  inflateOnThread?: boolean;
}

export interface IoOptions {
  mip?: number | Vec3;
  signal?: AbortSignal;
  /** Override the volume's fillMissing for this call. */
  fillMissing?: boolean;
  /** Called once per chunk read (download) or written (upload). */
  onChunk?: () => void;
  /** download: allocate the cutout on a SharedArrayBuffer (readable from other threads without a copy). */
  shared?: boolean;
  /**
   * download: paint the chunks on these threads (see parallel.ts); the cutout is then on a
   * SharedArrayBuffer. Ignored (read on this thread) when the painter cannot open the
   * layer's format or storage protocol, or the cutout has a single chunk.
   */
  painter?: ChunkPainter;
}

export interface TransferOptions {
  mip?: number;
  /** Region to copy (default: the whole mip). Sharded destinations need whole shards. */
  bbox?: BboxLike;
  signal?: AbortSignal;
  onChunk?: () => void;
  /**
   * Layout of the destination scale, for formats that shard (FormatLayer.setSharding):
   * `true` shards it with the format's parameter choice, a spec object with that spec,
   * `false` stores one object per chunk; undefined keeps the destination as it is. A
   * changed info is committed before any data is written.
   */
  sharded?: boolean | Record<string, unknown>;
}

export interface TransferStats {
  /** Source chunks visited. */
  chunks: number;
  /** Chunks (or, for identical sharded scales, chunks in whole shard files) copied as stored. */
  copied: number;
  /** Chunks decoded and re-encoded. */
  recoded: number;
}

/** A cutout as returned by download: Fortran-ordered (x, y, z, channel). */
export interface Cutout extends VolumeArray {
  bbox: Bbox;
  mip: number;
}

export function cacheControlFor(cdnCache: boolean | number | string | undefined): string {
  if (cdnCache === undefined || cdnCache === true) return "public, max-age=3600";
  if (cdnCache === false) return "no-cache";
  if (typeof cdnCache === "number") {
    if (!Number.isInteger(cdnCache) || cdnCache < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `cdnCache must be a non-negative integer number of seconds, got ${cdnCache}`);
    return cdnCache === 0 ? "no-cache" : `public, max-age=${cdnCache}`;
  }
  return cdnCache;
}
