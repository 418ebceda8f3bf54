import {
  Bbox, CloudVolumeError, formatUrl, isCloudVolumeError,
  type ChunkPipeline, type Context, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatOpenOptions,
  type KeyValueStore, type LayerInfo, type ParsedUrl, type ShardedChunks,
} from "@cloudvolume/core";
import { chunkStrides, type AxisMap } from "./axes.js";
import { compressorStage, zarrChunkCodec, type ChunkEncoding } from "./codec.js";
import { show } from "./errors.js";
import { attachedV2, readV2Layer, toZarr2Metadata, type ZarrDriverOptions } from "./layout-v2.js";
import { attachedV3, defaultSharding, readV3Layer, shardingOf, toZarr3Metadata } from "./layout-v3.js";
import type { ZarrArrayMeta } from "./metadata.js";
import { attachmentOf, checkInfoMatches, join, presentInfo, ZARR3_SHARDING, type AnyZarrArray, type Mip, type ZarrGroup } from "./present.js";
import { v3ChunkEncoding } from "./v3-codec.js";
import { chunkKeyV3 } from "./v3-metadata.js";
import { ZarrShards } from "./v3-shards.js";

export { DEFAULT_COMPRESSOR, type ZarrDriverOptions } from "./layout-v2.js";

export const FORMAT_NAMES = ["zarr", "zarr2", "zarr3"] as const;

const CAPABILITIES_V2: FormatCapabilities = { write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false };
const CAPABILITIES_V3: FormatCapabilities = { ...CAPABILITIES_V2, sharded: true };

/** Compressor ids (numcodecs) -> compression plugin names. */
const COMPRESSION_NAMES: Record<string, string> = { gzip: "gzip", zlib: "zlib", zstd: "zstd", blosc: "blosc", bz2: "bz2", lz4: "lz4" };

/**
 * A zarr layer, v2 or v3: an array at the URL (one mip), or an OME-NGFF multiscale group
 * (one mip per dataset; 0.4 in a v2 group's .zattrs, 0.5 in a v3 group's zarr.json).
 * Presented in Precomputed's info form: encoding "raw" (chunks are raw voxels once the
 * zarr codecs are undone; those are the zarr analogue of transfer compression, and are
 * kept in the array's own metadata), sizes, chunk sizes, resolutions (nm) and voxel
 * offsets from the OME-NGFF scale and translation. A v3 array with the sharding_indexed
 * codec is a sharded mip: its inner chunks are the engine's chunks.
 */
export class ZarrLayer implements FormatLayer {
  readonly capabilities: FormatCapabilities;
  private readonly pipelines = new Map<number, { meta: AnyZarrArray; map: AxisMap; p: Promise<ChunkPipeline> }>();
  private readonly shardAdapters = new Map<number, { meta: AnyZarrArray; sh: ZarrShards }>();

  private constructor(
    readonly ctx: Context,
    readonly format: string,
    readonly url: string,
    readonly parsed: ParsedUrl,
    public store: KeyValueStore,
    public info: LayerInfo,
    private mips: Mip[],
    private group: ZarrGroup | undefined,
    private readonly opts: ZarrDriverOptions,
    /** The zarr version of this layer's arrays. */
    readonly version: 2 | 3,
  ) {
    this.capabilities = version === 3 ? CAPABILITIES_V3 : CAPABILITIES_V2;
  }

  static async open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions & ZarrDriverOptions): Promise<ZarrLayer> {
    const given = url.input ?? formatUrl(url.format, url.storageUrl);
    checkDriverOptions(opts, given);
    const store = await ctx.storage(url);
    if (opts.info) {
      const info = structuredClone(opts.info) as LayerInfo;
      const a = attachmentOf(info, given);
      // zarr3:// and zarr2:// say which version to create; zarr:// keeps the source's (an attachment) or writes v2.
      const version = url.format === "zarr3" ? 3 : url.format === "zarr2" ? 2 : a?.version ?? 2;
      const known = a && a.version === version ? (version === 2 ? attachedV2(a, opts, given) : attachedV3(a, opts, given)) : undefined;
      const { mips, group } = metadataFor(version, info, known?.mips ?? [], known?.group, opts, given);
      return new ZarrLayer(ctx, url.format, given, url, store, presentInfo(info, mips, group), mips, group, opts, version);
    }
    const read = await readLayer(store, given, url.format, opts, opts.signal);
    return new ZarrLayer(ctx, url.format, given, url, store, presentInfo(undefined, read.mips, read.group), read.mips, read.group, opts, read.version);
  }

  private mip(mip: number): Mip {
    const m = this.mips[mip];
    if (!m || !this.info.scales[mip]) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; this layer has mips 0..${this.info.scales.length - 1}`, { url: this.url, mip });
    return m;
  }

  /** The zarr metadata of a mip (after commitInfo: as written): a v2 .zarray or a v3 zarr.json. */
  zarray(mip: number): AnyZarrArray {
    return this.mip(mip).meta;
  }

  /** Grid position (zarr axes) of an engine chunk, in chunks of `cell` (the chunk, or the shard). */
  private gridIndex(chunk: Bbox, mip: number, cell: readonly number[]): number[] {
    const { meta, map } = this.mip(mip);
    const s = this.info.scales[mip];
    const cs = s.chunk_sizes[0];
    const idx = new Array<number>(map.ndim).fill(0);
    const ours = [map.x, map.y, map.z];
    for (let d = 0; d < 3; d++) {
      const g = (chunk.min[d] - s.voxel_offset[d]) / cs[d];
      if (!Number.isInteger(g)) throw new CloudVolumeError("ALIGNMENT", `chunk ${chunk} does not start on the ${cs.join("x")} grid at ${s.voxel_offset.join(",")}`, { url: this.url, mip });
      if (ours[d] >= 0) idx[ours[d]] = Math.floor((g * meta.chunks[ours[d]]) / cell[ours[d]]);
    }
    for (const f of map.fixed) idx[f.axis] = Math.floor(f.index / cell[f.axis]);
    return idx;
  }

  /** The storage key of a chunk (of a sharded mip: the key of the shard object holding it, which NOT_FOUND and exists name). */
  chunkKey(chunk: Bbox, mip: number): string {
    const { meta } = this.mip(mip);
    if (meta.version === 2) return join(meta.path, this.gridIndex(chunk, mip, meta.chunks).join(meta.separator));
    return chunkKeyV3(meta, this.gridIndex(chunk, mip, meta.grid));
  }

  chunkPrefix(mip: number): string {
    const p = this.mip(mip).meta.path;
    return p === "" ? "" : `${p}/`;
  }

  sharded(mip: number): ShardedChunks | undefined {
    const { meta, map } = this.mip(mip);
    if (meta.version !== 3 || !meta.chain.sharding) return undefined;
    const known = this.shardAdapters.get(mip);
    if (known && known.meta === meta) return known.sh;
    const s = this.info.scales[mip];
    const bounds = new Bbox(s.voxel_offset, [0, 1, 2].map((d) => s.voxel_offset[d] + s.size[d]) as [number, number, number]);
    const sh = new ZarrShards(() => this.store, meta, map, bounds, this.url, mip);
    this.shardAdapters.set(mip, { meta, sh });
    return sh;
  }

  /**
   * Shard a v3 scale (`true`: the default shards unless it already is; a `{ "@type":
   * "zarr3_sharding_indexed", shard_shape, index_location }` spec: those shards) or
   * unshard it (`false`). Takes effect at commitInfo; existing chunks are not moved.
   */
  setSharding(mip: number, sharded: boolean | Record<string, unknown>): boolean {
    const s = this.info.scales[mip];
    this.mip(mip);
    if (this.version === 2) {
      if (sharded === false) return false;
      throw new CloudVolumeError("UNSUPPORTED", `${this.url} is a zarr v2 layer, which has no sharding; write to zarr3:// for sharded arrays (the sharding_indexed codec)`, { url: this.url, mip });
    }
    const before = JSON.stringify(s.sharding ?? null);
    if (sharded === false) delete s.sharding;
    else if (sharded === true) {
      if (!this.sharded(mip)) s.sharding = defaultSharding(s);
    } else {
      s.sharding = { ...sharded };
      if (sharded["@type"] !== ZARR3_SHARDING) throw new CloudVolumeError("INVALID_ARGUMENT", `sharding for ${this.url} must be true, false or { "@type": "${ZARR3_SHARDING}", shard_shape, index_location }, got ${show(sharded)}`, { url: this.url, mip });
      shardingOf(s, mip, this.url); // check it now
    }
    return JSON.stringify(s.sharding ?? null) !== before;
  }

  pipeline(mip: number): Promise<ChunkPipeline> {
    const { meta, map } = this.mip(mip);
    const known = this.pipelines.get(mip);
    if (known && known.meta === meta && known.map === map) return known.p;
    const p = this.buildPipeline(mip, meta, map);
    p.catch(() => this.pipelines.delete(mip));
    this.pipelines.set(mip, { meta, map, p });
    return p;
  }

  private async buildPipeline(mip: number, meta: AnyZarrArray, map: AxisMap): Promise<ChunkPipeline> {
    checkInfoMatches(this.info, mip, meta, map, this.url);
    if (map.c >= 0 && meta.chunks[map.c] < meta.shape[map.c]) {
      throw new CloudVolumeError(
        "UNSUPPORTED",
        `${meta.key} of ${this.url}: chunks split the channel axis (${meta.chunks[map.c]} of ${meta.shape[map.c]} channels per chunk); open it with { channel: <index> } to read one channel`,
        { url: this.url, key: meta.key, mip },
      );
    }
    const enc = meta.version === 2 ? await this.v2Encoding(meta, mip) : await v3ChunkEncoding(this.ctx, meta, this.url, mip);
    const layout = meta.version === 2 ? { order: meta.order, compressor: meta.compressor } : { codecs: meta.json.codecs };
    return {
      codec: zarrChunkCodec(enc, map, this.fillValue(mip)),
      params: meta.version === 2 ? meta.compressor ?? {} : {},
      // Equal signatures store interchangeable chunk bytes (the engine also compares the grids).
      signature: `zarr${meta.version} ${JSON.stringify({ dtype: meta.dtype.text, big: enc.bigEndian, ...layout, chunks: meta.chunks, axes: [map.x, map.y, map.z, map.c], fixed: map.fixed.map((f) => [f.axis, f.index]) })}`,
      edgeChunks: "padded",
    };
  }

  private async v2Encoding(meta: ZarrArrayMeta, mip: number): Promise<ChunkEncoding> {
    if (meta.filters !== null && meta.filters.length > 0) {
      const ids = meta.filters.map((f) => JSON.stringify((f as Record<string, unknown>).id)).join(", ");
      throw new CloudVolumeError("UNKNOWN_CODEC", `${meta.key} of ${this.url}: filters ${ids} are not supported (the zarr format driver reads arrays with "filters": null)`, { url: this.url, key: meta.key, mip });
    }
    const stages = [];
    if (meta.compressor) {
      const id = String(meta.compressor.id);
      try {
        const codec = await this.ctx.compression(COMPRESSION_NAMES[id] ?? id);
        if (!codec) throw new CloudVolumeError("UNKNOWN_CODEC", `no compression plugin for ${id}`);
        stages.push(compressorStage(id, codec, { ...meta.compressor, typesize: meta.dtype.itemsize }));
      } catch (e) {
        if (!isCloudVolumeError(e, "UNKNOWN_CODEC")) throw e;
        throw new CloudVolumeError("UNKNOWN_CODEC", `${meta.key} of ${this.url}: compressor ${show(meta.compressor)}: ${e.message}`, { url: this.url, key: meta.key, mip, cause: e });
      }
    }
    return {
      name: `zarr2 ${meta.compressor ? String(meta.compressor.id) : "raw"}`,
      chunks: meta.chunks, strides: chunkStrides(meta.chunks, meta.order), dtype: meta.dtype, bigEndian: meta.dtype.bigEndian, stages,
    };
  }

  /** Chunks are compressed by the zarr codecs inside the chunk codec; no transfer compression on top. */
  defaultCompression(): string | undefined {
    return undefined;
  }

  fillValue(mip: number): number | bigint {
    const { meta } = this.mip(mip);
    if (meta.fill === null) return meta.dtype.dataType === "uint64" || meta.dtype.dataType === "int64" ? 0n : 0;
    return meta.fill;
  }

  readOnlyReason(): string | undefined {
    for (const { meta, map } of this.mips) {
      // A shard (v3) or chunk spanning other indices of a fixed axis would lose them on a write.
      const cell = meta.version === 3 ? meta.grid : meta.chunks;
      const f = map.fixed.find((a) => cell[a.axis] > 1);
      if (f) return `is read-only here: its ${meta.version === 3 && meta.chain.sharding ? "shards" : "chunks"} hold ${cell[f.axis]} entries of ${f.name} and only index ${f.index} is read, so a write would drop the others`;
    }
    return undefined;
  }

  /** Persist `info`: v2 .zgroup / .zattrs (OME-NGFF 0.4) and .zarray files; v3 zarr.json files (OME-NGFF 0.5). */
  async commitInfo(): Promise<void> {
    const { mips, group, writes } = metadataFor(this.version, this.info, this.mips, this.group, this.opts, this.url);
    // Arrays first, the group last: a reader never finds a multiscale naming arrays not yet written.
    for (const [key, body] of writes) await this.store.put!(key, new TextEncoder().encode(body), { contentType: "application/json", cacheControl: "no-cache" });
    this.mips = mips;
    this.group = group;
    this.info = presentInfo(this.info, mips, group);
  }

  async refreshInfo(signal?: AbortSignal): Promise<LayerInfo> {
    const read = await readLayer(this.store, this.url, this.format, this.opts, signal);
    this.mips = read.mips;
    this.group = read.group;
    this.info = presentInfo(undefined, read.mips, read.group);
    return this.info;
  }
}

function metadataFor(version: 2 | 3, info: LayerInfo, existing: Mip[], group: ZarrGroup | undefined, opts: ZarrDriverOptions, url: string) {
  return version === 2 ? toZarr2Metadata(info, existing, group, opts, url) : toZarr3Metadata(info, existing, group, opts, url);
}

function checkDriverOptions(o: ZarrDriverOptions, url: string): void {
  const bad = (what: string) => new CloudVolumeError("INVALID_ARGUMENT", `zarr option ${what} (${url})`, { url });
  for (const k of ["t", "channel"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw bad(`${k} must be a non-negative integer, got ${show(o[k])}`);
  if (o.compressor !== undefined && o.compressor !== null && (typeof o.compressor !== "object" || typeof o.compressor.id !== "string")) throw bad(`compressor must be null or a codec configuration with an id, got ${show(o.compressor)}`);
  if (o.dimensionSeparator !== undefined && o.dimensionSeparator !== "." && o.dimensionSeparator !== "/") throw bad(`dimensionSeparator must be "." or "/", got ${show(o.dimensionSeparator)}`);
  if (o.order !== undefined && o.order !== "C" && o.order !== "F") throw bad(`order must be "C" or "F", got ${show(o.order)}`);
  if (o.shards !== undefined && typeof o.shards !== "boolean" && !(Array.isArray(o.shards) && o.shards.length === 3 && o.shards.every((n) => Number.isSafeInteger(n) && n > 0))) {
    throw bad(`shards must be true, false or a shard shape [x, y, z] in voxels, got ${show(o.shards)}`);
  }
}

/** The layer at the store's root: zarr:// reads v2 or v3 (v2 metadata wins if both are there), zarr2:// and zarr3:// one. */
async function readLayer(store: KeyValueStore, url: string, format: string, opts: ZarrDriverOptions, signal?: AbortSignal): Promise<{ mips: Mip[]; group: ZarrGroup | undefined; version: 2 | 3 }> {
  const [v2, v3] = await Promise.all([
    format === "zarr3" ? undefined : readV2Layer(store, url, opts, signal),
    format === "zarr2" ? undefined : readV3Layer(store, url, opts, signal),
  ]);
  if (v2) return { ...v2, version: 2 };
  if (v3) return { ...v3, version: 3 };
  const other = format === "zarr2" ? "zarr.json" : format === "zarr3" ? ".zarray" : undefined;
  if (other && (await store.get(other, { signal })) !== undefined) {
    throw new CloudVolumeError("INVALID_METADATA", `${url} is a zarr ${format === "zarr2" ? "v3" : "v2"} layer (it has ${other}), not ${format === "zarr2" ? "v2" : "v3"}; open it with zarr:// or ${format === "zarr2" ? "zarr3" : "zarr2"}://`, { url, key: other });
  }
  const what = format === "zarr2" ? "no .zarray, .zgroup or .zattrs" : format === "zarr3" ? "no zarr.json" : "no .zarray, .zgroup, .zattrs or zarr.json";
  throw new CloudVolumeError("NOT_FOUND", `no zarr array or group at ${url} (${what}); create one by opening it with { info } and calling commitInfo()`, { url, key: format === "zarr3" ? "zarr.json" : ".zarray" });
}

/** The zarr format driver: what the plugin's load() gives the chunk engine. */
export const zarrDriver: FormatDriver = {
  name: "zarr",
  open: (ctx, url, opts) => ZarrLayer.open(ctx, url, opts as FormatOpenOptions & ZarrDriverOptions),
};

