import {
  Bbox, CloudVolumeError, Context, isCloudVolumeError, type BboxLike, type ContextOptions, type DataType, type FormatCapabilities, type Plugin,
  type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import {
  ChunkedVolume, unsupported, type Cutout, type IoOptions, type TransferStats, type LayerCache, type LRU,
  deleteLayer, deleteRegion, downloadFiles, downloadPoint, downloadWith, exists, hasData, memoryCutout, scatteredPoints, setMipLocks,
  transferWith, unique,
  type DownloadFilesOptions, type DownloadOptions, type DownloadPointOptions, type MemoryCutoutOptions, type OperationOptions,
  type RenumberedCutout, type ScatteredPointsOptions, type TransferToOptions, type UniqueOptions,
} from "@cloudvolume/chunks";
import {
  PrecomputedLayer, addScale, createNewInfo, emptyProvenance, resetScales, type AddScaleOptions,
  type NewInfoOptions, type PrecomputedInfo, type PrecomputedOptions, type Provenance, type ScaleInfo, type ShardingSpecJson,
} from "@cloudvolume/format-precomputed";
import { SkeletonSource, MeshSource, type Skeleton, type Mesh } from "@cloudvolume/format-precomputed";
import { openSpatialIndex, type SpatialIndex, type SpatialIndexDb, type SpatialIndexKind } from "@cloudvolume/format-precomputed";
import { toHttpsUrl } from "@cloudvolume/storage-http";

import { chunksOf, progressFor, threadsFor, transferChunks, type ParallelOptions, type ParallelRuntime } from "./parallel.js";

/** Spatial-index queries on vol.mesh and vol.skeleton (CloudVolume's get_by_bbox / get_bbox). Boxes are physical (nm). */
export interface SpatialQueries<T> {
  /** Every object whose indexed box intersects `bbox`, by label. */
  getByBbox(bbox: BboxLike, opts?: { mip?: number; allowMissing?: boolean; signal?: AbortSignal }): Promise<Map<bigint, T>>;
  /** The indexed bounding box of `label`, or undefined when the index does not list it. */
  getBbox(label: bigint | number | string, opts?: { mip?: number; signal?: AbortSignal }): Promise<Bbox | undefined>;
}

export interface CloudVolumeOptions extends PrecomputedOptions, ParallelOptions {
  /** Share limits and loaded plugins between volumes by passing one Context. */
  context?: Context;
  /** Extra plugins, tried before the defaults (ignored when `context` is given). */
  plugins?: Plugin[];
  concurrency?: ContextOptions["concurrency"];
  /**
   * The allocator for large cutouts (ignored when `context` is given). Node's entry
   * defaults to @cloudvolume/memory's recycling allocator; `false` turns it off.
   */
  allocate?: ContextOptions["allocate"] | false;
  /** Read gs://, s3:// (and matrix://) through their public HTTPS endpoints (CloudVolume's use_https). */
  useHttps?: boolean;
  /**
   * A SQLite database built by `toSqlite` (@cloudvolume/spatial-index-sqlite, Node only):
   * spatial index label lookups and whole-bounds queries answer from it (CloudVolume's spatial_index_db).
   */
  spatialIndexDb?: string;
}

/** A Precomputed layer under the chunk engine: what meshes, skeletons and provenance need. */
type PrecomputedChunks = ChunkedVolume<PrecomputedLayer>;

/**
 * The CloudVolume API: one layer of any format the Context has a plugin for, one current
 * mip, downloads and uploads as Fortran-ordered (x, y, z, channel) arrays. A thin, typed
 * face over the chunk engine with a default plugin set supplied by the entry point; what
 * a format cannot do (meshes on a format without them, ...) fails with UNSUPPORTED
 * naming the format and the operation.
 */
export class CloudVolume {
  /** @internal Use CloudVolume.open. */
  constructor(protected readonly vol: ChunkedVolume, readonly context: Context) {}

  /** Worker threads and progress bars, supplied by the entry point (Node's index.ts); none in the browser. */
  protected runtime(): ParallelRuntime | undefined {
    return undefined;
  }

  /**
   * Open `[format://]protocol://path` (a bare path is local disk; the format defaults to
   * precomputed) with the format plugin the Context has for it: an unknown format is
   * UNSUPPORTED_SCHEME naming how to add a plugin.
   */
  static async openWith<T extends CloudVolume>(this: new (vol: ChunkedVolume, ctx: Context) => T, defaults: () => Plugin[], url: string, options: CloudVolumeOptions = {}): Promise<T> {
    const ctx = options.context ?? new Context({ plugins: [...(options.plugins ?? []), ...defaults()], concurrency: options.concurrency, allocate: options.allocate || undefined });
    if (options.useHttps) url = toHttpsUrl(url);
    const vol = await ChunkedVolume.open(ctx, url, options as CloudVolumeOptions & Record<string, unknown>);
    return new this(vol, ctx);
  }

  /** The format of the layer ("precomputed", or a plugin's name). */
  get format(): string { return this.vol.format; }
  /** What the layer's format can do (write, sharded, meshes, skeletons, provenance, locks). */
  get capabilities(): FormatCapabilities { return this.vol.layer.capabilities; }

  /** The layer as a Precomputed one, for what only that format has; UNSUPPORTED elsewhere. */
  private precomputed(what: string): PrecomputedChunks {
    if (!(this.vol.layer instanceof PrecomputedLayer)) throw unsupported(this.vol, what);
    return this.vol as PrecomputedChunks;
  }

  /** Build a new info (CloudVolume.create_new_info); pass it as `info` to open, then commitInfo(). */
  static createNewInfo(o: NewInfoOptions): PrecomputedInfo {
    return createNewInfo(o);
  }

  get url(): string { return this.vol.url; }
  private skeletonSource?: SkeletonSource & SpatialQueries<Skeleton>;
  /**
   * Skeletons (CloudVolume's vol.skeleton): get/getMany (physical space), upload, uploadRaw;
   * sharded or not; getByBbox/getBbox through the spatial index.
   */
  get skeleton(): SkeletonSource & SpatialQueries<Skeleton> {
    if (!this.capabilities.skeletons) throw unsupported(this.vol, "skeletons (vol.skeleton)");
    return (this.skeletonSource ??= this.withSpatialQueries(new SkeletonSource(this.precomputed("skeletons (vol.skeleton)")), "skeleton", (src, ids, o) => src.getMany(ids, o)));
  }
  private meshSource?: MeshSource & SpatialQueries<Mesh>;
  /**
   * Meshes (CloudVolume's vol.mesh): get/save/put/delete/exists; legacy or multires Draco,
   * sharded or not; getByBbox/getBbox through the spatial index.
   */
  get mesh(): MeshSource & SpatialQueries<Mesh> {
    if (!this.capabilities.meshes) throw unsupported(this.vol, "meshes (vol.mesh)");
    return (this.meshSource ??= this.withSpatialQueries(MeshSource.forVolume(this.precomputed("meshes (vol.mesh)")), "mesh", async (src, ids, o) => {
      // Like get(..., {fuse: false}): physical space, one mesh per label; missing ones skipped when allowed.
      const out = new Map<bigint, Mesh>();
      for (const id of ids) {
        try {
          const m = await src.get([id], { fuse: true, signal: o.signal });
          out.set(id, m);
        } catch (e) {
          if (!(o.allowMissing && isCloudVolumeError(e, "NOT_FOUND"))) throw e;
        }
      }
      return out;
    }));
  }

  /**
   * Adds CloudVolume's spatial-index queries to a mesh or skeleton source. They go
   * through `spatialIndex(kind)`, so the spatialIndexDb option (SQLite) applies.
   */
  private withSpatialQueries<S extends object, T>(
    src: S, kind: SpatialIndexKind,
    fetch: (src: S, ids: bigint[], o: { allowMissing?: boolean; signal?: AbortSignal }) => Promise<Map<bigint, T>>,
  ): S & SpatialQueries<T> {
    const index = async (mip?: number, signal?: AbortSignal) => {
      const si = await this.spatialIndex(kind, { mip, signal });
      if (!si) throw new CloudVolumeError("INVALID_METADATA", `the ${kind} info of ${this.url} has no spatial_index`, { url: this.url });
      return si;
    };
    const queries: SpatialQueries<T> = {
      getByBbox: async (bbox, o = {}) => {
        const labels = await (await index(o.mip, o.signal)).queryLabels(bbox, { allowMissing: o.allowMissing });
        return fetch(src, [...labels], o);
      },
      getBbox: async (label, o = {}) => (await index(o.mip, o.signal)).getBbox(label),
    };
    return Object.assign(src, queries);
  }
  /** The layer's metadata in Precomputed's info form (every format presents one, as in CloudVolume). */
  get info(): PrecomputedInfo { return this.vol.info as PrecomputedInfo; }
  set info(info: PrecomputedInfo) { this.vol.info = info; }
  /** The provenance file (Precomputed); an empty one for formats that have none. */
  get provenance(): Provenance {
    return this.vol.layer instanceof PrecomputedLayer ? this.vol.layer.provenance : (this.noProvenance ??= emptyProvenance());
  }
  set provenance(p: Provenance) { this.precomputed("provenance").layer.provenance = p; }
  private noProvenance?: Provenance;
  get mip(): number { return this.vol.mip; }
  set mip(m: number | Vec3) { this.vol.mip = this.vol.mipIndex(m); }
  get scales(): ScaleInfo[] { return this.info.scales; }
  get scale(): ScaleInfo { return this.vol.scale() as ScaleInfo; }
  get dtype(): DataType { return this.vol.dtype; }
  get dataType(): DataType { return this.vol.dtype; }
  get numChannels(): number { return this.vol.numChannels; }
  get layerType(): string { return this.vol.layerType; }
  get readOnly(): boolean { return this.vol.readOnly; }
  /** The on-disk cache (`cache`, `compressCache`): enabled, path, list, numFiles, numBytes, flush, flushRegion, flushInfo, flushProvenance. */
  get cache(): LayerCache { return this.vol.cache; }
  /** The in-memory chunk LRU (`lruBytes`, `lruEncoding`): resize, clear, length, nbytes. */
  get lru(): LRU<string> { return this.vol.lru.lru; }
  /** Bounds of the current mip in voxels. */
  get bounds(): Bbox { return this.vol.bounds(); }
  get size(): Vec3 { return this.vol.bounds().size(); }
  /** [x, y, z, channels] at the current mip. */
  get shape(): [number, number, number, number] {
    const s = this.size;
    return [s[0], s[1], s[2], this.numChannels];
  }
  get resolution(): Vec3 { return this.vol.resolution(); }
  get chunkSize(): Vec3 { return this.vol.chunkSize(); }
  get voxelOffset(): Vec3 { return this.vol.voxelOffset(); }
  get encoding(): string { return this.vol.encoding(); }
  get key(): string { return this.vol.scale().key; }
  get availableMips(): number[] { return this.vol.info.scales.map((_, i) => i); }

  mipBounds(mip: number | Vec3): Bbox { return this.vol.bounds(mip); }
  mipResolution(mip: number | Vec3): Vec3 { return this.vol.resolution(mip); }
  mipChunkSize(mip: number | Vec3): Vec3 { return this.vol.chunkSize(mip); }
  mipVoxelOffset(mip: number | Vec3): Vec3 { return this.vol.voxelOffset(mip); }
  bboxToMip(bbox: BboxLike, fromMip: number | Vec3, toMip: number | Vec3): Bbox { return this.vol.bboxToMip(bbox, fromMip, toMip); }
  /** Storage key of a chunk box at `mip`. */
  chunkKey(chunk: BboxLike, mip?: number | Vec3): string { return this.vol.chunkKey(Bbox.from(chunk), mip); }

  /** Read a box ([x0,y0,z0,x1,y1,z1], a Bbox, {min,max} or "x0-x1_y0-y1_z0-z1"). */
  download(bbox: BboxLike, opts: DownloadOptions & ParallelOptions & { renumber: true }): Promise<RenumberedCutout>;
  download(bbox: BboxLike, opts?: DownloadOptions & ParallelOptions): Promise<Cutout>;
  /**
   * CloudVolume's download options: `renumber` (labels 1..N in uint16/uint32, plus
   * `remap` old -> new), `label` (a uint8 mask of one label), `segids` (other labels
   * set to 0, or to the dtype's maximum with `preserveZeros`).
   */
  download(bbox: BboxLike, opts: DownloadOptions & ParallelOptions = {}): Promise<Cutout | RenumberedCutout> {
    return this.withIo("download", bbox, opts, (io) => {
      if (opts.renumber || opts.label !== undefined || opts.segids) return downloadWith(this.vol, bbox, { ...opts, ...io });
      return this.vol.download(bbox, { ...opts, ...io });
    });
  }

  /**
   * download, with the cutout's `data` on a SharedArrayBuffer (CloudVolume's
   * download_to_shared_memory): post it, or its buffer, to other workers and they read
   * the same memory, no copy made.
   */
  downloadToSharedMemory(bbox: BboxLike, opts: IoOptions & ParallelOptions = {}): Promise<Cutout> {
    return this.withIo("download", bbox, opts, (io) => this.vol.download(bbox, { ...opts, ...io, shared: true }));
  }

  /** Write `data` (a typed array of the layer's dtype in Fortran order, or {data, shape}) to `bbox`. */
  upload(bbox: BboxLike, data: VolumeArray | TypedArray, opts: IoOptions & ParallelOptions = {}): Promise<void> {
    return this.withIo("upload", bbox, opts, async (io, threads) => {
      const rt = this.runtime();
      // Worker threads write whole chunks (shards) each, when the box allows it; else this thread does it all.
      if (threads > 1 && rt && (await rt.upload(this.context, this, threads, this.vol, bbox, data, { ...opts, ...io }))) return;
      await this.vol.upload(bbox, data, { ...opts, ...io });
    });
  }

  /** `parallel` and `progress` of one call (falling back to the volume's), as IoOptions for the format layer. */
  private async withIo<T>(what: "download" | "upload", bbox: BboxLike, opts: IoOptions & ParallelOptions, run: (io: IoOptions, threads: number) => Promise<T>): Promise<T> {
    const defaults = this.vol.options as ParallelOptions;
    const rt = this.runtime();
    const mip = this.vol.mipIndex(opts.mip);
    const threads = threadsFor(opts.parallel ?? defaults.parallel, rt);
    const progress = opts.progress ?? defaults.progress;
    const p = progressFor(progress, progress ? chunksOf(this.vol, bbox, mip) : 0, `${what} ${this.url}`, rt);
    const onChunk = opts.onChunk && p.onChunk ? () => { opts.onChunk!(); p.onChunk!(); } : opts.onChunk ?? p.onChunk;
    const io: IoOptions = { onChunk };
    if (what === "download" && threads > 1 && rt) io.painter = rt.painter(this.context, this, threads);
    const result = await run(io, threads);
    p.finish();
    return result;
  }

  /**
   * Check that writes to `mip` (default: the current one) can go, without writing: the
   * layer and its storage are writable, the scale is not locked, and its encoding has a
   * codec that encodes (READ_ONLY, UNSUPPORTED, UNKNOWN_CODEC or INVALID_METADATA otherwise).
   */
  async checkWritable(mip?: number | Vec3): Promise<void> {
    const m = this.vol.mipIndex(mip);
    this.vol.assertMipWritable(m);
    await this.vol.writer(m);
  }

  addScale(factor: Vec3, opts?: AddScaleOptions): ScaleInfo { return addScale(this.info, factor, opts); }
  resetScales(): void { resetScales(this.info); }
  commitInfo(): Promise<void> { return this.vol.commitInfo(); }
  async commitProvenance(): Promise<void> {
    const vol = this.precomputed("provenance (commitProvenance)");
    vol.assertWritable("provenance");
    await vol.layer.commitProvenance();
  }
  async refreshInfo(): Promise<PrecomputedInfo> { return (await this.vol.refreshInfo()) as PrecomputedInfo; }
  refreshProvenance(): Promise<Provenance> { return this.precomputed("provenance (refreshProvenance)").layer.refreshProvenance(); }
  /** The compression writes use at `mip` ("gzip", "br", or undefined for none). */
  writeCompression(mip?: number): string | undefined { return this.vol.writeCompression(mip); }

  /**
   * Copy one mip (default: the current one) into `dst` chunk by chunk, re-encoding
   * only where `dst`'s encoding or compression differs. Never holds the whole volume.
   * `sharded: true` writes `dst`'s scale in the sharded format (CloudVolume's parameter
   * choice), `false` as plain chunk files; a sharded destination is written whole
   * shards at a time, so `bbox` must cover whole shards. `encoding` re-encodes (setting
   * and committing `dst`'s scale encoding first), `compress` overrides `dst`'s transfer
   * compression for this transfer, `blockSize` is the unit of work when the grids differ.
   */
  async transferTo(dst: CloudVolume, opts: TransferToOptions & ParallelOptions = {}): Promise<TransferStats> {
    const mip = this.vol.mipIndex(opts.mip ?? this.mip);
    const defaults = this.vol.options as ParallelOptions;
    const rt = this.runtime();
    const threads = threadsFor(opts.parallel ?? defaults.parallel, rt);
    const progress = opts.progress ?? defaults.progress;
    const p = progressFor(progress, progress ? transferChunks(this.vol, dst.vol, opts.bbox, mip) : 0, `cp ${this.url}`, rt);
    const onChunk = opts.onChunk && p.onChunk ? () => { opts.onChunk!(); p.onChunk!(); } : opts.onChunk ?? p.onChunk;
    let stats: TransferStats | undefined;
    // On worker threads, block by block, when only the layout may change (encoding, compress and blockSize stay on this thread).
    if (threads > 1 && rt && opts.encoding === undefined && opts.compress === undefined && opts.blockSize === undefined) {
      const scale = dst.vol.info.scales[mip];
      // The layout is set once, here (the workers get the committed info); a refused write is left to transferWith to report.
      if (opts.sharded !== undefined && scale && !scale.locked && !dst.readOnly) await dst.vol.setSharding(mip, opts.sharded as boolean | Record<string, unknown>);
      stats = await rt.transfer(this.context, this, threads, this.vol, dst.vol, { mip, bbox: opts.bbox, signal: opts.signal, onChunk });
    }
    stats ??= await transferWith(this.vol, dst.vol, { ...opts, mip, onChunk });
    p.finish();
    return stats;
  }

  // ---- operations (format-precomputed/src/operations.ts) -----------------------------

  /** Which chunks of `bbox` are stored: chunk key -> boolean (CloudVolume's exists; sharded scales per chunk). */
  exists(bbox: BboxLike, opts: OperationOptions = {}): Promise<Record<string, boolean>> { return exists(this.vol, bbox, opts); }
  /** Delete the chunks of a chunk-aligned `bbox` (whole shards on sharded scales); returns the keys deleted. */
  delete(bbox: BboxLike, opts: OperationOptions = {}): Promise<string[]> { return deleteRegion(this.vol, bbox, opts); }
  /** True when the scale's directory holds any object (CloudVolume's image.has_data). */
  hasData(mip?: number | Vec3): Promise<boolean> { return hasData(this.vol, mip); }
  /** The distinct values in `bbox`, ascending, without painting the box. */
  unique(bbox: BboxLike, opts: UniqueOptions = {}): Promise<TypedArray> { return unique(this.vol, bbox, opts); }
  /** The cutout around a point given in mip 0 voxels (CloudVolume's download_point; default size 1). */
  downloadPoint(pt: readonly number[], opts: DownloadPointOptions = {}): Promise<Cutout> { return downloadPoint(this.vol, pt, opts); }
  /** The value (channel 0) at each point (mip 0 voxels), in input order; bigints for 64-bit layers. */
  scatteredPoints(points: ReadonlyArray<readonly number[]>, opts: ScatteredPointsOptions = {}): Promise<Array<number | bigint>> {
    return scatteredPoints(this.vol, points, opts);
  }
  /** The stored chunk files of `bbox`: chunk key -> bytes (undefined when missing), without painting. */
  downloadFiles(bbox: BboxLike, opts: DownloadFilesOptions = {}): Promise<Map<string, Uint8Array | undefined>> {
    return downloadFiles(this.vol, bbox, opts);
  }

  /**
   * A disposable mem:// copy of the chunks covering `bbox` (CloudVolume's memory_cutout),
   * unsharded, optionally re-encoded. Its close() deletes its objects.
   */
  async memoryCutout(bbox: BboxLike, opts: MemoryCutoutOptions = {}): Promise<this> {
    const vol = await memoryCutout(this.vol, bbox, { ...opts, mip: opts.mip ?? this.mip });
    const Ctor = this.constructor as new (vol: ChunkedVolume, ctx: Context) => this;
    const cut = new Ctor(vol, this.context);
    cut.close = async () => {
      await deleteLayer(vol);
      await vol.close();
    };
    return cut;
  }

  /** Write-lock scales (CloudVolume's lock_mips): re-reads the info, sets `locked`, commits. */
  lockMips(mips: number | readonly number[]): Promise<void> { return setMipLocks(this.vol, mips, true); }
  /** Release write locks (CloudVolume's unlock_mips: `locked` becomes false). */
  unlockMips(mips: number | readonly number[]): Promise<void> { return setMipLocks(this.vol, mips, false); }
  lockMip(mip: number): Promise<void> { return this.lockMips(mip); }
  unlockMip(mip: number): Promise<void> { return this.unlockMips(mip); }
  /** Mips whose scale is write-locked. */
  get lockedMips(): number[] { return this.info.scales.flatMap((s, i) => (s.locked ? [i] : [])); }

  /** True when the mip (default: the current one) is stored in the sharded format. */
  isSharded(mip?: number | Vec3): boolean { return this.vol.isSharded(mip); }
  /** Voxel shape of one shard (CloudVolume's shard_shape); sharded uploads cover whole shards. */
  shardShape(mip?: number | Vec3): Vec3 {
    const vol = this.precomputed("shard shapes (shardShape)");
    return vol.layer.shards(vol.mipIndex(mip)).layout.shardShape;
  }
  /** Shard (`true`: CloudVolume's parameters, or a given spec) or unshard a scale, committing the info. */
  setSharding(mip: number, sharded: boolean | ShardingSpecJson): Promise<void> { return this.vol.setSharding(mip, sharded as boolean | Record<string, unknown>); }

  /**
   * The spatial index of the layer's meshes or skeletons (`<dir>/info`'s spatial_index;
   * CloudVolume's vol.mesh.spatial_index / vol.skeleton.spatial_index), or undefined when
   * there is none. Coordinates are physical (nm). `db` (default: the spatialIndexDb option)
   * is a SQLite path opened with @cloudvolume/spatial-index-sqlite, or a SpatialIndexDb;
   * null forces the JSON files.
   */
  async spatialIndex(kind: SpatialIndexKind, opts: { db?: string | SpatialIndexDb | null; mip?: number; signal?: AbortSignal } = {}): Promise<SpatialIndex | undefined> {
    const index = await openSpatialIndex(this.precomputed(`the ${kind} spatial index`), kind, { mip: opts.mip, signal: opts.signal });
    const db = opts.db === undefined ? (this.vol.options as CloudVolumeOptions).spatialIndexDb : opts.db;
    if (!index || db === null || db === undefined) return index;
    if (typeof db !== "string") return index.withDb(db);
    const sqlite = await loadSqlite();
    const opened = sqlite.SqliteSpatialIndexDb.open(db);
    (this.openedDbs ??= []).push(opened);
    return index.withDb(opened);
  }

  private openedDbs?: SpatialIndexDb[];

  /** Release handles and pooled buffers. The volume is unusable afterwards. */
  async close(): Promise<void> {
    for (const db of this.openedDbs?.splice(0) ?? []) db.close?.();
    await this.runtime()?.release(this.context, this); // the last volume using the worker pool stops its threads
    await this.vol.close();
  }
}

/** @cloudvolume/spatial-index-sqlite, loaded on first use (Node only: better-sqlite3); an optional peer dependency. */
async function loadSqlite(): Promise<{ SqliteSpatialIndexDb: { open(path: string): SpatialIndexDb } }> {
  const name = "@cloudvolume/spatial-index-sqlite";
  try {
    return await import(/* @vite-ignore */ name);
  } catch (cause) {
    throw new CloudVolumeError("UNSUPPORTED_SCHEME", `spatialIndexDb needs the package ${name} (Node only, better-sqlite3): ${(cause as Error)?.message ?? cause}`, { cause });
  }
}
