import {
  Bbox, BufferPool, CloudVolumeError, Context, allocateArray, chunksInRegion, copyBox, dtypeInfo, fillPattern, isCloudVolumeError,
  isUniform as isUniformBytes, scalarBytes, throwIfAborted, vequal, withRetry,
  type ArrayCodec, type BboxLike, type ChunkPipeline, type ChunkSpec, type DataType, type FormatLayer, type KeyValueStore,
  type LayerInfo, type LayerScaleInfo, type ParsedUrl, type ShardedChunks, type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import { ChunkLru } from "./cache/chunk-lru.js";
import { LayerCache, openDiskCache } from "./cache/disk-cache.js";
import { storedEdgeExtent } from "./edge.js";
import { cacheControlFor, type Cutout, type IoOptions, type TransferOptions, type TransferStats, type VolumeOptions } from "./options.js";
import { paintInParallel, paintRegion } from "./paint.js";
import { transferTo } from "./transfer.js";
import { upload } from "./write.js";

/**
 * Compression ratio from which a gzip chunk is inflated on the calling thread into a pooled
 * buffer (inflateOnThread's default). Measured on a 2-core VM, 512x512x64 from 64^3 chunks:
 * uint64 segmentation (~220x) reads in 134 ms this way vs 163 ms on the thread pool, and
 * peaks at ~0.95x the output instead of 1.5x; EM-like uint8 (~2x) is faster on the pool
 * (47 ms vs 61 ms: the pool inflates on both cores).
 */
const INFLATE_HERE_RATIO = 8;
const SUFFIX_ENCODINGS = ["gzip", "br", "zstd"];

/** How an edge chunk's stored bytes may be shaped when decoding. */
export type EdgeForm = "truncated" | "padded" | "either";

/**
 * A layer of any format as the chunk engine sees it: the format driver's FormatLayer
 * (metadata, chunk keys, chunk pipeline, shards) plus everything that moves voxels in
 * and out of its chunk grid, written once for every format: grid expansion, concurrent
 * fetches under the Context's limiter with retries, decoding into pooled buffers,
 * painting into one output allocated up front, splitting writes, the LRU and the disk
 * cache, worker painters. Format-specific subclasses (PrecomputedVolume) add only what
 * their format has beyond chunks.
 */
export class ChunkedVolume<L extends FormatLayer = FormatLayer> {
  mip: number;
  readonly options: Required<Pick<VolumeOptions, "bounded" | "autocrop" | "fillMissing" | "deleteBlackUploads" | "nonAlignedWrites">> & VolumeOptions;
  /** The on-disk cache (`cache`, `compressCache`; CloudVolume's vol.cache). */
  cache!: LayerCache;
  /** The in-memory chunk LRU (`lruBytes`, `lruEncoding`; CloudVolume's vol.image.lru). */
  lru!: ChunkLru;
  /** @internal Decode buffers, shared by reads and writes of this volume. */
  readonly pool = new BufferPool();

  constructor(readonly ctx: Context, readonly layer: L, options: VolumeOptions = {}) {
    this.options = {
      bounded: true, autocrop: false, fillMissing: false, deleteBlackUploads: false, nonAlignedWrites: false,
      ...options,
    };
    this.mip = 0;
    this.mip = this.mipIndex(options.mip ?? 0);
  }

  /**
   * Open `[format://]protocol://path` with the format plugin the Context has for it:
   * the driver reads the metadata (or takes `options.info`), then the caches are put in
   * front of its store.
   */
  static async open(ctx: Context, url: string, options: VolumeOptions & { [driverOption: string]: unknown } = {}): Promise<ChunkedVolume> {
    const parsed = ctx.parse(url);
    const driver = await ctx.format(parsed.format);
    const layer = await driver.open(ctx, parsed, { ...options } as Record<string, unknown>);
    return ChunkedVolume.attach(new ChunkedVolume(ctx, layer, options), !options.info);
  }

  /**
   * Put the disk cache and the LRU in front of a newly opened layer's store, then let the
   * layer finish opening through them. `remoteInfo`: the info came from storage (not an
   * option), so a cached copy is checked against it.
   */
  static async attach<V extends ChunkedVolume>(volume: V, remoteInfo: boolean): Promise<V> {
    const { ctx, layer, options } = volume;
    const disk = await openDiskCache(ctx, layer.parsed, layer.store, layer.info, remoteInfo, options, () => volume);
    const lru = new ChunkLru(options.lruBytes ?? 0, options.lruEncoding, (name) => ctx.codec(name));
    if (lru.enabled && lru.encoding !== "same") await ctx.codec(lru.encoding); // an unknown lruEncoding fails here, not mid-read
    layer.store = lru.observe(disk.store);
    volume.lru = lru;
    volume.cache = new LayerCache(volume, disk.backend, disk.enabled);
    await layer.opened?.(options.signal);
    return volume;
  }

  // ---- metadata -------------------------------------------------------------

  get url(): string { return this.layer.url; }
  get parsed(): ParsedUrl { return this.layer.parsed; }
  get store(): KeyValueStore { return this.layer.store; }
  get format(): string { return this.layer.format; }
  get info(): L["info"] { return this.layer.info; }
  set info(info: L["info"]) { this.layer.info = info; }
  get dtype(): DataType { return this.layer.info.data_type; }
  get numChannels(): number { return this.layer.info.num_channels; }
  get layerType(): string { return this.layer.info.type; }
  get readOnly(): boolean {
    return this.layer.readOnlyReason?.() !== undefined || !this.layer.capabilities.write || this.store.put === undefined || !this.store.capabilities.write;
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

  scale(mip?: number | Vec3): LayerScaleInfo {
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
    return this.layer.chunkKey(chunk, this.mipIndex(mip));
  }

  /** True when the mip stores its chunks in shard files. */
  isSharded(mip?: number | Vec3): boolean {
    return this.layer.sharded?.(this.mipIndex(mip)) !== undefined;
  }

  /** @internal The shard adapter of a sharded mip. */
  shards(mip: number): ShardedChunks {
    const sh = this.layer.sharded?.(mip);
    if (!sh) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} of ${this.url} is not sharded`, { url: this.url, mip });
    return sh;
  }

  /**
   * Set the layout of a scale for writing (formats that shard): `true` shards it with the
   * format's parameters unless it already is, a spec object uses that spec, `false`
   * unshards it. Commits the info when it changed. Existing data is not moved.
   */
  async setSharding(mip: number, sharded: boolean | Record<string, unknown>): Promise<void> {
    if (!this.info.scales[mip]) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist in ${this.url}`, { url: this.url, mip });
    if (!this.layer.setSharding) {
      if (sharded === false) return; // nothing to undo: this format stores one object per chunk
      throw unsupported(this, "sharded storage (setSharding / --sharded)");
    }
    if (this.layer.setSharding(mip, sharded)) await this.commitInfo();
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
    await this.layer.commitInfo();
  }

  refreshInfo(): Promise<LayerInfo> {
    return this.layer.refreshInfo(this.options.signal);
  }

  /** The chunk pipeline of a mip (codec, params, edge rule). */
  pipeline(mip: number): Promise<ChunkPipeline> {
    return Promise.resolve(this.layer.pipeline(mip));
  }

  /** The codec that writes `mip`; UNKNOWN_CODEC when it can only decode. */
  async writer(mip: number): Promise<ChunkPipeline & { codec: ArrayCodec & Required<Pick<ArrayCodec, "encode">> }> {
    const p = await this.pipeline(mip);
    if (!p.codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${p.codec.name} can decode but not encode`, { url: this.url, mip });
    return p as ChunkPipeline & { codec: ArrayCodec & Required<Pick<ArrayCodec, "encode">> };
  }

  /** The transfer compression writes use at `mip` (undefined = none). */
  writeCompression(mip?: number): string | undefined {
    let c = this.options.compress;
    if (c === undefined || c === null) {
      c = this.layer.defaultCompression?.(this.mipIndex(mip)) as VolumeOptions["compress"];
      if (c === undefined || c === null) return undefined;
    }
    if (c === true) return "gzip";
    if (c === false || c === "none") return undefined;
    if (!SUFFIX_ENCODINGS.includes(c)) throw new CloudVolumeError("INVALID_ARGUMENT", `compress must be gzip, br, zstd, none, true or false; got ${JSON.stringify(c)}`);
    return c;
  }

  /** The value of voxels no chunk covers at `mip`. */
  background(mip?: number): number | bigint {
    return this.options.backgroundColor ?? this.layer.fillValue?.(this.mipIndex(mip)) ?? 0;
  }

  assertWritable(what: string): void {
    const reason = this.layer.readOnlyReason?.();
    if (reason) throw new CloudVolumeError("READ_ONLY", `cannot write ${what}: ${this.url} ${reason}`, { url: this.url });
    if (!this.layer.capabilities.write) throw unsupported(this, `writing ${what}`);
    if (!this.store.put || !this.store.capabilities.write) throw new CloudVolumeError("READ_ONLY", `cannot write ${what}: storage ${this.store.url} is read-only`, { url: this.url });
  }

  /** READ_ONLY unless `mip` may be written (writable layer, scale not locked). */
  assertMipWritable(mip: number, what = `mip ${mip}`): void {
    this.assertWritable(what);
    if (this.scale(mip).locked) throw new CloudVolumeError("READ_ONLY", `mip ${mip} is locked; unlock the scale before writing (unlockMips(${mip})) [${this.url}]`, { url: this.url, mip });
  }

  // ---- reading --------------------------------------------------------------

  /** The box a read of `bboxLike` covers at `mip`, with the bounds rules (bounded, autocrop). */
  requestBox(bboxLike: BboxLike, mip: number): Bbox {
    const bounds = this.bounds(mip);
    let bbox = Bbox.from(bboxLike);
    if (bbox.isEmpty()) throw new CloudVolumeError("INVALID_ARGUMENT", `requested ${bbox} is empty`, { url: this.url, mip, bbox: bbox.toString() });
    if (this.options.autocrop) {
      bbox = bbox.clamp(bounds);
      if (bbox.isEmpty()) throw new CloudVolumeError("OUT_OF_BOUNDS", `requested ${Bbox.from(bboxLike)} does not overlap the bounds ${bounds} at mip ${mip}`, { url: this.url, mip, bbox: Bbox.from(bboxLike).toString() });
    } else if (this.options.bounded && !bounds.containsBbox(bbox)) {
      throw new CloudVolumeError("OUT_OF_BOUNDS", `requested ${bbox} is outside the bounds ${bounds} at mip ${mip}; pass autocrop: true or bounded: false`, { url: this.url, mip, bbox: bbox.toString() });
    }
    return bbox;
  }

  /**
   * Read `bbox` at `mip`: expand to the chunk grid, fetch the chunks concurrently,
   * decode, and paint each overlap into one output allocated up front.
   */
  async download(bboxLike: BboxLike, io: IoOptions = {}): Promise<Cutout> {
    const mip = this.mipIndex(io.mip);
    const bbox = this.requestBox(bboxLike, mip);
    const size = bbox.size();
    const fillMissing = io.fillMissing ?? this.options.fillMissing;
    const chunks = [...chunksInRegion(bbox, this.chunkSize(mip), this.voxelOffset(mip), this.bounds(mip))];
    // The in-memory LRU lives in this thread, so with one the chunks are read here.
    const painter = io.painter && chunks.length > 1 && !this.lru?.enabled && io.painter.supports(this.parsed.protocol, this.format) ? io.painter : undefined;
    const out = allocateArray(this.dtype, [size[0], size[1], size[2], this.numChannels], this.background(mip), { shared: io.shared || painter !== undefined, allocate: this.ctx.allocate });
    if (painter) await paintInParallel(this, painter, out, bbox, mip, chunks, fillMissing, io);
    else await paintRegion(this, out, bbox, mip, fillMissing, io.signal, chunks, io.onChunk);
    return Object.assign(out, { bbox, mip });
  }

  /**
   * @internal For worker threads (PaintJob): paint `chunks` (boxes of `mip`'s grid,
   * truncated at the bounds) into `out`, which covers `bbox`.
   */
  paintChunks(out: VolumeArray, bbox: Bbox, mip: number, chunks: Bbox[], opts: { fillMissing: boolean; signal?: AbortSignal; onChunk?: () => void }): Promise<void> {
    return paintRegion(this, out, bbox, mip, opts.fillMissing, opts.signal, chunks, opts.onChunk);
  }

  /**
   * Write `data` (covering `bbox`) into the layer. Aligned writes encode and put each
   * chunk; with nonAlignedWrites, partial edge chunks are read, painted and rewritten;
   * a sharded mip is written whole shards at a time. Each object is written atomically
   * by the store.
   */
  upload(bboxLike: BboxLike, data: VolumeArray | TypedArray, io: IoOptions = {}): Promise<void> {
    return upload(this, bboxLike, data, io);
  }

  /**
   * Copy `bbox` (default: everything) of one mip into `dst` (of any format), chunk by
   * chunk, so the whole volume is never held. Chunks that exist are copied; missing ones
   * stay missing. Where both pipelines have the same signature (and compression) the
   * stored bytes are copied untouched; otherwise each chunk is decoded and re-encoded.
   */
  transferTo(dst: ChunkedVolume, opts: TransferOptions = {}): Promise<TransferStats> {
    return transferTo(this, dst, opts);
  }

  // ---- one chunk -------------------------------------------------------------

  chunkSpec(chunk: Bbox, mip: number, key?: string, params?: Readonly<Record<string, unknown>>): ChunkSpec {
    return { shape: chunk.size(), channels: this.numChannels, dtype: this.dtype, key, params: params ?? this.scale(mip) };
  }

  /** @internal The edge forms a chunk of `mip` may be stored in, given its pipeline. */
  edgeForm(p: ChunkPipeline): EdgeForm {
    return p.acceptBothEdges ? "either" : p.edgeChunks;
  }

  /**
   * @internal Decode one chunk's array-encoded bytes into voxels (Fortran x, y, z, c) of
   * `chunk`'s (truncated) shape. Edge chunks stored padded to the full chunk size (zarr,
   * n5; sharded Precomputed files from some writers) are decoded whole and cropped. With
   * `edges: "either"`, where the bytes tell which extent they have (raw: the length;
   * cseg: the block count) that decides, else truncated is tried first, then padded.
   */
  async decodeChunk(bytes: Uint8Array, chunk: Bbox, mip: number, codec: ArrayCodec, key: string, out?: Uint8Array, edges: EdgeForm = "truncated", params?: Readonly<Record<string, unknown>>): Promise<Uint8Array> {
    const spec = this.chunkSpec(chunk, mip, key, params);
    const bpv = dtypeInfo(spec.dtype).bytes;
    const decodedSize = spec.shape[0] * spec.shape[1] * spec.shape[2] * spec.channels * bpv;
    const full = this.chunkSize(mip);
    const edge = !vequal(chunk.size(), full);
    const decodePadded = async (): Promise<Uint8Array> => {
      const padded = new Bbox(chunk.min, [chunk.min[0] + full[0], chunk.min[1] + full[1], chunk.min[2] + full[2]]);
      const pv = await decodeOrFail(() => codec.decode(bytes, this.chunkSpec(padded, mip, key, params)), key, this.url, `${codec.name} chunk`);
      const target = out ?? new Uint8Array(decodedSize);
      copyBox({ src: pv, srcShape: full, srcOrigin: [0, 0, 0], dst: target, dstShape: spec.shape, dstOrigin: [0, 0, 0], size: spec.shape, bytesPerVoxel: bpv, channels: spec.channels });
      return target;
    };
    if (edge && edges === "padded") return decodePadded();
    let either = edge && edges === "either";
    if (either) {
      const extent = storedEdgeExtent(codec.name, bytes, spec.shape, full, spec.channels, bpv, spec.params?.compressed_segmentation_block_size as number[] | undefined);
      if (extent === "padded") return decodePadded();
      if (extent === "truncated") either = false;
    }
    // Codecs that build their output (all but passthrough ones like raw, which hand back their input) decode into a pooled buffer.
    const target = out ?? (codec.passthrough ? undefined : this.pool.acquire(decodedSize));
    let voxels: Uint8Array;
    try {
      voxels = await decodeOrFail(() => codec.decode(bytes, spec, target), key, this.url, `${codec.name} chunk`);
      if (voxels.byteLength !== decodedSize) {
        throw new CloudVolumeError("DECODE_FAILED", `chunk ${key} decoded to ${voxels.byteLength} bytes, expected ${decodedSize}`, { url: this.url, key, mip });
      }
    } catch (e) {
      if (!(either && isCloudVolumeError(e, "DECODE_FAILED"))) throw e;
      try {
        return await decodePadded();
      } catch {
        throw e; // neither form: report the truncated one, which is what the format asks for
      }
    }
    if (out && voxels !== out) out.set(voxels);
    return out ?? voxels;
  }

  /**
   * @internal Encode one chunk's voxels (of `chunk`'s truncated shape). A pipeline that
   * stores edge chunks padded gets them padded with the background first.
   */
  async encodeChunk(voxels: Uint8Array, chunk: Bbox, mip: number, p: ChunkPipeline, key: string): Promise<Uint8Array> {
    const codec = p.codec;
    if (!codec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `codec ${codec.name} can decode but not encode`, { url: this.url, mip });
    const full = this.chunkSize(mip);
    const shape = chunk.size();
    if (p.edgeChunks !== "padded" || vequal(shape, full)) {
      return encodeOrFail(() => codec.encode!(voxels, this.chunkSpec(chunk, mip, key, p.params)), key, this.url, `${codec.name} chunk`);
    }
    const bpv = dtypeInfo(this.dtype).bytes;
    const channels = this.numChannels;
    const padded = new Bbox(chunk.min, [chunk.min[0] + full[0], chunk.min[1] + full[1], chunk.min[2] + full[2]]);
    const buf = new Uint8Array(full[0] * full[1] * full[2] * channels * bpv);
    fillPattern(buf, scalarBytesOf(this, mip));
    copyBox({ src: voxels, srcShape: shape, srcOrigin: [0, 0, 0], dst: buf, dstShape: full, dstOrigin: [0, 0, 0], size: shape, bytesPerVoxel: bpv, channels });
    const encoded = await encodeOrFail(() => codec.encode!(buf, this.chunkSpec(padded, mip, key, p.params)), key, this.url, `${codec.name} chunk`);
    return encoded;
  }

  /** @internal One chunk's voxel bytes (Fortran x, y, z, c), or undefined when it does not exist. */
  async readChunk(key: string, chunk: Bbox, mip: number, p: ChunkPipeline, signal?: AbortSignal, out?: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.lru.enabled) return this.lruRead(key, chunk, mip, p, key, () => this.fetchPayload(key, chunk, mip, p.codec, signal), out);
    const bytes = await this.fetchPayload(key, chunk, mip, p.codec, signal);
    if (bytes === undefined) return undefined;
    return this.decodeChunk(bytes, chunk, mip, p.codec, key, out, this.edgeForm(p), p.params);
  }

  /**
   * @internal One chunk's voxels through the in-memory LRU (cache/chunk-lru.ts): a hit
   * reads no storage; `fetch` gives the chunk's array-encoded bytes on a miss. The result
   * is the caller's to release to the pool, never the LRU's own buffer.
   */
  lruRead(
    lruKey: string, chunk: Bbox, mip: number, p: ChunkPipeline, key: string, fetch: () => Promise<Uint8Array | undefined>,
    out?: Uint8Array, cached?: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    const spec = this.chunkSpec(chunk, mip, key, p.params);
    const size = spec.shape[0] * spec.shape[1] * spec.shape[2] * spec.channels * dtypeInfo(spec.dtype).bytes;
    return this.lru.read(lruKey, {
      size, codec: p.codec, spec, fetch, out, cached,
      // Only the stored bytes may be a padded edge chunk; LRU re-encodings are of the truncated chunk.
      decode: (bytes, c, o) => this.decodeChunk(bytes, chunk, mip, c, key, o, c === p.codec ? this.edgeForm(p) : "truncated", p.params),
      acquire: (n) => this.pool.acquire(n),
    });
  }

  /**
   * @internal A stored (unsharded) chunk's array-encoded bytes with its transfer
   * compression removed. `codec` is the one that will decode them: a passthrough codec's
   * payload may be inflated into a pooled buffer.
   */
  async fetchPayload(key: string, chunk: Bbox, mip: number, codec: ArrayCodec | undefined, signal?: AbortSignal): Promise<Uint8Array | undefined> {
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
      if (onThread && byteCodec?.decodeInto && codec?.passthrough) {
        // A passthrough payload is the voxels: inflate into a pooled buffer of the decoded
        // size, which the codec hands back as the chunk and the painter releases to the pool.
        const target = this.pool.acquire(decodedSize);
        const got = await decodeOrFail(() => byteCodec.decodeInto!(bytes, target, { key }), key, this.url, `${obj.contentEncoding} stream`);
        if (got.buffer !== target.buffer) this.pool.release(target);
        return got;
      }
      bytes = await decodeOrFail(() => byteCodec!.decode(bytes, { decodedSize, key }), key, this.url, `${obj.contentEncoding} stream`);
    }
    return bytes;
  }

  /** @internal An object as stored, with the content encoding the store reports. */
  fetch(key: string, signal?: AbortSignal): Promise<{ data: Uint8Array; contentEncoding?: string } | undefined> {
    const store = this.store;
    return this.request(async () => {
      throwIfAborted(signal);
      if (store.getObject) return store.getObject(key, { signal });
      const data = await store.get(key, { signal });
      return data && { data };
    }, signal);
  }

  /** @internal The bytes of an object exactly as stored (no suffix variants, no decoding). */
  fetchRaw(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.request(() => this.store.get(key, { signal }), signal);
  }

  /** @internal Run one storage request under the protocol's limiter, with retries. */
  request<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.ctx.limiter(this.parsed.protocol).run(() => withRetry(fn, this.ctx.retry, signal), signal);
  }

  /** @internal How many requests of this layer's protocol may run at once. */
  get concurrency(): number {
    return this.ctx.concurrencyOf(this.parsed.protocol);
  }

  /**
   * @internal Encode, compress and put one chunk's voxels; with deleteBlackUploads a
   * chunk that is all background is deleted instead.
   */
  async writeChunk(key: string, chunk: Bbox, mip: number, voxels: Uint8Array, p: ChunkPipeline, byteCodec: { name: string; encode(b: Uint8Array, o?: { level?: number }): Uint8Array | Promise<Uint8Array> } | undefined, cacheControl: string, bgPattern: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.options.deleteBlackUploads && isUniformBytes(voxels, bgPattern)) {
      await this.request(() => this.store.delete!(key), signal);
      return;
    }
    let payload = await this.encodeChunk(voxels, chunk, mip, p, key);
    if (byteCodec) payload = await encodeOrFail(() => byteCodec.encode(payload, { level: this.options.compressLevel }), key, this.url, `${byteCodec.name} stream`);
    throwIfAborted(signal);
    await this.putBytes(key, payload, byteCodec?.name, cacheControl, signal);
  }

  /** @internal Put one object. */
  putBytes(key: string, payload: Uint8Array, contentEncoding: string | undefined, cacheControl: string, signal?: AbortSignal): Promise<void> {
    return this.request(() => this.store.put!(key, payload, { contentEncoding, contentType: "application/octet-stream", cacheControl }), signal);
  }

  /** @internal Cache-Control of this volume's writes. */
  cacheControl(): string {
    return cacheControlFor(this.options.cdnCache);
  }

  /** Release pooled buffers and the store's handles. */
  async close(): Promise<void> {
    this.pool.clear();
    await this.layer.close?.();
    await this.store.close?.();
  }
}

/** The background of `mip` as the bytes of one voxel value. */
export function scalarBytesOf(vol: ChunkedVolume, mip: number): Uint8Array {
  return scalarBytes(vol.dtype, vol.background(mip));
}

/** UNSUPPORTED naming the format and the operation. */
export function unsupported(vol: ChunkedVolume, what: string): CloudVolumeError {
  return new CloudVolumeError("UNSUPPORTED", `the ${vol.format} format does not support ${what} (${vol.url})`, { url: vol.url });
}

export async function decodeOrFail(fn: () => Uint8Array | Promise<Uint8Array>, key: string, url: string, what: string): Promise<Uint8Array> {
  try {
    return await fn();
  } catch (cause) {
    if (isCloudVolumeError(cause) && cause.code !== "DECODE_FAILED") throw cause;
    const msg = (cause as Error)?.message ?? String(cause);
    throw new CloudVolumeError("DECODE_FAILED", `cannot decode ${what} ${key}: ${msg}`, { url, key, cause });
  }
}

export async function encodeOrFail(fn: () => Uint8Array | Promise<Uint8Array>, key: string, url: string, what: string): Promise<Uint8Array> {
  try {
    return await fn();
  } catch (cause) {
    if (isCloudVolumeError(cause)) throw cause;
    throw new CloudVolumeError("ENCODE_FAILED", `cannot encode ${what} ${key}: ${(cause as Error)?.message ?? cause}`, { url, key, cause });
  }
}
