import {
  Bbox, Context, type BboxLike, type ContextOptions, type DataType, type Plugin, type TypedArray, type Vec3, type VolumeArray,
} from "@cloudvolume/core";
import {
  PrecomputedVolume, addScale, createNewInfo, resetScales, type AddScaleOptions, type Cutout, type IoOptions,
  type NewInfoOptions, type PrecomputedInfo, type PrecomputedOptions, type Provenance, type ScaleInfo,
  type ShardingSpecJson, type TransferOptions, type TransferStats,
} from "@cloudvolume/format-precomputed";

export interface CloudVolumeOptions extends PrecomputedOptions {
  /** Share limits and loaded plugins between volumes by passing one Context. */
  context?: Context;
  /** Extra plugins, tried before the defaults (ignored when `context` is given). */
  plugins?: Plugin[];
  concurrency?: ContextOptions["concurrency"];
}

/**
 * The CloudVolume API: one layer, one current mip, downloads and uploads as
 * Fortran-ordered (x, y, z, channel) arrays. A thin, typed face over the
 * Precomputed format driver with a default plugin set supplied by the entry point.
 */
export class CloudVolume {
  /** @internal Use CloudVolume.open. */
  constructor(protected readonly vol: PrecomputedVolume, readonly context: Context) {}

  /** Open `[precomputed://]protocol://path` (a bare path is local disk). */
  static async openWith<T extends CloudVolume>(this: new (vol: PrecomputedVolume, ctx: Context) => T, defaults: () => Plugin[], url: string, options: CloudVolumeOptions = {}): Promise<T> {
    const ctx = options.context ?? new Context({ plugins: [...(options.plugins ?? []), ...defaults()], concurrency: options.concurrency });
    const parsed = ctx.parse(url);
    if (parsed.format !== "precomputed") {
      await ctx.format(parsed.format); // throws naming the package that provides the format
    }
    const vol = await PrecomputedVolume.open(ctx, url, options);
    return new this(vol, ctx);
  }

  /** Build a new info (CloudVolume.create_new_info); pass it as `info` to open, then commitInfo(). */
  static createNewInfo(o: NewInfoOptions): PrecomputedInfo {
    return createNewInfo(o);
  }

  get url(): string { return this.vol.url; }
  get info(): PrecomputedInfo { return this.vol.info; }
  set info(info: PrecomputedInfo) { this.vol.info = info; }
  get provenance(): Provenance { return this.vol.provenance; }
  set provenance(p: Provenance) { this.vol.provenance = p; }
  get mip(): number { return this.vol.mip; }
  set mip(m: number | Vec3) { this.vol.mip = this.vol.mipIndex(m); }
  get scales(): ScaleInfo[] { return this.vol.info.scales; }
  get scale(): ScaleInfo { return this.vol.scale(); }
  get dtype(): DataType { return this.vol.dtype; }
  get dataType(): DataType { return this.vol.dtype; }
  get numChannels(): number { return this.vol.numChannels; }
  get layerType(): string { return this.vol.layerType; }
  get readOnly(): boolean { return this.vol.readOnly; }
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
  download(bbox: BboxLike, opts: IoOptions = {}): Promise<Cutout> {
    return this.vol.download(bbox, opts);
  }

  /** Write `data` (a typed array of the layer's dtype in Fortran order, or {data, shape}) to `bbox`. */
  upload(bbox: BboxLike, data: VolumeArray | TypedArray, opts: IoOptions = {}): Promise<void> {
    return this.vol.upload(bbox, data, opts);
  }

  addScale(factor: Vec3, opts?: AddScaleOptions): ScaleInfo { return addScale(this.vol.info, factor, opts); }
  resetScales(): void { resetScales(this.vol.info); }
  commitInfo(): Promise<void> { return this.vol.commitInfo(); }
  commitProvenance(): Promise<void> { return this.vol.commitProvenance(); }
  refreshInfo(): Promise<PrecomputedInfo> { return this.vol.refreshInfo(); }
  refreshProvenance(): Promise<Provenance> { return this.vol.refreshProvenance(); }
  /** The compression writes use at `mip` ("gzip", "br", or undefined for none). */
  writeCompression(mip?: number): string | undefined { return this.vol.writeCompression(mip); }

  /**
   * Copy one mip (default: the current one) into `dst` chunk by chunk, re-encoding
   * only where `dst`'s encoding or compression differs. Never holds the whole volume.
   * `sharded: true` writes `dst`'s scale in the sharded format (CloudVolume's parameter
   * choice), `false` as plain chunk files; a sharded destination is written whole
   * shards at a time, so `bbox` must cover whole shards.
   */
  transferTo(dst: CloudVolume, opts: TransferOptions = {}): Promise<TransferStats> {
    return this.vol.transferTo(dst.vol, { ...opts, mip: opts.mip ?? this.mip });
  }

  /** True when the mip (default: the current one) is stored in the sharded format. */
  isSharded(mip?: number | Vec3): boolean { return this.vol.isSharded(mip); }
  /** Voxel shape of one shard (CloudVolume's shard_shape); sharded uploads cover whole shards. */
  shardShape(mip?: number | Vec3): Vec3 { return this.vol.shardShape(mip); }
  /** Shard (`true`: CloudVolume's parameters, or a given spec) or unshard a scale, committing the info. */
  setSharding(mip: number, sharded: boolean | ShardingSpecJson): Promise<void> { return this.vol.setSharding(mip, sharded); }

  /** Release handles and pooled buffers. The volume is unusable afterwards. */
  close(): Promise<void> { return this.vol.close(); }
}
