import {
  Bbox, BufferPool, CloudVolumeError, Context, allocateArray, bytesOf, chunksInRegion, copyBox, dtypeInfo,
  fillPattern, forEachConcurrent, isCloudVolumeError, isUniform, mapConcurrent, scalarBytes, throwIfAborted, vequal, withRetry,
  type ArrayCodec, type BboxLike, type ByteCodec, type ChunkSpec, type DataType, type KeyValueStore,
  type ParsedUrl, type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import { parseInfo, serializeJson, type PrecomputedInfo, type ScaleInfo } from "./info.js";
import { emptyProvenance, parseProvenance, type Provenance } from "./provenance.js";
import { storedEdgeExtent } from "./sharding/edge.js";
import { ShardedImageLayout, type ImageShard } from "./sharding/image.js";
import { computeShardParamsForImage } from "./sharding/params.js";
import { ShardedStore } from "./sharding/reader.js";
import { parseShardingSpec, shardingSpecToJson, type ShardingSpec, type ShardingSpecJson } from "./sharding/spec.js";
import { encodeShard } from "./sharding/writer.js";
import { splitJobs, type ChunkPainter } from "./parallel.js";
import { ChunkLru } from "./cache/chunk-lru.js";
import { LayerCache, openDiskCache, type CacheOptions } from "./cache/disk-cache.js";

/** Options that shape reads and writes; names follow CloudVolume's constructor in camelCase. */
export interface PrecomputedOptions extends CacheOptions {
  /** Default mip: an index, or a resolution [x, y, z] that one scale has. */
  mip?: number | Vec3;
  /** Requests outside the bounds are an error (default true). */
  bounded?: boolean;
  /** Crop requests to the bounds instead of failing (default false). */
  autocrop?: boolean;
  /** Missing chunks read as backgroundColor instead of failing (default false). */
  fillMissing?: boolean;
  backgroundColor?: number | bigint;
  /** A chunk that is entirely backgroundColor is deleted instead of written (default false). */
  deleteBlackUploads?: boolean;
  /** Allow writes not aligned to the chunk grid: edge chunks are read, painted and rewritten. */
  nonAlignedWrites?: boolean;
  /** Transfer compression for writes: undefined = CloudVolume's default for the encoding; true = gzip. */
  compress?: boolean | "gzip" | "br" | "zstd" | "none" | null;
  compressLevel?: number;
  /** Cache-Control for writes: true = "public, max-age=3600", false/0 = "no-cache", seconds, or a literal header. */
  cdnCache?: boolean | number | string;
  /** Use this info instead of reading one (to create a layer; persist with commitInfo). */
  info?: PrecomputedInfo | Record<string, unknown>;
  provenance?: Partial<Provenance>;
  /** How many `redirect` hops to follow (default 10; 0 = do not follow). */
  maxRedirects?: number;
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
   * layer's storage protocol or the cutout has a single chunk.
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
   * Layout of the destination scale: `true` shards it (parameters as CloudVolume's
   * compute_shard_params_for_image unless it already has a sharding spec), a spec object
   * shards it with that spec, `false` stores plain chunk files; undefined keeps the
   * destination's info as it is. A changed info is committed before any data is written.
   */
  sharded?: boolean | ShardingSpecJson;
}

export interface TransferStats {
  /** Source chunks visited. */
  chunks: number;
  /** Chunks (or, for identical sharded scales, chunks in whole shard files) copied as stored. */
  copied: number;
  /** Chunks decoded and re-encoded. */
  recoded: number;
}

/** The parsed sharding of one scale, rebuilt whenever the scale's info changes. */
interface ShardedScale {
  signature: string;
  spec: ShardingSpec;
  layout: ShardedImageLayout;
  store: ShardedStore;
}

/**
 * Compression ratio from which a gzip chunk is inflated on the calling thread into a pooled
 * buffer (inflateOnThread's default). Measured on a 2-core VM, 512x512x64 from 64^3 chunks:
 * uint64 segmentation (~220x) reads in 134 ms this way vs 163 ms on the thread pool, and
 * peaks at ~0.95x the output instead of 1.5x; EM-like uint8 (~2x) is faster on the pool
 * (47 ms vs 61 ms: the pool inflates on both cores).
 */
const INFLATE_HERE_RATIO = 8;

/** Chunks per getMany batch when reading a sharded region: bounds the compressed bytes held at once. */
const SHARD_READ_BATCH = 512;

/** A cutout as returned by download: Fortran-ordered (x, y, z, channel). */
export interface Cutout extends VolumeArray {
  bbox: Bbox;
  mip: number;
}

/** Encodings CloudVolume gzips by default (should_compress in cloudvolume). */
const GZIP_BY_DEFAULT = new Set(["raw", "compressed_segmentation", "compresso", "crackle"]);
const SUFFIX_ENCODINGS = ["gzip", "br", "zstd"];

export function cacheControlFor(cdnCache: boolean | number | string | undefined): string {
  if (cdnCache === undefined || cdnCache === true) return "public, max-age=3600";
  if (cdnCache === false) return "no-cache";
  if (typeof cdnCache === "number") {
    if (!Number.isInteger(cdnCache) || cdnCache < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `cdnCache must be a non-negative integer number of seconds, got ${cdnCache}`);
    return cdnCache === 0 ? "no-cache" : `public, max-age=${cdnCache}`;
  }
  return cdnCache;
}

/**
 * A Precomputed image or segmentation layer over a key-value store. Knows the
 * info, the chunk grid of every scale and how to move voxels in and out of it
 * (volume.md). Stateless apart from the info and provenance it holds.
 */
export class PrecomputedVolume {
  info: PrecomputedInfo;
  provenance: Provenance;
  mip: number;
  readonly options: Required<Pick<PrecomputedOptions, "bounded" | "autocrop" | "fillMissing" | "deleteBlackUploads" | "nonAlignedWrites">> & PrecomputedOptions;
  /** The on-disk cache (`cache`, `compressCache`; CloudVolume's vol.cache). Set by open(). */
  cache!: LayerCache;
  /** The in-memory chunk LRU (`lruBytes`, `lruEncoding`; CloudVolume's vol.image.lru). Set by open(). */
  lru!: ChunkLru;
  private readonly pool = new BufferPool();
  private readonly shardedScales = new Map<number, ShardedScale>();

  private constructor(
    readonly ctx: Context,
    readonly url: string,
    readonly store: KeyValueStore,
    readonly parsed: ParsedUrl,
    info: PrecomputedInfo,
    provenance: Provenance,
    /** True when the layer was reached through an info `redirect`: writes are refused. */
    readonly redirected: boolean,
    options: PrecomputedOptions,
  ) {
    this.info = info;
    this.provenance = provenance;
    this.options = {
      bounded: true, autocrop: false, fillMissing: false, deleteBlackUploads: false, nonAlignedWrites: false,
      ...options,
    };
    this.mip = 0;
    this.mip = this.mipIndex(options.mip ?? 0);
  }

  static async open(ctx: Context, url: string, options: PrecomputedOptions = {}): Promise<PrecomputedVolume> {
    let parsed = ctx.parse(url);
    let store = await ctx.storage(parsed);
    let info: PrecomputedInfo;
    let redirected = false;
    if (options.info) {
      info = parseInfo(structuredClone(options.info), url);
    } else {
      const maxRedirects = options.maxRedirects ?? 10;
      const seen = [normalizeUrl(parsed.storageUrl)];
      for (let hops = 0; ; hops++) {
        info = await readInfo(store, parsed.storageUrl, options.signal);
        const target = typeof info.redirect === "string" ? info.redirect : undefined;
        if (!target || maxRedirects === 0) break;
        const next = ctx.parse(target);
        const nextId = normalizeUrl(next.storageUrl);
        if (nextId === seen[seen.length - 1]) break; // a layer that points at itself is the end of the chain
        if (seen.includes(nextId)) {
          throw new CloudVolumeError("INVALID_METADATA", `redirect cycle: ${[...seen, nextId].join(" -> ")}`, { url, key: "info" });
        }
        if (hops + 1 > maxRedirects) {
          throw new CloudVolumeError("INVALID_METADATA", `more than maxRedirects=${maxRedirects} redirects: ${[...seen, nextId].join(" -> ")}`, { url, key: "info" });
        }
        seen.push(nextId);
        parsed = next;
        store = await ctx.storage(next);
        redirected = true;
      }
      if (info.scales === undefined) info = parseInfo({ ...info, redirect: undefined }, parsed.storageUrl);
    }
    // Caches (cache/): the disk cache wraps the remote store, the LRU watches writes through it.
    let volume: PrecomputedVolume | undefined;
    const disk = await openDiskCache(ctx, parsed, store, info, !options.info, options, () => volume);
    const lru = new ChunkLru(options.lruBytes ?? 0, options.lruEncoding, (name) => ctx.codec(name));
    if (lru.enabled && lru.encoding !== "same") await ctx.codec(lru.encoding); // an unknown lruEncoding fails here, not mid-read
    store = lru.observe(disk.store);
    let provenance = emptyProvenance();
    if (options.provenance) provenance = { ...provenance, ...options.provenance } as Provenance;
    else {
      const bytes = await store.get("provenance", { signal: options.signal }).catch(() => undefined);
      if (bytes) provenance = parseProvenance(bytes, parsed.storageUrl);
    }
    volume = new PrecomputedVolume(ctx, redirected ? parsed.storageUrl : url, store, parsed, info, provenance, redirected, options);
    volume.lru = lru;
    volume.cache = new LayerCache(volume, disk.backend, disk.enabled);
    return volume;
  }

  // ---- metadata -------------------------------------------------------------

  get dtype(): DataType {
    return this.info.data_type;
  }
  get numChannels(): number {
    return this.info.num_channels;
  }
  get layerType(): string {
    return this.info.type;
  }
  get readOnly(): boolean {
    return this.redirected || this.store.put === undefined || !this.store.capabilities.write;
  }

  /** Resolve a mip given as an index or a resolution. */
  mipIndex(mip: number | Vec3 | undefined): number {
    if (mip === undefined) return this.mip;
    const scales = this.info.scales;
    if (typeof mip === "number") {
      if (!Number.isInteger(mip) || mip < 0 || mip >= scales.length) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; this layer has mips 0..${scales.length - 1}`, { url: this.url, mip });
      }
      return mip;
    }
    const i = scales.findIndex((s) => s.resolution.every((r, d) => Math.abs(r - mip[d]) < 1e-6));
    if (i < 0) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `no scale has resolution ${mip.join(",")}; available: ${scales.map((s) => s.resolution.join(",")).join(" | ")}`, { url: this.url });
    }
    return i;
  }

  scale(mip?: number | Vec3): ScaleInfo {
    return this.info.scales[this.mipIndex(mip)];
  }
  bounds(mip?: number | Vec3): Bbox {
    const s = this.scale(mip);
    return new Bbox(s.voxel_offset, [s.voxel_offset[0] + s.size[0], s.voxel_offset[1] + s.size[1], s.voxel_offset[2] + s.size[2]]);
  }
  chunkSize(mip?: number | Vec3): Vec3 {
    return this.scale(mip).chunk_sizes[0];
  }
  voxelOffset(mip?: number | Vec3): Vec3 {
    return this.scale(mip).voxel_offset;
  }
  resolution(mip?: number | Vec3): Vec3 {
    return this.scale(mip).resolution;
  }
  encoding(mip?: number | Vec3): string {
    return this.scale(mip).encoding;
  }
  /** Storage key of the chunk covering `chunk` (already truncated to the bounds). */
  chunkKey(chunk: Bbox, mip?: number | Vec3): string {
    return `${this.scale(mip).key}/${chunk.toFilename()}`;
  }

  // ---- sharding ---------------------------------------------------------------

  /** True when the scale stores its chunks in the sharded format (volume.md "Sharded chunk storage"). */
  isSharded(mip?: number | Vec3): boolean {
    const s = this.scale(mip).sharding;
    return s !== undefined && s !== null;
  }

  /** The parsed sharding specification of a sharded scale. */
  shardingSpec(mip?: number | Vec3): ShardingSpec {
    return this.sharding(this.mipIndex(mip)).spec;
  }

  /**
   * Voxel shape of one shard of a sharded scale (CloudVolume's shard_shape): uploads
   * must cover whole shards of this shape, anchored at voxel_offset and truncated at
   * the volume's upper bound.
   */
  shardShape(mip?: number | Vec3): Vec3 {
    return this.sharding(this.mipIndex(mip)).layout.shardShape;
  }

  /** The uint64-keyed store over a sharded scale's shard files (chunk id = compressed Morton code). */
  shardedStore(mip?: number | Vec3): ShardedStore {
    return this.sharding(this.mipIndex(mip)).store;
  }

  /** The sharded layout of a scale: chunk ids and which chunks share a shard file. */
  shardLayout(mip?: number | Vec3): ShardedImageLayout {
    return this.sharding(this.mipIndex(mip)).layout;
  }

  private sharding(mip: number): ShardedScale {
    const s = this.scale(mip);
    if (!this.isSharded(mip)) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} of ${this.url} is not sharded`, { url: this.url, mip });
    const signature = JSON.stringify([s.key, s.sharding, s.size, s.voxel_offset, s.chunk_sizes[0]]);
    const known = this.shardedScales.get(mip);
    if (known && known.signature === signature) return known;
    const spec = parseShardingSpec(s.sharding, `scales[${mip}].sharding`, this.url);
    const layout = new ShardedImageLayout(spec, s.size, s.chunk_sizes[0], s.voxel_offset);
    const store = new ShardedStore(this.store, spec, {
      prefix: s.key,
      gzip: () => this.gzipCodec(),
      request: (fn, signal) => this.ctx.limiter(this.parsed.protocol).run(() => withRetry(fn, this.ctx.retry, signal), signal),
    });
    const sh = { signature, spec, layout, store };
    this.shardedScales.set(mip, sh);
    return sh;
  }

  private async gzipCodec(): Promise<ByteCodec> {
    const c = await this.ctx.compression("gzip");
    if (!c) throw new CloudVolumeError("UNKNOWN_CODEC", "the sharding specification uses gzip; install @cloudvolume/codec-gzip and pass its plugin to the Context", { url: this.url });
    return c;
  }

  /**
   * Set the layout of a scale for writing: `true` shards it (CloudVolume's parameters
   * unless it already has a spec), a spec object uses that spec, `false` unshards it.
   * Commits the info when it changed. Existing data under the other layout is not moved.
   */
  async setSharding(mip: number, sharded: boolean | ShardingSpecJson): Promise<void> {
    const scale = this.info.scales[mip];
    if (!scale) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist in ${this.url}`, { url: this.url, mip });
    const before = JSON.stringify(scale.sharding ?? null);
    if (sharded === false) delete scale.sharding;
    else if (sharded === true) {
      if (!this.isSharded(mip)) {
        scale.sharding = computeShardParamsForImage({
          size: scale.size, chunkSize: scale.chunk_sizes[0], encoding: scale.encoding, dtype: this.dtype,
        }) as unknown as Record<string, unknown>;
      }
    } else {
      scale.sharding = shardingSpecToJson(parseShardingSpec(sharded, `scales[${mip}].sharding`, this.url)) as unknown as Record<string, unknown>;
    }
    if (scale.sharding !== undefined) {
      // Validate now: a spec whose Morton bits do not fit is refused before anything is written.
      this.sharding(mip);
      if (scale.chunk_sizes.length > 1) scale.chunk_sizes = [scale.chunk_sizes[0]]; // volume.md: a sharded scale has one chunk size
    }
    if (JSON.stringify(scale.sharding ?? null) !== before) await this.commitInfo();
  }

  /** Convert a box between mips: min floors, max ceils. */
  bboxToMip(bbox: BboxLike, fromMip: number | Vec3, toMip: number | Vec3): Bbox {
    const a = this.resolution(fromMip);
    const b = this.resolution(toMip);
    const box = Bbox.from(bbox);
    const factor: Vec3 = [b[0] / a[0], b[1] / a[1], b[2] / a[2]];
    return box.rescale(factor);
  }

  async commitInfo(): Promise<void> {
    this.assertWritable("info");
    parseInfo(this.info, this.url); // never persist an info we could not read back
    await this.store.put!("info", new TextEncoder().encode(serializeJson(this.info)), { contentType: "application/json", cacheControl: "no-cache" });
  }

  async commitProvenance(): Promise<void> {
    this.assertWritable("provenance");
    await this.store.put!("provenance", new TextEncoder().encode(serializeJson(this.provenance)), { contentType: "application/json", cacheControl: "no-cache" });
  }

  async refreshInfo(): Promise<PrecomputedInfo> {
    this.info = await readInfo(this.store, this.url);
    return this.info;
  }

  async refreshProvenance(): Promise<Provenance> {
    const bytes = await this.store.get("provenance");
    this.provenance = bytes ? parseProvenance(bytes, this.url) : emptyProvenance();
    return this.provenance;
  }

  // ---- reading --------------------------------------------------------------

  /**
   * Read `bbox` at `mip`: expand to the chunk grid, fetch the chunks concurrently,
   * decode, and paint each overlap into one output allocated up front.
   */
  async download(bboxLike: BboxLike, io: IoOptions = {}): Promise<Cutout> {
    const mip = this.mipIndex(io.mip);
    const bounds = this.bounds(mip);
    let bbox = Bbox.from(bboxLike);
    if (bbox.isEmpty()) throw new CloudVolumeError("INVALID_ARGUMENT", `requested ${bbox} is empty`, { url: this.url, mip, bbox: bbox.toString() });
    if (this.options.autocrop) {
      bbox = bbox.clamp(bounds);
      if (bbox.isEmpty()) throw new CloudVolumeError("OUT_OF_BOUNDS", `requested ${Bbox.from(bboxLike)} does not overlap the bounds ${bounds} at mip ${mip}`, { url: this.url, mip, bbox: Bbox.from(bboxLike).toString() });
    } else if (this.options.bounded && !bounds.containsBbox(bbox)) {
      throw new CloudVolumeError("OUT_OF_BOUNDS", `requested ${bbox} is outside the bounds ${bounds} at mip ${mip}; pass autocrop: true or bounded: false`, { url: this.url, mip, bbox: bbox.toString() });
    }
    const size = bbox.size();
    const channels = this.numChannels;
    const fillMissing = io.fillMissing ?? this.options.fillMissing;
    const chunks = [...chunksInRegion(bbox, this.chunkSize(mip), this.voxelOffset(mip), bounds)];
    // The in-memory LRU lives in this thread, so with one the chunks are read here.
    const painter = io.painter && chunks.length > 1 && !this.lru?.enabled && io.painter.supports(this.parsed.protocol) ? io.painter : undefined;
    const out = allocateArray(this.dtype, [size[0], size[1], size[2], channels], this.background(), { shared: io.shared || painter !== undefined });
    if (painter) await this.paintInParallel(painter, out, bbox, mip, chunks, fillMissing, io);
    else await this.paintRegion(out, bbox, mip, fillMissing, io.signal, chunks, io.onChunk);
    return Object.assign(out, { bbox, mip });
  }

  /**
   * paintRegion on other threads: the chunks go out in jobs (grouped by shard file on a
   * sharded scale), each painted by a worker straight into the shared output.
   */
  private async paintInParallel(painter: ChunkPainter, out: VolumeArray, bbox: Bbox, mip: number, chunks: Bbox[], fillMissing: boolean, io: IoOptions): Promise<void> {
    const groups = this.isSharded(mip) ? this.shardBatches(this.sharding(mip), chunks).map((b) => b.map((c) => c.chunk)) : [chunks];
    const { info: _i, provenance: _p, signal: _s, lruBytes: _l, ...rest } = this.options;
    const options: Record<string, unknown> = {};
    // Only what a structured clone carries (no callbacks, no signals) goes to the workers.
    for (const [k, v] of Object.entries(rest)) if (v === null || ["string", "number", "boolean", "bigint"].includes(typeof v)) options[k] = v;
    const base = {
      url: this.url, info: serializeJson(this.info), options, mip, dtype: this.dtype,
      out: out.data.buffer as SharedArrayBuffer, outByteOffset: out.data.byteOffset, shape: out.shape,
      bbox: [...bbox.min, ...bbox.max], fillMissing,
    };
    const jobs = splitJobs(groups, painter.threads);
    // Two jobs per thread in flight, so a worker has the next job queued when it finishes one.
    await mapConcurrent(jobs, painter.threads * 2, (job) => painter.paint({ ...base, chunks: job }, { signal: io.signal, onChunk: io.onChunk }), io.signal);
  }

  /**
   * @internal For worker threads (PaintJob): paint `chunks` (boxes of `mip`'s grid,
   * truncated at the bounds) into `out`, which covers `bbox`.
   */
  paintChunks(out: VolumeArray, bbox: Bbox, mip: number, chunks: Bbox[], opts: { fillMissing: boolean; signal?: AbortSignal; onChunk?: () => void }): Promise<void> {
    return this.paintRegion(out, bbox, mip, opts.fillMissing, opts.signal, chunks, opts.onChunk);
  }

  /** Fetch every chunk overlapping `bbox` (or just `only`) and paint it into `out` (which covers `bbox`). */
  private async paintRegion(out: VolumeArray, bbox: Bbox, mip: number, fillMissing: boolean, signal?: AbortSignal, only?: Bbox[], onChunk?: () => void): Promise<void> {
    if (this.isSharded(mip)) return this.paintRegionSharded(out, bbox, mip, fillMissing, signal, only, onChunk);
    const bounds = this.bounds(mip);
    const chunks = only ?? [...chunksInRegion(bbox, this.chunkSize(mip), this.voxelOffset(mip), bounds)];
    if (chunks.length === 0) return;
    const codec = await this.ctx.codec(this.encoding(mip));
    const dst = bytesOf(out.data);
    const bpv = dtypeInfo(this.dtype).bytes;
    const dstShape: Vec3 = [out.shape[0], out.shape[1], out.shape[2]];
    await mapConcurrent(chunks, this.ctx.concurrencyOf(this.parsed.protocol) * 2, async (chunk) => {
      const key = this.chunkKey(chunk, mip);
      const voxels = await this.readChunk(key, chunk, mip, codec, signal);
      if (voxels === undefined) {
        if (!fillMissing) {
          throw new CloudVolumeError("NOT_FOUND", `chunk ${key} is missing from ${this.url}; pass fillMissing: true to read it as background`, { url: this.url, key, mip, bbox: chunk.toString() });
        }
        onChunk?.();
        return; // the output was filled with the background when allocated
      }
      const overlap = chunk.intersection(bbox);
      copyBox({
        src: voxels, srcShape: chunk.size(), srcOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]],
        dst, dstShape, dstOrigin: [overlap.min[0] - bbox.min[0], overlap.min[1] - bbox.min[1], overlap.min[2] - bbox.min[2]],
        size: overlap.size(), bytesPerVoxel: bpv, channels: out.shape[3],
      });
      this.pool.release(voxels);
      onChunk?.();
    }, signal);
  }

  /**
   * paintRegion for a sharded scale: the chunks are looked up by chunk id (compressed
   * Morton code) through the scale's ShardedStore, one batch per shard file, so each
   * shard's index is read once and adjacent chunks come back in one ranged read.
   */
  private async paintRegionSharded(out: VolumeArray, bbox: Bbox, mip: number, fillMissing: boolean, signal?: AbortSignal, only?: Bbox[], onChunk?: () => void): Promise<void> {
    const sh = this.sharding(mip);
    const batches = this.shardBatches(sh, only ?? [...chunksInRegion(bbox, this.chunkSize(mip), this.voxelOffset(mip), this.bounds(mip))]);
    if (batches.length === 0) return;
    const codec = await this.ctx.codec(this.encoding(mip));
    const dst = bytesOf(out.data);
    const bpv = dtypeInfo(this.dtype).bytes;
    const dstShape: Vec3 = [out.shape[0], out.shape[1], out.shape[2]];
    await mapConcurrent(batches, this.ctx.concurrencyOf(this.parsed.protocol), async (batch) => {
      // Chunks held by the LRU are not fetched (cache/chunk-lru.ts).
      const held = this.lru.enabled ? new Map(batch.map((c) => [c.id, this.lru.lookup(this.chunkKey(c.chunk, mip))] as const)) : undefined;
      const found = await sh.store.getMany(batch.filter((c) => held?.get(c.id) === undefined).map((c) => c.id), { signal });
      for (const { chunk, id, file } of batch) {
        const payload = found.get(id);
        const key = sh.store.keyOf(file);
        if (payload === undefined && held?.get(id) === undefined) {
          if (!fillMissing) {
            throw new CloudVolumeError("NOT_FOUND", `chunk ${chunk} (id ${id}) is missing from shard file ${key} of ${this.url}; pass fillMissing: true to read it as background`, { url: this.url, key, mip, bbox: chunk.toString() });
          }
          onChunk?.();
          continue;
        }
        const voxels = held
          ? (await this.lruRead(this.chunkKey(chunk, mip), chunk, mip, codec, `${key} (chunk ${id})`, async () => payload, undefined, true, held.get(id)))!
          : await this.decodeChunk(payload!, chunk, mip, codec, `${key} (chunk ${id})`, undefined, true);
        const overlap = chunk.intersection(bbox);
        copyBox({
          src: voxels, srcShape: chunk.size(), srcOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]],
          dst, dstShape, dstOrigin: [overlap.min[0] - bbox.min[0], overlap.min[1] - bbox.min[1], overlap.min[2] - bbox.min[2]],
          size: overlap.size(), bytesPerVoxel: bpv, channels: out.shape[3],
        });
        this.pool.release(voxels);
        onChunk?.();
      }
    }, signal);
  }

  /** Chunks grouped by shard file, in batches of at most SHARD_READ_BATCH, each chunk with its id. */
  private shardBatches(sh: ShardedScale, chunks: Bbox[]): Array<Array<{ chunk: Bbox; id: bigint; file: string }>> {
    const byFile = new Map<string, Array<{ chunk: Bbox; id: bigint; file: string }>>();
    for (const chunk of chunks) {
      const id = sh.layout.chunkId(sh.layout.gridOf(chunk));
      const file = sh.store.shardKey(id).split("/").pop()!;
      let list = byFile.get(file);
      if (!list) byFile.set(file, (list = []));
      list.push({ chunk, id, file });
    }
    const out: Array<Array<{ chunk: Bbox; id: bigint; file: string }>> = [];
    for (const list of byFile.values()) for (let i = 0; i < list.length; i += SHARD_READ_BATCH) out.push(list.slice(i, i + SHARD_READ_BATCH));
    return out;
  }

  /**
   * Decode one chunk's array-encoded bytes into voxels (Fortran x, y, z, c) of `chunk`'s
   * (truncated) shape. With `allowPadded`, an edge chunk stored at the full chunk size
   * is accepted too and cropped: volume.md says chunks at the upper edge are truncated
   * ("the size of each subvolume is at most chunk_size but may be truncated to fit
   * within the dimensions of the volume"), which is what we write, but sharded images
   * written by other tools have been padded, so reads take both.
   */
  private async decodeChunk(bytes: Uint8Array, chunk: Bbox, mip: number, codec: ArrayCodec, key: string, out?: Uint8Array, allowPadded = false): Promise<Uint8Array> {
    const spec = this.chunkSpec(chunk, mip, key);
    const bpv = dtypeInfo(spec.dtype).bytes;
    const decodedSize = spec.shape[0] * spec.shape[1] * spec.shape[2] * spec.channels * bpv;
    const full = this.chunkSize(mip);
    const edge = !vequal(chunk.size(), full);
    const decodePadded = async (): Promise<Uint8Array> => {
      const padded = new Bbox(chunk.min, [chunk.min[0] + full[0], chunk.min[1] + full[1], chunk.min[2] + full[2]]);
      const pv = await decodeOrFail(() => codec.decode(bytes, this.chunkSpec(padded, mip, key)), key, this.url, `${codec.name} chunk`);
      const target = out ?? new Uint8Array(decodedSize);
      copyBox({ src: pv, srcShape: full, srcOrigin: [0, 0, 0], dst: target, dstShape: spec.shape, dstOrigin: [0, 0, 0], size: spec.shape, bytesPerVoxel: bpv, channels: spec.channels });
      return target;
    };
    // Where the stored bytes tell which extent they have (raw: the length; cseg: the block
    // count), go by that; otherwise try truncated first, then padded.
    if (allowPadded && edge) {
      const scale = this.scale(mip);
      const extent = storedEdgeExtent(codec.name, bytes, spec.shape, full, spec.channels, bpv, scale.compressed_segmentation_block_size);
      if (extent === "padded") return decodePadded();
      if (extent === "truncated") allowPadded = false;
    }
    // Codecs that build their output (all but raw, which can hand back its input) decode into a pooled buffer.
    const target = out ?? (codec.name === "raw" ? undefined : this.pool.acquire(decodedSize));
    let voxels: Uint8Array;
    try {
      voxels = await decodeOrFail(() => codec.decode(bytes, spec, target), key, this.url, `${codec.name} chunk`);
      if (voxels.byteLength !== decodedSize) {
        throw new CloudVolumeError("DECODE_FAILED", `chunk ${key} decoded to ${voxels.byteLength} bytes, expected ${decodedSize}`, { url: this.url, key, mip });
      }
    } catch (e) {
      if (!(allowPadded && edge && isCloudVolumeError(e, "DECODE_FAILED"))) throw e;
      try {
        return await decodePadded();
      } catch {
        throw e; // neither form: report the truncated one, which is what the format asks for
      }
    }
    if (out && voxels !== out) out.set(voxels);
    return out ?? voxels;
  }

  /** One chunk's voxel bytes (Fortran x, y, z, c), or undefined when it does not exist. */
  private async readChunk(key: string, chunk: Bbox, mip: number, codec: ArrayCodec, signal?: AbortSignal, out?: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.lru.enabled) return this.lruRead(key, chunk, mip, codec, key, () => this.fetchPayload(key, chunk, mip, signal), out);
    const bytes = await this.fetchPayload(key, chunk, mip, signal);
    if (bytes === undefined) return undefined;
    return this.decodeChunk(bytes, chunk, mip, codec, key, out);
  }

  /**
   * One chunk's voxels through the in-memory LRU (cache/chunk-lru.ts): a hit reads no
   * storage; `fetch` gives the chunk's array-encoded bytes on a miss. The result is the
   * caller's to release to the pool, never the LRU's own buffer.
   */
  private lruRead(
    lruKey: string, chunk: Bbox, mip: number, codec: ArrayCodec, key: string, fetch: () => Promise<Uint8Array | undefined>,
    out?: Uint8Array, allowPadded = false, cached?: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    const spec = this.chunkSpec(chunk, mip, key);
    const size = spec.shape[0] * spec.shape[1] * spec.shape[2] * spec.channels * dtypeInfo(spec.dtype).bytes;
    return this.lru.read(lruKey, {
      size, codec, spec, fetch, out, cached,
      // Only the stored bytes may be a padded edge chunk; LRU re-encodings are of the truncated chunk.
      decode: (bytes, c, o) => this.decodeChunk(bytes, chunk, mip, c, key, o, allowPadded && c === codec),
      acquire: (n) => this.pool.acquire(n),
    });
  }

  /** A stored (unsharded) chunk's array-encoded bytes with its transfer compression removed. */
  private async fetchPayload(key: string, chunk: Bbox, _mip: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const obj = await this.fetch(key, signal);
    if (!obj) return undefined;
    let bytes = obj.data;
    if (obj.contentEncoding && obj.contentEncoding !== "identity") {
      const s = chunk.size();
      const decodedSize = s[0] * s[1] * s[2] * this.numChannels * dtypeInfo(this.dtype).bytes;
      const byteCodec = await this.ctx.compression(obj.contentEncoding);
      // Auto: inflating very compressible data (segmentation: uint64 labels shrink 100x and
      // more) costs less than faulting in a fresh output buffer for it, so it is done here
      // into a pooled one; dense data (EM: ~2x) is worth the thread pool's parallelism.
      const onThread = this.options.inflateOnThread ?? bytes.byteLength * INFLATE_HERE_RATIO <= decodedSize;
      if (onThread && byteCodec?.decodeInto && this.encoding(_mip) === "raw") {
        // A raw payload is the voxels: inflate into a pooled buffer of the decoded size,
        // which the raw codec hands back as the chunk and the painter releases to the pool.
        const target = this.pool.acquire(decodedSize);
        const got = await decodeOrFail(() => byteCodec.decodeInto!(bytes, target, { key }), key, this.url, `${obj.contentEncoding} stream`);
        if (got.buffer !== target.buffer) this.pool.release(target);
        return got;
      }
      bytes = await decodeOrFail(() => byteCodec!.decode(bytes, { decodedSize, key }), key, this.url, `${obj.contentEncoding} stream`);
    }
    return bytes;
  }


  private async fetch(key: string, signal?: AbortSignal): Promise<{ data: Uint8Array; contentEncoding?: string } | undefined> {
    const store = this.store;
    return this.ctx.limiter(this.parsed.protocol).run(
      () => withRetry(async () => {
        throwIfAborted(signal);
        if (store.getObject) return store.getObject(key, { signal });
        const data = await store.get(key, { signal });
        return data && { data };
      }, this.ctx.retry, signal),
      signal,
    );
  }

  chunkSpec(chunk: Bbox, mip: number, key?: string): ChunkSpec {
    return { shape: chunk.size(), channels: this.numChannels, dtype: this.dtype, key, params: this.scale(mip) };
  }

  background(): number | bigint {
    return this.options.backgroundColor ?? 0;
  }

  // ---- writing --------------------------------------------------------------

  /**
   * Write `data` (covering `bbox`) into the layer. Aligned writes encode and put
   * each chunk; with nonAlignedWrites, partial edge chunks are read, painted and
   * rewritten. Each object is written atomically by the store.
   */
  async upload(bboxLike: BboxLike, data: VolumeArray | TypedArray, io: IoOptions = {}): Promise<void> {
    const mip = this.mipIndex(io.mip);
    this.assertWritable(`mip ${mip}`);
    if (this.scale(mip).locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} is locked; unlock the scale before writing`, { url: this.url, mip });
    let bbox = Bbox.from(bboxLike);
    const src = this.asInput(data, bbox);
    const bounds = this.bounds(mip);
    let srcOffset: Vec3 = [0, 0, 0];
    if (!bounds.containsBbox(bbox)) {
      if (this.options.bounded && !this.options.autocrop) {
        throw new CloudVolumeError("OUT_OF_BOUNDS", `write ${bbox} is outside the bounds ${bounds} at mip ${mip}; pass autocrop: true to write only the part inside`, { url: this.url, mip, bbox: bbox.toString() });
      }
      const cropped = bbox.clamp(bounds);
      if (cropped.isEmpty()) return;
      srcOffset = [cropped.min[0] - bbox.min[0], cropped.min[1] - bbox.min[1], cropped.min[2] - bbox.min[2]];
      bbox = cropped;
    }
    if (this.isSharded(mip)) return this.uploadSharded(bbox, src, srcOffset, mip, io.signal, io.onChunk);
    const chunkSize = this.chunkSize(mip);
    const offset = this.voxelOffset(mip);
    if (!bbox.isAlignedTo(chunkSize, offset, bounds) && !this.options.nonAlignedWrites) {
      const expanded = bbox.expandToChunkSize(chunkSize, offset).clamp(bounds);
      const shrunk = bbox.shrinkToChunkSize(chunkSize, offset);
      throw new CloudVolumeError(
        "ALIGNMENT",
        `write ${bbox} is not aligned to the ${chunkSize.join("x")} chunk grid at offset ${offset.join(",")} (mip ${mip}); ` +
          `align it (e.g. ${expanded} or ${shrunk}) or pass nonAlignedWrites: true`,
        { url: this.url, mip, bbox: bbox.toString() },
      );
    }
    const codec = await this.ctx.codec(this.encoding(mip));
    if (!codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${codec.name} can decode but not encode`, { url: this.url, mip });
    const compression = this.writeCompression(mip);
    const byteCodec = await this.ctx.compression(compression);
    const cacheControl = cacheControlFor(this.options.cdnCache);
    const bpv = dtypeInfo(this.dtype).bytes;
    const channels = this.numChannels;
    const srcBytes = bytesOf(src.data);
    const srcShape: Vec3 = [src.shape[0], src.shape[1], src.shape[2]];
    const bgPattern = scalarBytes(this.dtype, this.background());
    const chunks = [...chunksInRegion(bbox, chunkSize, offset, bounds)];

    await mapConcurrent(chunks, this.ctx.concurrencyOf(this.parsed.protocol) * 2, async (chunk) => {
      const key = this.chunkKey(chunk, mip);
      const overlap = chunk.intersection(bbox);
      const cs = chunk.size();
      const nbytes = cs[0] * cs[1] * cs[2] * channels * bpv;
      const buf = this.pool.acquire(nbytes);
      try {
        if (!overlap.equals(chunk)) {
          // Partial chunk (non-aligned write): start from what is stored.
          const existing = await this.readChunk(key, chunk, mip, await this.ctx.codec(this.encoding(mip)), io.signal, buf);
          if (!existing) {
            if (!(io.fillMissing ?? this.options.fillMissing)) {
              throw new CloudVolumeError("NOT_FOUND", `non-aligned write needs chunk ${key}, which is missing; pass fillMissing: true to treat it as background`, { url: this.url, key, mip });
            }
            fillPattern(buf, bgPattern);
          }
        }
        copyBox({
          src: srcBytes, srcShape,
          srcOrigin: [overlap.min[0] - bbox.min[0] + srcOffset[0], overlap.min[1] - bbox.min[1] + srcOffset[1], overlap.min[2] - bbox.min[2] + srcOffset[2]],
          dst: buf, dstShape: cs,
          dstOrigin: [overlap.min[0] - chunk.min[0], overlap.min[1] - chunk.min[1], overlap.min[2] - chunk.min[2]],
          size: overlap.size(), bytesPerVoxel: bpv, channels,
        });
        await this.writeChunk(key, chunk, mip, buf, codec, byteCodec, cacheControl, bgPattern, io.signal);
      } finally {
        this.pool.release(buf);
      }
      io.onChunk?.();
    }, io.signal);
  }

  /**
   * upload for a sharded scale. A shard file cannot be patched (sharded.md: "the entire
   * shard must be re-written"), so the write must cover every chunk of each shard it
   * touches: whole shard bricks, where a brick may stop at the volume's upper bound.
   * Each shard is built in memory (data, then minishard indices, as CloudVolume does) and
   * written with one put, which the file store makes atomic. Edge chunks are stored
   * truncated (volume.md). With deleteBlackUploads, background chunks are left out and a
   * shard left empty is deleted. The transfer `compress` option does not apply: the
   * spec's data_encoding decides.
   */
  private async uploadSharded(bbox: Bbox, src: VolumeArray, srcOffset: Vec3, mip: number, signal?: AbortSignal, onChunk?: () => void): Promise<void> {
    const sh = this.sharding(mip);
    const shards = this.wholeShardsIn(sh, bbox, mip, "write");
    const codec = await this.ctx.codec(this.encoding(mip));
    if (!codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${codec.name} can decode but not encode`, { url: this.url, mip });
    const bpv = dtypeInfo(this.dtype).bytes;
    const channels = this.numChannels;
    const srcBytes = bytesOf(src.data);
    const srcShape: Vec3 = [src.shape[0], src.shape[1], src.shape[2]];
    const bgPattern = scalarBytes(this.dtype, this.background());
    const cacheControl = cacheControlFor(this.options.cdnCache);
    const gzip = sh.spec.dataEncoding === "gzip" || sh.spec.minishardIndexEncoding === "gzip" ? await this.gzipCodec() : undefined;
    await mapConcurrent(shards, 2, async (shard) => {
      const payloads = await mapConcurrent(shard.positions, this.ctx.concurrencyOf(this.parsed.protocol), async (p) => {
        const chunk = sh.layout.chunkBox(p);
        const cs = chunk.size();
        const buf = this.pool.acquire(cs[0] * cs[1] * cs[2] * channels * bpv);
        try {
          copyBox({
            src: srcBytes, srcShape,
            srcOrigin: [chunk.min[0] - bbox.min[0] + srcOffset[0], chunk.min[1] - bbox.min[1] + srcOffset[1], chunk.min[2] - bbox.min[2] + srcOffset[2]],
            dst: buf, dstShape: cs, dstOrigin: [0, 0, 0], size: cs, bytesPerVoxel: bpv, channels,
          });
          if (this.options.deleteBlackUploads && isUniform(buf, bgPattern)) return undefined;
          const key = `${sh.store.keyOf(shard.filename)} (chunk ${chunk})`;
          const encoded = await encodeOrFail(() => codec.encode!(buf, this.chunkSpec(chunk, mip, key)), key, this.url, `${codec.name} chunk`);
          // Kept until the shard is built, after `buf` goes back to the pool: raw hands back its input.
          return encoded.buffer === buf.buffer ? encoded.slice() : encoded;
        } finally {
          this.pool.release(buf);
        }
      }, signal);
      const entries: Array<[bigint, Uint8Array]> = [];
      shard.positions.forEach((p, i) => {
        const payload = payloads[i];
        if (payload) entries.push([sh.layout.chunkId(p), payload]);
      });
      await this.writeShard(sh, shard.filename, entries, cacheControl, gzip, signal);
      for (let i = 0; i < shard.positions.length; i++) onChunk?.();
    }, signal);
  }

  /** Build and put one shard file, or delete it when it would hold no chunk. */
  private async writeShard(sh: ShardedScale, filename: string, entries: Array<[bigint, Uint8Array]>, cacheControl: string, gzip: ByteCodec | undefined, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (entries.length === 0) {
      await sh.store.deleteShard(filename, signal);
      return;
    }
    const key = sh.store.keyOf(filename);
    let built;
    try {
      built = await encodeShard(sh.spec, entries, { gzip });
    } catch (cause) {
      if (isCloudVolumeError(cause)) throw cause;
      throw new CloudVolumeError("ENCODE_FAILED", `cannot build shard file ${key}: ${(cause as Error)?.message ?? cause}`, { url: this.url, key, cause });
    }
    if (built.filename !== filename) throw new CloudVolumeError("ENCODE_FAILED", `internal: chunks for ${filename} hashed to ${built.filename}`, { url: this.url, key });
    await sh.store.putShard(filename, built.data, { cacheControl }, signal);
  }

  /**
   * The shards a write of `bbox` touches, checking that it covers each of them whole
   * (every chunk of the shard, truncated at the volume bound, lies inside `bbox`).
   */
  private wholeShardsIn(sh: ShardedScale, bbox: Bbox, mip: number, what: string): ReturnType<ShardedImageLayout["shardsTouching"]> {
    const [gmin, gmax] = sh.layout.gridRange(bbox);
    const shards = sh.layout.shardsTouching(gmin, gmax);
    for (const shard of shards) {
      const whole = shard.positions.every((p) => bbox.containsBbox(sh.layout.chunkBox(p)));
      if (whole) continue;
      const bounds = this.bounds(mip);
      const shape = sh.layout.shardShape;
      const c = this.chunkSize(mip);
      const b = sh.layout.brickChunks;
      const hint = sh.layout.singleBrick
        ? `its shards are ${shape.join("x")} voxels (${b.join("x")} chunks of ${c.join("x")}) anchored at ${this.voxelOffset(mip).join(",")} and truncated at the upper bound ${bounds.max.join(",")}; ` +
          `write ${bbox.expandToChunkSize(shape, this.voxelOffset(mip)).clamp(bounds)} or pieces aligned to that grid`
        : `this sharding spec (${sh.spec.hash} hash, ${sh.spec.shardBits} shard bits) puts chunks from all over the volume into one shard file, so write the whole volume ${bounds}`;
      throw new CloudVolumeError(
        "ALIGNMENT",
        `${what} ${bbox} covers only part of shard file ${sh.store.keyOf(shard.filename)} at mip ${mip}: a sharded scale is written whole shards at a time; ${hint}`,
        { url: this.url, mip, bbox: bbox.toString(), key: sh.store.keyOf(shard.filename) },
      );
    }
    return shards;
  }

  /**
   * Encode, compress and put one chunk's voxels; with deleteBlackUploads a chunk
   * that is all background is deleted instead.
   */
  private async writeChunk(
    key: string, chunk: Bbox, mip: number, voxels: Uint8Array, codec: ArrayCodec, byteCodec: ByteCodec | undefined,
    cacheControl: string, bgPattern: Uint8Array, signal?: AbortSignal,
  ): Promise<void> {
    const limiter = this.ctx.limiter(this.parsed.protocol);
    if (this.options.deleteBlackUploads && isUniform(voxels, bgPattern)) {
      await limiter.run(() => withRetry(() => this.store.delete!(key), this.ctx.retry, signal), signal);
      return;
    }
    const spec = this.chunkSpec(chunk, mip, key);
    let payload = await encodeOrFail(() => codec.encode!(voxels, spec), key, this.url, `${codec.name} chunk`);
    if (byteCodec) payload = await encodeOrFail(() => byteCodec.encode(payload, { level: this.options.compressLevel }), key, this.url, `${byteCodec.name} stream`);
    throwIfAborted(signal);
    await this.putBytes(key, payload, byteCodec?.name, cacheControl, signal);
  }

  private putBytes(key: string, payload: Uint8Array, contentEncoding: string | undefined, cacheControl: string, signal?: AbortSignal): Promise<void> {
    return this.ctx.limiter(this.parsed.protocol).run(
      () => withRetry(() => this.store.put!(key, payload, { contentEncoding, contentType: "application/octet-stream", cacheControl }), this.ctx.retry, signal),
      signal,
    );
  }

  /**
   * Copy `bbox` (default: everything) of one mip into `dst`, chunk by chunk, so the
   * whole volume is never held. Chunks that exist are copied; missing ones stay
   * missing. When encoding and compression agree the stored bytes are copied
   * untouched; otherwise each chunk is decoded and re-encoded for `dst`.
   * Grids that differ fall back to reading each destination chunk's region.
   */
  async transferTo(dst: PrecomputedVolume, opts: TransferOptions = {}): Promise<TransferStats> {
    const mip = this.mipIndex(opts.mip);
    const signal = opts.signal;
    dst.assertWritable(`mip ${mip}`);
    if (dst.info.scales[mip]?.locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} of ${dst.url} is locked; unlock the scale before writing`, { url: dst.url, mip });
    if (opts.sharded !== undefined) await dst.setSharding(mip, opts.sharded);
    const bounds = this.bounds(mip);
    const region = opts.bbox ? Bbox.from(opts.bbox).clamp(bounds) : bounds;
    const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => v === b[i]);
    const sameGrid = dst.info.scales.length > mip && same(dst.chunkSize(mip), this.chunkSize(mip)) &&
      same(dst.voxelOffset(mip), this.voxelOffset(mip)) && same(dst.scale(mip).size, this.scale(mip).size) && dst.dtype === this.dtype &&
      dst.numChannels === this.numChannels;
    const stats = { chunks: 0, copied: 0, recoded: 0 };
    if (dst.info.scales.length > mip && dst.isSharded(mip)) return this.transferToSharded(dst, mip, region, sameGrid, opts, stats);
    if (!sameGrid) {
      // Destination chunks are the unit of work: read the matching region, write it.
      const dstBounds = dst.bounds(mip);
      // Whole destination chunks are written: a region that cuts them would overwrite voxels outside it.
      const dstRegion = region.clamp(dstBounds);
      if (!dstRegion.isEmpty() && !dstRegion.isAlignedTo(dst.chunkSize(mip), dst.voxelOffset(mip), dstBounds)) {
        throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunks of the destination's ${dst.chunkSize(mip).join("x")} grid; align the region to it`, { url: dst.url, mip });
      }
      await forEachConcurrent(chunksInRegion(region, dst.chunkSize(mip), dst.voxelOffset(mip), dstBounds), this.ctx.concurrencyOf(this.parsed.protocol), async (chunk) => {
        const cut = await this.download(chunk, { mip, signal, fillMissing: true });
        await dst.upload(chunk, cut, { mip, signal });
        stats.chunks++; stats.recoded++;
        opts.onChunk?.();
      }, signal);
      return stats;
    }
    if (this.isSharded(mip)) return this.transferFromSharded(dst, mip, region, opts, stats);
    const srcCodec = await this.ctx.codec(this.encoding(mip));
    const dstCodec = await dst.ctx.codec(dst.encoding(mip));
    if (!dstCodec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${dstCodec.name} can decode but not encode`, { url: dst.url, mip });
    const dstCompression = dst.writeCompression(mip);
    const byteCodec = await dst.ctx.compression(dstCompression);
    const cacheControl = cacheControlFor(dst.options.cdnCache);
    const bgPattern = scalarBytes(dst.dtype, dst.background());
    const sameEncoding = srcCodec.name === dstCodec.name && JSON.stringify(this.codecParams(mip)) === JSON.stringify(dst.codecParams(mip));
    await forEachConcurrent(chunksInRegion(region, this.chunkSize(mip), this.voxelOffset(mip), bounds), this.ctx.concurrencyOf(this.parsed.protocol) * 2, async (chunk) => {
      const key = this.chunkKey(chunk, mip);
      const dstKey = dst.chunkKey(chunk, mip);
      const partial = !chunk.intersection(region).equals(chunk);
      if (partial) throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunk ${key}; align the region to the chunk grid`, { url: this.url, key, mip });
      const obj = await this.fetch(key, signal);
      stats.chunks++;
      if (!obj) return;
      const enc = obj.contentEncoding && obj.contentEncoding !== "identity" ? obj.contentEncoding : undefined;
      if (sameEncoding && enc === dstCompression && !dst.options.deleteBlackUploads) {
        await dst.putBytes(dstKey, obj.data, enc, cacheControl, signal);
        stats.copied++;
      } else {
        const voxels = await this.readChunk(key, chunk, mip, srcCodec, signal);
        if (!voxels) return;
        await dst.writeChunk(dstKey, chunk, mip, voxels, dstCodec, byteCodec, cacheControl, bgPattern, signal);
        this.pool.release(voxels);
        stats.recoded++;
      }
      opts.onChunk?.();
    }, signal);
    return stats;
  }

  /**
   * transferTo a sharded destination scale: the destination's shards are the unit of
   * work, so the region must cover them whole. Each shard is assembled from the source's
   * chunks (stored bytes reused when the encodings agree, else decoded and re-encoded;
   * a missing source chunk stays missing) and written with one put. Two sharded scales
   * with the same grid, spec and encoding copy whole shard files untouched, as
   * CloudVolume's transfer_sharded_to_sharded does.
   */
  private async transferToSharded(dst: PrecomputedVolume, mip: number, region: Bbox, sameGrid: boolean, opts: TransferOptions, stats: TransferStats): Promise<TransferStats> {
    const signal = opts.signal;
    const dsh = dst.sharding(mip);
    const shards = dst.wholeShardsIn(dsh, region.clamp(dst.bounds(mip)), mip, "transfer region");
    const srcSharded = sameGrid && this.isSharded(mip) ? this.sharding(mip) : undefined;
    const sameEncoding = sameGrid && this.encoding(mip) === dst.encoding(mip) && JSON.stringify(this.codecParams(mip)) === JSON.stringify(dst.codecParams(mip));
    const cacheControl = cacheControlFor(dst.options.cdnCache);
    if (srcSharded && sameEncoding && !dst.options.deleteBlackUploads && JSON.stringify(srcSharded.spec) === JSON.stringify(dsh.spec)) {
      // Same chunk ids in the same shard files: copy the files as stored.
      await forEachConcurrent(shards, this.ctx.concurrencyOf(this.parsed.protocol), async (shard) => {
        const key = srcSharded.store.keyOf(shard.filename);
        const bytes = await this.fetchRaw(key, signal);
        stats.chunks += shard.positions.length;
        if (bytes === undefined) await dsh.store.deleteShard(shard.filename, signal);
        else {
          await dsh.store.putShard(shard.filename, bytes, { cacheControl }, signal);
          stats.copied += shard.positions.length;
        }
        for (let i = 0; i < shard.positions.length; i++) opts.onChunk?.(); // progress counts chunks, as elsewhere
      }, signal);
      return stats;
    }
    const srcCodec = await this.ctx.codec(this.encoding(mip));
    const dstCodec = await dst.ctx.codec(dst.encoding(mip));
    if (!dstCodec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${dstCodec.name} can decode but not encode`, { url: dst.url, mip });
    const bgPattern = scalarBytes(dst.dtype, dst.background());
    const gzip = dsh.spec.dataEncoding === "gzip" || dsh.spec.minishardIndexEncoding === "gzip" ? await dst.gzipCodec() : undefined;
    const full = this.chunkSize(mip);
    await forEachConcurrent(shards, 2, async (shard) => {
      const ids = shard.positions.map((p) => dsh.layout.chunkId(p));
      // Same grid => same chunk ids: a sharded source is read in one batch per shard.
      const fromShards = srcSharded ? await srcSharded.store.getMany(ids, { signal }) : undefined;
      const payloads = await mapConcurrent(shard.positions, this.ctx.concurrencyOf(this.parsed.protocol), async (p, i): Promise<Uint8Array | undefined> => {
        const chunk = dsh.layout.chunkBox(p);
        stats.chunks++;
        let voxels: Uint8Array;
        if (sameGrid) {
          const key = fromShards ? `${srcSharded!.store.shardKey(ids[i])} (chunk ${ids[i]})` : this.chunkKey(chunk, mip);
          const stored = fromShards ? fromShards.get(ids[i]) : await this.fetchPayload(key, chunk, mip, signal);
          if (stored === undefined) return undefined; // missing stays missing
          // Edge chunks are re-encoded so a padded source chunk is written truncated.
          if (sameEncoding && !dst.options.deleteBlackUploads && vequal(chunk.size(), full)) {
            stats.copied++;
            return stored;
          }
          voxels = await this.decodeChunk(stored, chunk, mip, srcCodec, key, undefined, Boolean(fromShards));
        } else {
          voxels = bytesOf((await this.download(chunk, { mip, signal, fillMissing: true })).data);
        }
        try {
          if (dst.options.deleteBlackUploads && isUniform(voxels, bgPattern)) return undefined;
          const key = `${dsh.store.keyOf(shard.filename)} (chunk ${chunk})`;
          const encoded = await encodeOrFail(() => dstCodec.encode!(voxels, dst.chunkSpec(chunk, mip, key)), key, dst.url, `${dstCodec.name} chunk`);
          stats.recoded++;
          // Kept until the shard is built, after `voxels` goes back to the pool: raw hands back its input.
          return encoded.buffer === voxels.buffer ? encoded.slice() : encoded;
        } finally {
          this.pool.release(voxels);
          opts.onChunk?.();
        }
      }, signal);
      const entries: Array<[bigint, Uint8Array]> = [];
      payloads.forEach((payload, i) => { if (payload) entries.push([ids[i], payload]); });
      await dst.writeShard(dsh, shard.filename, entries, cacheControl, gzip, signal);
    }, signal);
    return stats;
  }

  /**
   * transferTo from a sharded scale to an unsharded one on the same grid: chunks are
   * read in batches per source shard file and written as chunk files, stored bytes
   * reused (with the destination's transfer compression) when the encodings agree.
   */
  private async transferFromSharded(dst: PrecomputedVolume, mip: number, region: Bbox, opts: TransferOptions, stats: TransferStats): Promise<TransferStats> {
    const signal = opts.signal;
    const sh = this.sharding(mip);
    const chunks = [...chunksInRegion(region, this.chunkSize(mip), this.voxelOffset(mip), this.bounds(mip))];
    for (const chunk of chunks) {
      if (!chunk.intersection(region).equals(chunk)) {
        throw new CloudVolumeError("ALIGNMENT", `transfer region ${region} cuts chunk ${chunk}; align the region to the chunk grid`, { url: this.url, mip });
      }
    }
    const srcCodec = await this.ctx.codec(this.encoding(mip));
    const dstCodec = await dst.ctx.codec(dst.encoding(mip));
    if (!dstCodec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${dstCodec.name} can decode but not encode`, { url: dst.url, mip });
    const byteCodec = await dst.ctx.compression(dst.writeCompression(mip));
    const cacheControl = cacheControlFor(dst.options.cdnCache);
    const bgPattern = scalarBytes(dst.dtype, dst.background());
    const sameEncoding = this.encoding(mip) === dst.encoding(mip) && JSON.stringify(this.codecParams(mip)) === JSON.stringify(dst.codecParams(mip));
    const full = this.chunkSize(mip);
    await forEachConcurrent(this.shardBatches(sh, chunks), this.ctx.concurrencyOf(this.parsed.protocol), async (batch) => {
      const found = await sh.store.getMany(batch.map((c) => c.id), { signal });
      await mapConcurrent(batch, this.ctx.concurrencyOf(this.parsed.protocol), async ({ chunk, id, file }) => {
        stats.chunks++;
        const stored = found.get(id);
        if (stored === undefined) return;
        const dstKey = dst.chunkKey(chunk, mip);
        if (sameEncoding && !dst.options.deleteBlackUploads && vequal(chunk.size(), full)) {
          const payload = byteCodec ? await encodeOrFail(() => byteCodec.encode(stored, { level: dst.options.compressLevel }), dstKey, dst.url, `${byteCodec.name} stream`) : stored;
          await dst.putBytes(dstKey, payload, byteCodec?.name, cacheControl, signal);
          stats.copied++;
        } else {
          const voxels = await this.decodeChunk(stored, chunk, mip, srcCodec, `${sh.store.keyOf(file)} (chunk ${id})`, undefined, true);
          await dst.writeChunk(dstKey, chunk, mip, voxels, dstCodec, byteCodec, cacheControl, bgPattern, signal);
          this.pool.release(voxels);
          stats.recoded++;
        }
        opts.onChunk?.();
      }, signal);
    }, signal);
    return stats;
  }

  /** The bytes of an object exactly as stored (no suffix variants, no decoding). */
  private fetchRaw(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.ctx.limiter(this.parsed.protocol).run(() => withRetry(() => this.store.get(key, { signal }), this.ctx.retry, signal), signal);
  }

  /** Scale fields a codec reads; two scales with equal params encode alike. */
  private codecParams(mip: number): Record<string, unknown> {
    const s = this.scale(mip);
    const { key: _k, size: _s, voxel_offset: _v, resolution: _r, chunk_sizes: _c, sharding: _sh, locked: _l, ...rest } = s;
    return rest;
  }

  /** The transfer compression writes use at `mip` (undefined = none). */
  writeCompression(mip?: number): string | undefined {
    // Precedence: the open() option, then the layer's own `compress` default
    // (written by `cloudvolume create --compress`), then CloudVolume's rule.
    const fromInfo = typeof this.info.compress === "string" ? (this.info.compress as PrecomputedOptions["compress"]) : undefined;
    const c = this.options.compress ?? fromInfo;
    if (c === undefined || c === null) return GZIP_BY_DEFAULT.has(this.encoding(mip)) ? "gzip" : undefined;
    if (c === true) return "gzip";
    if (c === false || c === "none") return undefined;
    if (!SUFFIX_ENCODINGS.includes(c)) throw new CloudVolumeError("INVALID_ARGUMENT", `compress must be gzip, br, zstd, none, true or false; got ${JSON.stringify(c)}`);
    return c;
  }

  private asInput(data: VolumeArray | TypedArray, bbox: Bbox): VolumeArray {
    const size = bbox.size();
    const channels = this.numChannels;
    const expected = dtypeInfo(this.dtype);
    if (ArrayBuffer.isView(data)) {
      if (!(data instanceof expected.ctor)) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `upload data is ${data.constructor.name} but the layer's data_type is ${this.dtype}`, { url: this.url });
      }
      const n = size[0] * size[1] * size[2] * channels;
      if (data.length !== n) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `upload data has ${data.length} values but ${bbox} with ${channels} channel(s) needs ${n}`, { url: this.url, bbox: bbox.toString() });
      }
      return { data: data as TypedArray, shape: [size[0], size[1], size[2], channels], stride: [1, size[0], size[0] * size[1], size[0] * size[1] * size[2]], dtype: this.dtype };
    }
    const a = data as VolumeArray;
    if (!a || !ArrayBuffer.isView(a.data) || !Array.isArray(a.shape)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", "upload data must be a typed array or { data, shape }", { url: this.url });
    }
    if (!(a.data instanceof expected.ctor)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `upload data is ${a.data.constructor.name} but the layer's data_type is ${this.dtype}`, { url: this.url });
    }
    const shape = [a.shape[0], a.shape[1], a.shape[2], a.shape[3] ?? 1];
    if (shape[0] !== size[0] || shape[1] !== size[1] || shape[2] !== size[2] || shape[3] !== channels) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `upload data shape ${shape.join("x")} does not match ${bbox} (${size.join("x")}x${channels})`, { url: this.url, bbox: bbox.toString() });
    }
    if (a.data.length !== shape[0] * shape[1] * shape[2] * shape[3]) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `upload data has ${a.data.length} values, shape ${shape.join("x")} needs ${shape[0] * shape[1] * shape[2] * shape[3]}`, { url: this.url });
    }
    return { data: a.data, shape: shape as [number, number, number, number], stride: [1, shape[0], shape[0] * shape[1], shape[0] * shape[1] * shape[2]], dtype: this.dtype };
  }

  // ---- chunk access for volume operations (operations.ts) ---------------------------

  /**
   * @internal For operations.ts. Visit `chunks` (boxes on this mip's grid, truncated at
   * the bounds) with each one's stored payload, or undefined when it is missing. The
   * payload is the array-encoded bytes with transfer compression removed; with
   * `decompress: false` it is the bytes as stored (transfer compression, or a sharded
   * scale's gzip data_encoding, kept). Unsharded chunks are fetched concurrently, sharded
   * ones in batches per shard file; `fn` may run concurrently.
   */
  async visitChunks(
    chunks: readonly Bbox[], mip: number,
    fn: (chunk: Bbox, payload: Uint8Array | undefined, key: string) => Promise<void> | void,
    opts: { signal?: AbortSignal; decompress?: boolean } = {},
  ): Promise<void> {
    const signal = opts.signal;
    const decompress = opts.decompress ?? true;
    if (this.isSharded(mip)) {
      const sh = this.sharding(mip);
      await mapConcurrent(this.shardBatches(sh, [...chunks]), this.ctx.concurrencyOf(this.parsed.protocol), async (batch) => {
        const found = await sh.store.getMany(batch.map((c) => c.id), { signal, raw: !decompress });
        for (const { chunk, id, file } of batch) await fn(chunk, found.get(id), `${sh.store.keyOf(file)} (chunk ${id})`);
      }, signal);
      return;
    }
    await mapConcurrent(chunks, this.ctx.concurrencyOf(this.parsed.protocol) * 2, async (chunk) => {
      const key = this.chunkKey(chunk, mip);
      const payload = decompress ? await this.fetchPayload(key, chunk, mip, signal) : (await this.fetch(key, signal))?.data;
      await fn(chunk, payload, key);
    }, signal);
  }

  /** @internal Decode a visitChunks payload into `chunk`'s voxels (a pooled buffer: hand it back with releaseVoxels). */
  decodePayload(payload: Uint8Array, chunk: Bbox, mip: number, codec: ArrayCodec, key: string): Promise<Uint8Array> {
    return this.decodeChunk(payload, chunk, mip, codec, key, undefined, this.isSharded(mip));
  }

  /** @internal */
  releaseVoxels(voxels: Uint8Array): void {
    this.pool.release(voxels);
  }

  /** @internal Which of `chunks` are stored, without reading their data (a sharded scale answers from its indices). */
  async chunksExist(chunks: readonly Bbox[], mip: number, signal?: AbortSignal): Promise<boolean[]> {
    if (this.isSharded(mip)) {
      const sh = this.sharding(mip);
      const ids = chunks.map((c) => sh.layout.chunkId(sh.layout.gridOf(c)));
      const found = await sh.store.has(ids, { signal });
      return ids.map((id) => found.has(id));
    }
    const store = this.store;
    const limiter = this.ctx.limiter(this.parsed.protocol);
    return mapConcurrent(chunks, this.ctx.concurrencyOf(this.parsed.protocol), (chunk) => {
      const key = this.chunkKey(chunk, mip);
      return limiter.run(() => withRetry(async () => {
        throwIfAborted(signal);
        if (store.exists) return store.exists(key);
        return (store.getObject ? await store.getObject(key, { signal }) : await store.get(key, { signal })) !== undefined;
      }, this.ctx.retry, signal), signal);
    }, signal);
  }

  /**
   * @internal Delete stored objects: chunk files of an unsharded scale (every
   * transfer-compression variant, as the stores do), or whole shard files (`shards`,
   * file names inside the scale's directory) of a sharded one.
   */
  async deleteObjects(mip: number, what: { keys?: readonly string[]; shards?: readonly string[] }, signal?: AbortSignal): Promise<void> {
    this.assertWritable(`mip ${mip}`);
    const del = this.store.delete;
    if (!del) throw new CloudVolumeError("READ_ONLY", `storage ${this.store.url} cannot delete`, { url: this.url, mip });
    const limiter = this.ctx.limiter(this.parsed.protocol);
    await forEachConcurrent(what.keys ?? [], this.ctx.concurrencyOf(this.parsed.protocol), (key) =>
      limiter.run(() => withRetry(() => del.call(this.store, key), this.ctx.retry, signal), signal), signal);
    if (what.shards?.length) {
      const sh = this.sharding(mip);
      await forEachConcurrent(what.shards, this.ctx.concurrencyOf(this.parsed.protocol), (file) => sh.store.deleteShard(file, signal), signal);
    }
  }

  /** @internal The shard files of a sharded scale that `bbox` covers whole (ALIGNMENT when it cuts one). */
  wholeShards(bbox: Bbox, mip: number, what: string): ImageShard[] {
    return this.wholeShardsIn(this.sharding(mip), bbox, mip, what);
  }

  assertWritable(what: string): void {
    if (this.redirected) throw new CloudVolumeError("READ_ONLY", `cannot write ${what}: ${this.url} was opened through a redirect and is read-only`, { url: this.url });
    if (!this.store.put || !this.store.capabilities.write) throw new CloudVolumeError("READ_ONLY", `cannot write ${what}: storage ${this.store.url} is read-only`, { url: this.url });
  }

  async close(): Promise<void> {
    this.pool.clear();
    await this.store.close?.();
  }
}

async function readInfo(store: KeyValueStore, url: string, signal?: AbortSignal): Promise<PrecomputedInfo> {
  const bytes = await store.get("info", { signal });
  if (!bytes) {
    throw new CloudVolumeError("NOT_FOUND", `no info file at ${url}/info; create the layer with createNewInfo and commitInfo`, { url, key: "info" });
  }
  return parseInfo(bytes, url);
}

function normalizeUrl(u: string): string {
  return u.replace(/\/+$/, "");
}

async function decodeOrFail(fn: () => Uint8Array | Promise<Uint8Array>, key: string, url: string, what: string): Promise<Uint8Array> {
  try {
    return await fn();
  } catch (cause) {
    if (isCloudVolumeError(cause) && cause.code !== "DECODE_FAILED") throw cause;
    const msg = (cause as Error)?.message ?? String(cause);
    throw new CloudVolumeError("DECODE_FAILED", `cannot decode ${what} ${key}: ${msg}`, { url, key, cause });
  }
}

async function encodeOrFail(fn: () => Uint8Array | Promise<Uint8Array>, key: string, url: string, what: string): Promise<Uint8Array> {
  try {
    return await fn();
  } catch (cause) {
    if (isCloudVolumeError(cause)) throw cause;
    throw new CloudVolumeError("ENCODE_FAILED", `cannot encode ${what} ${key}: ${(cause as Error)?.message ?? cause}`, { url, key, cause });
  }
}
