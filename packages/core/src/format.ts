import type { Bbox, Vec3 } from "./bbox.js";
import type { ArrayCodec } from "./codec.js";
import type { Context } from "./context.js";
import type { DataType } from "./dtype.js";
import type { KeyValueStore } from "./storage.js";
import type { ParsedUrl } from "./url.js";

/*
 * The Format contract: what a format driver (precomputed, zarr, n5, a third party's)
 * provides so that the format-neutral chunk engine (@cloudvolume/chunks) can read and
 * write it. A driver knows its metadata, how chunks are named and how a chunk's bytes
 * become voxels; the engine does everything else (grid expansion, concurrent fetches
 * under the Context's limiters, decoding into pooled buffers, painting into one output,
 * splitting writes, caches, worker threads).
 *
 * Every format presents its metadata in one form, Precomputed's `info` (as CloudVolume
 * does for zarr, n5, graphene and BOSS): a layer type, a data type, a channel count and
 * one scale per mip with its size, voxel offset, resolution and chunk size. A driver
 * whose own metadata differs translates on open and on commit.
 */

/** One mip's geometry and encoding, in Precomputed's `info.scales[i]` form. */
export interface LayerScaleInfo {
  /** The scale's name; Precomputed uses it as the directory of its chunks. */
  key: string;
  /** Extent in voxels. */
  size: Vec3;
  /** Position of the first voxel (voxels may start anywhere, even below 0). */
  voxel_offset: Vec3;
  /** Voxel size in nanometres. */
  resolution: Vec3;
  /** Chunk shapes; the engine uses the first. */
  chunk_sizes: Vec3[];
  /** Name of the chunk encoding (raw, compressed_segmentation, ...; a format's own name for its chains). */
  encoding: string;
  /** A write-lock (CloudVolume's lock_mips): writes to this mip are refused while true. */
  locked?: boolean;
  [field: string]: unknown;
}

/** A layer's metadata in Precomputed's `info` form. */
export interface LayerInfo {
  /** "image" or "segmentation". */
  type: string;
  data_type: DataType;
  num_channels: number;
  scales: LayerScaleInfo[];
  [field: string]: unknown;
}

/** What a layer of this format can do; the facade refuses the rest with UNSUPPORTED. */
export interface FormatCapabilities {
  /** Chunks can be written (the storage may still be read-only). */
  write: boolean;
  /** Some mips may store their chunks in shard files (see ShardedChunks). */
  sharded: boolean;
  /** Meshes (vol.mesh). */
  meshes: boolean;
  /** Skeletons (vol.skeleton). */
  skeletons: boolean;
  /** A provenance file (vol.provenance, commitProvenance). */
  provenance: boolean;
  /** Mips can be write-locked (lockMips / unlockMips). */
  locks: boolean;
}

/** How one mip's chunk bytes become voxels and back. */
export interface ChunkPipeline {
  /** Array-encoded bytes <-> voxel bytes in Fortran order (x, y, z, channel), little-endian. */
  codec: ArrayCodec;
  /** Passed to the codec as ChunkSpec.params. */
  params: Readonly<Record<string, unknown>>;
  /**
   * Two mips (of any layers, of any formats) whose pipelines have equal signatures store
   * interchangeable chunk bytes: a transfer between them copies the bytes as stored.
   */
  signature: string;
  /**
   * Shape of the chunks at the upper bound: "truncated" to the volume (Precomputed,
   * volume.md) or "padded" to the full chunk size (zarr, n5), padding with `fillValue`.
   */
  edgeChunks: "truncated" | "padded";
  /** Reads also accept edge chunks in the other form (Precomputed's sharded files from other writers are padded). */
  acceptBothEdges?: boolean;
}

/** One shard object and the chunks it holds. */
export interface ShardRef {
  /** The shard's name (a file name inside its mip's directory, for Precomputed). */
  shard: string;
  /** Every chunk of the shard, as boxes of the mip's grid truncated at the bounds. */
  chunks: Bbox[];
}

/**
 * A mip whose chunks live many to an object (Precomputed's sharded format, zarr v3's
 * sharding codec): a key-value adapter from chunk ids to array-encoded chunk bytes.
 * A shard cannot be patched, so writes cover whole shards.
 */
export interface ShardedChunks {
  /**
   * Equal signatures mean the same chunk ids in the same shard files with the same
   * index encoding: a transfer between them copies shard files as stored.
   */
  readonly signature: string;
  /**
   * When every shard is a box of the grid (Precomputed's spatially sharded images), its
   * voxel shape, anchored at the voxel offset: writes cut on this grid touch whole shards
   * (parallel uploads split on it). Undefined when shards mix chunks from all over.
   */
  readonly brick?: Vec3;
  /**
   * Writes may cover part of a shard (zarr v3): the engine rebuilds each shard it touches
   * from the new chunks and the stored bytes of the others (read-modify-write of that one
   * shard object). Without it, a write must cover whole shards (Precomputed, sharded.md).
   * Concurrent writers must still split their work on shard boundaries.
   */
  readonly patchable?: boolean;
  /** Which shard holds a chunk (a box of the grid, truncated at the bounds), and its id there. */
  locate(chunk: Bbox): { shard: string; id: bigint };
  /** The storage key of a shard, for messages and copies. */
  keyOf(shard: string): string;
  /** The shards `region` touches, each with all of its chunks. */
  shardsTouching(region: Bbox): ShardRef[];
  /** For an ALIGNMENT error: how writes of this mip must be cut (`bbox` is the refused box). */
  alignmentHint(bbox: Bbox): string;
  /** Array-encoded bytes of the chunks found (missing ids are absent); `raw` keeps a data encoding such as gzip. */
  getMany(ids: readonly bigint[], opts?: { signal?: AbortSignal; raw?: boolean }): Promise<Map<bigint, Uint8Array>>;
  /** Which ids are stored, answered from the shard indices. */
  has(ids: readonly bigint[], opts?: { signal?: AbortSignal }): Promise<Set<bigint>>;
  /** Build and put one shard from its chunks' array-encoded bytes; with no entries, delete it. */
  writeShard(shard: string, entries: ReadonlyArray<readonly [bigint, Uint8Array]>, opts?: { cacheControl?: string; signal?: AbortSignal }): Promise<void>;
  /** Put a shard's bytes as stored elsewhere (a copy between equal signatures). */
  putShard(shard: string, bytes: Uint8Array, opts?: { cacheControl?: string; signal?: AbortSignal }): Promise<void>;
  deleteShard(shard: string, signal?: AbortSignal): Promise<void>;
}

/** An opened layer: its metadata, chunk naming and chunk pipeline. */
export interface FormatLayer {
  /** The format's name (a FormatPlugin name: "precomputed", "zarr", ...). */
  readonly format: string;
  /** The cloudpath the layer was opened at, or where redirects led. */
  readonly url: string;
  /** `url` parsed; the engine uses its protocol for the Context's limiters. */
  readonly parsed: ParsedUrl;
  /**
   * The layer's storage root; chunk keys are relative to it. The engine replaces it once,
   * right after open, with the same store behind its caches (disk cache, LRU): a driver
   * reads `this.store` at each use and keeps no other reference for IO.
   */
  store: KeyValueStore;
  /**
   * The metadata, in Precomputed's info form. The engine reads geometry from it at each
   * call, so changes (a new scale, a new encoding) apply at once; commitInfo persists them.
   */
  info: LayerInfo;
  readonly capabilities: FormatCapabilities;
  /** The storage key of the chunk covering `chunk` (a box of mip's grid, truncated at the bounds). */
  chunkKey(chunk: Bbox, mip: number): string;
  /** Key prefix under which a mip's chunks are stored (listing answers hasData). */
  chunkPrefix(mip: number): string;
  /** The chunk pipeline of a mip (codecs come from the Context, so this may load a plugin). */
  pipeline(mip: number): Promise<ChunkPipeline>;
  /**
   * Transfer compression of written chunk objects when the volume's `compress` option does
   * not say (a compression plugin's name, e.g. "gzip"); undefined for none.
   */
  defaultCompression?(mip: number): string | undefined;
  /**
   * Set a mip's storage layout (formats with `capabilities.sharded`): `true` = sharded with
   * the format's own parameter choice, an object = that sharding spec, `false` = one object
   * per chunk. Changes `info` only (the engine commits); returns whether it changed.
   */
  setSharding?(mip: number, sharded: boolean | Record<string, unknown>): boolean;
  /** Value of voxels no chunk covers (zarr's fill_value); the volume's backgroundColor overrides it. Default 0. */
  fillValue?(mip: number): number | bigint;
  /** The shard adapter of a sharded mip; undefined when its chunks are one object each. */
  sharded?(mip: number): ShardedChunks | undefined;
  /** Why this layer refuses writes (e.g. "opened through a redirect"), or undefined. */
  readOnlyReason?(): string | undefined;
  /** Called once after the engine has put its caches in front of `store`: read what else the layer needs. */
  opened?(signal?: AbortSignal): Promise<void>;
  /** Persist `info` in the format's own metadata (INVALID_METADATA when it cannot hold it). */
  commitInfo(): Promise<void>;
  /** Re-read the metadata from storage into `info`. */
  refreshInfo(signal?: AbortSignal): Promise<LayerInfo>;
  close?(): Promise<void>;
}

/** What FormatDriver.open is given besides the location. */
export interface FormatOpenOptions {
  /** Open a new layer with this metadata instead of reading it (persisted by commitInfo). */
  info?: LayerInfo | Record<string, unknown>;
  signal?: AbortSignal;
  /** Options the engine does not know (a driver's own: Precomputed's maxRedirects, provenance, ...). */
  [option: string]: unknown;
}

/** A format driver: what a FormatPlugin's load() returns. */
export interface FormatDriver {
  /** Names it answers to, as in the plugin descriptor. */
  readonly name: string;
  /**
   * Open the layer at `url` (its format prefix already matched this driver). When there is
   * no layer there, throw NOT_FOUND with `key` set to the metadata key (Precomputed: "info"):
   * `cloudvolume cp` takes exactly that as "create the destination".
   */
  open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions): Promise<FormatLayer>;
}
