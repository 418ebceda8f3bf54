import {
  Bbox, CloudVolumeError, formatUrl, isCloudVolumeError, isDataType, DATA_TYPES,
  type ChunkPipeline, type Context, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatOpenOptions,
  type KeyValueStore, type LayerInfo, type LayerScaleInfo, type ParsedUrl, type Vec3,
} from "@cloudvolume/core";
import { axisMap, type AxisMap, type AxisOptions } from "./axes.js";
import { zarrChunkCodec } from "./codec.js";
import { dtypeText } from "./dtype.js";
import { show } from "./errors.js";
import { nanometresPer, parseJsonFile, parseMultiscales, parseZarray, type DimensionSeparator, type NgffAxis, type NgffMultiscale, type ZarrArrayMeta } from "./metadata.js";

export const FORMAT_NAMES = ["zarr", "zarr2", "zarr3"] as const;

const CAPABILITIES: FormatCapabilities = { write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false };

/**
 * What new arrays are written with: zarr-python 2's default compressor (blosc lz4, clevel
 * 5, byte shuffle), C order, "/" chunk keys (OME-NGFF 0.4 asks for "/"), fill value 0.
 */
export const DEFAULT_COMPRESSOR: Readonly<Record<string, unknown>> = Object.freeze({ id: "blosc", cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0 });

/** Open options only the zarr driver knows (CloudVolume.open(url, { ...these })). */
export interface ZarrDriverOptions extends AxisOptions {
  /** Compressor of arrays this layer creates: a numcodecs configuration, or null for none (default DEFAULT_COMPRESSOR). */
  compressor?: Record<string, unknown> | null;
  /** Chunk key separator of arrays this layer creates (default "/"). */
  dimensionSeparator?: DimensionSeparator;
  /** Element order of arrays this layer creates (default "C"). */
  order?: "C" | "F";
  /** Store arrays this layer creates big-endian (default false). */
  bigEndian?: boolean;
}

/** Compressor ids (numcodecs) -> compression plugin names. */
const COMPRESSION_NAMES: Record<string, string> = { gzip: "gzip", zlib: "zlib", zstd: "zstd", blosc: "blosc", bz2: "bz2", lz4: "lz4" };

interface Mip {
  meta: ZarrArrayMeta;
  map: AxisMap;
  /** The .zarray as read (undefined for arrays this layer creates). */
  original?: ZarrArrayMeta;
}

const join = (...parts: string[]) => parts.filter((p) => p !== "").join("/");

/**
 * A zarr v2 layer: an array at the URL (one mip), or an OME-NGFF 0.4 multiscale group
 * (one mip per dataset). Presented in Precomputed's info form: encoding "raw" (chunks are
 * raw voxels once the zarr compressor is undone; the compressor is the zarr analogue of
 * transfer compression, and is kept in the array's own metadata), sizes, chunk sizes,
 * resolutions (nm) and voxel offsets from the OME-NGFF scale and translation.
 */
export class ZarrLayer implements FormatLayer {
  readonly capabilities = CAPABILITIES;
  private readonly pipelines = new Map<number, { meta: ZarrArrayMeta; map: AxisMap; p: Promise<ChunkPipeline> }>();

  private constructor(
    readonly ctx: Context,
    readonly format: string,
    readonly url: string,
    readonly parsed: ParsedUrl,
    public store: KeyValueStore,
    public info: LayerInfo,
    private mips: Mip[],
    /** The multiscale group's .zattrs (undefined: a plain array at the root). */
    private group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined,
    private readonly opts: ZarrDriverOptions,
  ) {}

  static async open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions & ZarrDriverOptions): Promise<ZarrLayer> {
    const given = url.input ?? formatUrl(url.format, url.storageUrl);
    if (url.format === "zarr3") throw v3NotImplemented(given);
    checkDriverOptions(opts, given);
    const store = await ctx.storage(url);
    if (opts.info) {
      const { info, mips, group } = fromLayerInfo(structuredClone(opts.info) as LayerInfo, opts, given);
      return new ZarrLayer(ctx, url.format, given, url, store, info, mips, group, opts);
    }
    const read = await readLayer(store, given, url.format, opts, opts.signal);
    return new ZarrLayer(ctx, url.format, given, url, store, read.info, read.mips, read.group, opts);
  }

  private mip(mip: number): Mip {
    const m = this.mips[mip];
    if (!m || !this.info.scales[mip]) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; this layer has mips 0..${this.info.scales.length - 1}`, { url: this.url, mip });
    return m;
  }

  /** The zarr metadata of a mip (after commitInfo: as written). */
  zarray(mip: number): ZarrArrayMeta {
    return this.mip(mip).meta;
  }

  chunkKey(chunk: Bbox, mip: number): string {
    const { meta, map } = this.mip(mip);
    const s = this.info.scales[mip];
    const cs = s.chunk_sizes[0];
    const idx = new Array<number>(map.ndim).fill(0);
    const ours = [map.x, map.y, map.z];
    for (let d = 0; d < 3; d++) {
      const g = (chunk.min[d] - s.voxel_offset[d]) / cs[d];
      if (!Number.isInteger(g)) throw new CloudVolumeError("ALIGNMENT", `chunk ${chunk} does not start on the ${cs.join("x")} grid at ${s.voxel_offset.join(",")}`, { url: this.url, mip });
      if (ours[d] >= 0) idx[ours[d]] = g;
    }
    for (const f of map.fixed) idx[f.axis] = Math.floor(f.index / meta.chunks[f.axis]);
    return join(meta.path, idx.join(meta.separator));
  }

  chunkPrefix(mip: number): string {
    const p = this.mip(mip).meta.path;
    return p === "" ? "" : `${p}/`;
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

  private async buildPipeline(mip: number, meta: ZarrArrayMeta, map: AxisMap): Promise<ChunkPipeline> {
    checkInfoMatches(this.info, mip, meta, map, this.url);
    if (meta.filters !== null && meta.filters.length > 0) {
      const ids = meta.filters.map((f) => JSON.stringify((f as Record<string, unknown>).id)).join(", ");
      throw new CloudVolumeError("UNKNOWN_CODEC", `${meta.key} of ${this.url}: filters ${ids} are not supported (the zarr format driver reads arrays with "filters": null)`, { url: this.url, key: meta.key, mip });
    }
    if (map.c >= 0 && meta.chunks[map.c] < meta.shape[map.c]) {
      throw new CloudVolumeError(
        "UNSUPPORTED",
        `${meta.key} of ${this.url}: chunks split the channel axis (${meta.chunks[map.c]} of ${meta.shape[map.c]} channels per chunk); open it with { channel: <index> } to read one channel`,
        { url: this.url, key: meta.key, mip },
      );
    }
    let compressor;
    if (meta.compressor) {
      const id = String(meta.compressor.id);
      try {
        compressor = await this.ctx.compression(COMPRESSION_NAMES[id] ?? id);
      } catch (e) {
        if (!isCloudVolumeError(e, "UNKNOWN_CODEC")) throw e;
        throw new CloudVolumeError("UNKNOWN_CODEC", `${meta.key} of ${this.url}: compressor ${show(meta.compressor)}: ${e.message}`, { url: this.url, key: meta.key, mip, cause: e });
      }
    }
    const fill = this.fillValue(mip);
    return {
      codec: zarrChunkCodec(meta, map, compressor, fill),
      params: meta.compressor ?? {},
      // Equal signatures store interchangeable chunk files (the engine also compares the grids).
      signature: `zarr2 ${JSON.stringify({ dtype: meta.dtype.text, order: meta.order, compressor: meta.compressor, chunks: meta.chunks, axes: [map.x, map.y, map.z, map.c], fixed: map.fixed.map((f) => [f.axis, f.index]) })}`,
      edgeChunks: "padded",
    };
  }

  /** Chunks are compressed by the zarr compressor inside the codec; no transfer compression on top. */
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
      const f = map.fixed.find((a) => meta.chunks[a.axis] > 1);
      if (f) return `is read-only here: its chunks hold ${meta.chunks[f.axis]} entries of ${f.name} and only index ${f.index} is read, so a chunk write would drop the others`;
    }
    return undefined;
  }

  /** Persist `info`: .zgroup, .zattrs (OME-NGFF 0.4 multiscales) and each scale's .zarray. */
  async commitInfo(): Promise<void> {
    const { mips, group, writes } = toZarrMetadata(this.info, this.mips, this.group, this.opts, this.url);
    for (const [key, body] of writes) await this.store.put!(key, new TextEncoder().encode(body), { contentType: "application/json", cacheControl: "no-cache" });
    this.mips = mips;
    this.group = group;
    this.info = presentInfo(this.info, mips, group);
  }

  async refreshInfo(signal?: AbortSignal): Promise<LayerInfo> {
    const read = await readLayer(this.store, this.url, this.format, this.opts, signal);
    this.mips = read.mips;
    this.group = read.group;
    this.info = read.info;
    return this.info;
  }
}

function v3NotImplemented(url: string, key?: string): CloudVolumeError {
  return new CloudVolumeError("UNSUPPORTED", `${url}${key ? ` has ${key}: it` : ""} is a zarr v3 layer; zarr v3 is not implemented yet in @cloudvolume/format-zarr (zarr v2 only: .zarray / .zgroup)`, { url, key });
}

function checkDriverOptions(o: ZarrDriverOptions, url: string): void {
  const bad = (what: string) => new CloudVolumeError("INVALID_ARGUMENT", `zarr option ${what} (${url})`, { url });
  for (const k of ["t", "channel"] as const) if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! < 0)) throw bad(`${k} must be a non-negative integer, got ${show(o[k])}`);
  if (o.compressor !== undefined && o.compressor !== null && (typeof o.compressor !== "object" || typeof o.compressor.id !== "string")) throw bad(`compressor must be null or a codec configuration with an id, got ${show(o.compressor)}`);
  if (o.dimensionSeparator !== undefined && o.dimensionSeparator !== "." && o.dimensionSeparator !== "/") throw bad(`dimensionSeparator must be "." or "/", got ${show(o.dimensionSeparator)}`);
  if (o.order !== undefined && o.order !== "C" && o.order !== "F") throw bad(`order must be "C" or "F", got ${show(o.order)}`);
}

// ---- reading ------------------------------------------------------------------------

async function getJson(store: KeyValueStore, key: string, url: string, signal?: AbortSignal): Promise<{ json: unknown; text: string } | undefined> {
  const bytes = await store.get(key, { signal });
  return bytes === undefined ? undefined : parseJsonFile(bytes, key, url);
}

async function readArray(store: KeyValueStore, path: string, url: string, signal?: AbortSignal): Promise<ZarrArrayMeta | undefined> {
  const key = join(path, ".zarray");
  const f = await getJson(store, key, url, signal);
  return f && parseZarray(f.json, f.text, key, path, url);
}

async function readLayer(store: KeyValueStore, url: string, format: string, opts: ZarrDriverOptions, signal?: AbortSignal) {
  const [array, attrs, zgroup] = await Promise.all([
    readArray(store, "", url, signal),
    getJson(store, ".zattrs", url, signal),
    store.get(".zgroup", { signal }),
  ]);
  if (array) {
    const map = axisMap(array.shape, undefined, opts, { key: array.key, url });
    const mips: Mip[] = [{ meta: array, map, original: array }];
    return { mips, group: undefined, info: presentInfo(undefined, mips, undefined) };
  }
  if (zgroup !== undefined || attrs !== undefined) {
    const multiscale = attrs ? parseMultiscales(attrs.json, ".zattrs", url) : undefined;
    if (!multiscale) {
      throw new CloudVolumeError("INVALID_METADATA", `${url} is a zarr group without OME-NGFF multiscales in its .zattrs; open one of its arrays (e.g. ${url.replace(/\/+$/, "")}/<array>)`, { url, key: ".zattrs" });
    }
    const metas = await Promise.all(multiscale.datasets.map(async (d, i) => {
      const m = await readArray(store, d.path, url, signal);
      if (!m) throw new CloudVolumeError("INVALID_METADATA", `.zattrs of ${url}: multiscales[0].datasets[${i}].path ${show(d.path)} has no ${join(d.path, ".zarray")}`, { url, key: join(d.path, ".zarray") });
      return m;
    }));
    const mips = metas.map((meta) => ({ meta, map: axisMap(meta.shape, multiscale.axes, opts, { key: meta.key, url }), original: meta }));
    const group = { attrs: attrs!.json as Record<string, unknown>, multiscale };
    return { mips, group, info: presentInfo(undefined, mips, group) };
  }
  // zarr v3 keeps its metadata in zarr.json: say so instead of "not found" (zarr:// and zarr2:// alike).
  if ((await store.get("zarr.json", { signal })) !== undefined) throw v3NotImplemented(url, "zarr.json");
  void format;
  throw new CloudVolumeError("NOT_FOUND", `no zarr array or group at ${url} (no .zarray, .zgroup or .zattrs); create one by opening it with { info } and calling commitInfo()`, { url, key: ".zarray" });
}

/** Size / chunk of one engine axis from a zarr axis (-1: size 1). */
const along = (v: readonly number[], a: number) => (a < 0 ? 1 : v[a]);

/** The LayerInfo a layer presents for its mips. `base` keeps a given info's extra fields (type, ...). */
function presentInfo(base: LayerInfo | undefined, mips: Mip[], group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined): LayerInfo {
  const first = mips[0];
  const ms = group?.multiscale;
  const scales: LayerScaleInfo[] = mips.map(({ meta, map }, i) => {
    const axes = [map.x, map.y, map.z];
    const size = axes.map((a) => along(meta.shape, a)) as unknown as Vec3;
    const chunk = axes.map((a) => along(meta.chunks, a)) as unknown as Vec3;
    let resolution: Vec3 = [1, 1, 1];
    let offset: Vec3 = [0, 0, 0];
    if (ms) {
      const d = ms.datasets[i];
      const scale = (a: number) => (a < 0 ? 1 : (d.scale?.[a] ?? 1) * (ms.scale?.[a] ?? 1));
      const unit = (a: number) => nanometresPer(a < 0 ? undefined : ms.axes?.[a]?.unit);
      if (d.scale || ms.scale) {
        resolution = axes.map((a) => scale(a) * unit(a)) as unknown as Vec3;
      } else {
        // OME-NGFF 0.1-0.3: no transformations; the downsampling factor from the shapes.
        const m0 = mips[0].meta;
        resolution = axes.map((a) => (a < 0 ? 1 : m0.shape[a] / meta.shape[a])) as unknown as Vec3;
      }
      offset = axes.map((a) => {
        if (a < 0) return 0;
        const t = (d.translation?.[a] ?? 0) * (ms.scale?.[a] ?? 1) + (ms.translation?.[a] ?? 0);
        return Math.round(t / scale(a));
      }) as unknown as Vec3;
    }
    const prior = base?.scales[i];
    return {
      ...(prior ?? {}),
      key: ms ? ms.datasets[i].path : resolution.join("_"),
      size, voxel_offset: offset, resolution: resolution.map((r) => +r.toPrecision(12)) as unknown as Vec3, chunk_sizes: [chunk], encoding: "raw",
    };
  });
  const info: LayerInfo = {
    ...(base ?? {}),
    type: base?.type ?? "image",
    data_type: first.meta.dtype.dataType,
    num_channels: along(first.meta.shape, first.map.c),
    scales,
    zarr: attachment(mips, group),
  };
  return info;
}

/**
 * The zarr metadata behind an info (`info.zarr`): each scale's path and .zarray text, the
 * OME-NGFF axes and the group's .zattrs. Opening with an info that carries it reopens the
 * same arrays without reading them: the engine's worker threads open layers from the
 * info they are sent, and `cp` between zarr layers keeps the source's layout (compressor,
 * order, keys), so chunks copy as stored. Precomputed keeps it as an unknown field.
 */
export interface ZarrAttachment {
  version: 2;
  scales: { path: string; zarray: string }[];
  axes?: NgffAxis[];
  group?: string;
}

function attachment(mips: Mip[], group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined): ZarrAttachment {
  const a: ZarrAttachment = { version: 2, scales: mips.map((m) => ({ path: m.meta.path, zarray: m.meta.text })) };
  if (group?.multiscale.axes) a.axes = group.multiscale.axes;
  if (group) a.group = serialize(group.attrs);
  return a;
}

/** The mips and group an info's `zarr` attachment describes (undefined: it has none). */
function attached(info: LayerInfo, opts: ZarrDriverOptions, url: string): { mips: Mip[]; group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined } | undefined {
  const a = info.zarr as ZarrAttachment | undefined;
  if (a === undefined || a === null) return undefined;
  const bad = (what: string) => infoError(url, "zarr", what);
  if (typeof a !== "object" || a.version !== 2 || !Array.isArray(a.scales)) throw bad(`must be the zarr attachment a zarr layer presents ({ version: 2, scales: [...] }), got ${show(a)}`);
  let group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined;
  if (a.group !== undefined) {
    const attrs = parseJsonFile(new TextEncoder().encode(a.group), ".zattrs", url).json as Record<string, unknown>;
    const multiscale = parseMultiscales(attrs, ".zattrs", url);
    if (!multiscale) throw bad("group has no multiscales");
    group = { attrs, multiscale };
  }
  const mips = a.scales.map((s, i) => {
    if (typeof s !== "object" || s === null || typeof s.path !== "string" || typeof s.zarray !== "string") throw bad(`scales[${i}] must be { path, zarray }, got ${show(s)}`);
    const key = join(s.path, ".zarray");
    const meta = parseZarray(parseJsonFile(new TextEncoder().encode(s.zarray), key, url).json, s.zarray, key, s.path, url);
    return { meta, map: axisMap(meta.shape, a.axes, opts, { key, url }), original: meta };
  });
  return { mips, group };
}

/** Refuse pipelines whose info no longer matches the array (an info edited but not committed). */
function checkInfoMatches(info: LayerInfo, mip: number, meta: ZarrArrayMeta, map: AxisMap, url: string): void {
  const s = info.scales[mip];
  const axes = [map.x, map.y, map.z];
  const size = axes.map((a) => along(meta.shape, a));
  const chunk = axes.map((a) => along(meta.chunks, a));
  if (info.data_type !== meta.dtype.dataType || info.num_channels !== along(meta.shape, map.c) || s.size.some((v, d) => v !== size[d]) || s.chunk_sizes[0].some((v, d) => v !== chunk[d])) {
    throw new CloudVolumeError("INVALID_METADATA", `the info of ${url} (mip ${mip}) no longer matches ${meta.key}; call commitInfo() after changing it`, { url, key: meta.key, mip });
  }
}

// ---- creating and writing metadata --------------------------------------------------------

function infoError(url: string, path: string, what: string): CloudVolumeError {
  return new CloudVolumeError("INVALID_METADATA", `info for ${url}: ${path} ${what}`, { url });
}

function vec(v: unknown, path: string, ok: (n: number) => boolean, what: string, url: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => typeof n === "number" && ok(n))) throw infoError(url, path, `must be 3 ${what}, got ${show(v)}`);
  return [v[0], v[1], v[2]];
}

/** Check an info we are asked to create or commit (what zarr can hold: one chunk size per scale, raw). */
function checkInfo(info: LayerInfo, url: string): void {
  if (typeof info !== "object" || info === null) throw infoError(url, "info", `must be an object, got ${show(info)}`);
  if (!isDataType(info.data_type)) throw infoError(url, "data_type", `must be one of ${DATA_TYPES.join(", ")}, got ${show(info.data_type)}`);
  if (!Number.isSafeInteger(info.num_channels) || info.num_channels < 1) throw infoError(url, "num_channels", `must be a positive integer, got ${show(info.num_channels)}`);
  if (!Array.isArray(info.scales) || info.scales.length === 0) throw infoError(url, "scales", `must be a non-empty list, got ${show(info.scales)}`);
  info.scales.forEach((s, i) => {
    const at = `scales[${i}]`;
    if (typeof s !== "object" || s === null) throw infoError(url, at, `must be an object, got ${show(s)}`);
    vec(s.size, `${at}.size`, (n) => Number.isSafeInteger(n) && n > 0, "positive integers", url);
    vec(s.resolution, `${at}.resolution`, (n) => Number.isFinite(n) && n > 0, "positive numbers", url);
    vec(s.voxel_offset ?? [0, 0, 0], `${at}.voxel_offset`, Number.isSafeInteger, "integers", url);
    if (!Array.isArray(s.chunk_sizes) || s.chunk_sizes.length !== 1) throw infoError(url, `${at}.chunk_sizes`, `must hold exactly one chunk size (zarr arrays have one chunk shape), got ${show(s.chunk_sizes)}`);
    vec(s.chunk_sizes[0], `${at}.chunk_sizes[0]`, (n) => Number.isSafeInteger(n) && n > 0, "positive integers", url);
    if (s.encoding !== "raw" && s.encoding !== undefined) {
      throw infoError(url, `${at}.encoding`, `must be "raw", got ${show(s.encoding)}: zarr chunks are raw voxels under the zarr compressor (choose it with the compressor option; with the CLI: cp --encoding raw)`);
    }
    if (s.sharding !== undefined && s.sharding !== null) throw infoError(url, `${at}.sharding`, "is not supported by zarr v2 (sharding is zarr v3's sharding_indexed codec)");
  });
}

/** A new layer from an info: the mips it will have (paths "0", "1", ...), nothing written yet. */
function fromLayerInfo(info: LayerInfo, opts: ZarrDriverOptions, url: string) {
  checkInfo(info, url);
  const known = attached(info, opts, url);
  const { mips, group } = toZarrMetadata(info, known?.mips ?? [], known?.group, opts, url);
  return { info: presentInfo(info, mips, group), mips, group };
}

/** Sorted-key JSON with 4-space indents, as zarr-python writes metadata; big integers kept exact. */
function serialize(v: unknown): string {
  const big: string[] = [];
  const sort = (x: unknown): unknown => {
    if (typeof x === "bigint") {
      big.push(x.toString());
      return `\u0000big${big.length - 1}\u0000`;
    }
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  let s = JSON.stringify(sort(v), null, 4);
  s = s.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => big[Number(i)]);
  return `${s}\n`;
}

/**
 * The zarr metadata for `info`: each scale's array (kept from `existing` where there is
 * one, with its shape and chunks along our axes updated) and the OME-NGFF 0.4 multiscale
 * group over them, plus the files to write.
 */
function toZarrMetadata(info: LayerInfo, existing: Mip[], group: { attrs: Record<string, unknown>; multiscale: NgffMultiscale } | undefined, opts: ZarrDriverOptions, url: string) {
  checkInfo(info, url);
  const plainRoot = existing.length > 0 && existing[0].meta.path === "" && !group;
  if (plainRoot && info.scales.length > 1) throw infoError(url, "scales", `has ${info.scales.length} scales, but ${url} is a plain zarr array (one scale); write multiscale layers to a new location`);
  const channels = info.num_channels;
  const writes: [string, string][] = [];
  const mips: Mip[] = info.scales.map((s, i) => {
    const prior = existing[i];
    const size = s.size;
    const chunk = s.chunk_sizes[0];
    if (prior) {
      const { meta, map } = prior;
      const shape = [...meta.shape];
      const chunks = [...meta.chunks];
      [map.x, map.y, map.z].forEach((a, d) => {
        if (a >= 0) { shape[a] = size[d]; chunks[a] = chunk[d]; }
        else if (size[d] !== 1 || chunk[d] !== 1) throw infoError(url, `scales[${i}]`, `has size ${size[d]} / chunk ${chunk[d]} along ${"xyz"[d]}, which ${meta.key} has no axis for`);
      });
      if (map.c >= 0) shape[map.c] = channels;
      else if (channels !== 1) throw infoError(url, "num_channels", `is ${channels}, but ${meta.key} has no channel axis`);
      if (info.data_type !== meta.dtype.dataType) throw infoError(url, "data_type", `is ${info.data_type}, but ${meta.key} stores ${meta.dtype.text}`);
      // A 64-bit fill value is kept exact (the parsed JSON holds it rounded to a double).
      const json = { ...meta.json, shape, chunks, ...(typeof meta.fill === "bigint" ? { fill_value: meta.fill } : {}) };
      const text = serialize(json);
      const next = parseZarray(JSON.parse(JSON.stringify(json, (_k, x) => (typeof x === "bigint" ? Number(x) : x))), text, meta.key, meta.path, url);
      return { meta: { ...next, fill: meta.fill }, map, original: prior.original };
    }
    const path = plainRoot ? "" : String(i);
    const dt = dtypeText(info.data_type, opts.bigEndian === true);
    const withC = channels > 1;
    const json: Record<string, unknown> = {
      chunks: withC ? [channels, chunk[2], chunk[1], chunk[0]] : [chunk[2], chunk[1], chunk[0]],
      compressor: opts.compressor === undefined ? { ...DEFAULT_COMPRESSOR } : opts.compressor,
      dimension_separator: opts.dimensionSeparator ?? "/",
      dtype: dt,
      fill_value: 0,
      filters: null,
      order: opts.order ?? "C",
      shape: withC ? [channels, size[2], size[1], size[0]] : [size[2], size[1], size[0]],
      zarr_format: 2,
    };
    const key = join(path, ".zarray");
    const meta = parseZarray(json, serialize(json), key, path, url);
    const axes = withC ? [{ name: "c", type: "channel" }, ...ZYX] : ZYX;
    return { meta, map: axisMap(meta.shape, axes, {}, { key, url }) };
  });
  for (const m of mips) writes.push([m.meta.key, serialize(m.meta.json)]);
  if (plainRoot) return { mips, group: undefined, writes };
  // OME-NGFF 0.4: axes (c?, z, y, x), one dataset per scale with scale and translation.
  const ndim = mips[0].meta.shape.length;
  const oldMs = group?.multiscale;
  const axesJson = oldMs?.axes ?? (ndim === 4 ? [{ name: "c", type: "channel" }, ...ZYX] : ZYX);
  const datasets = mips.map((m, i) => {
    const s = info.scales[i];
    const map = m.map;
    const unit = (a: number) => nanometresPer(oldMs?.axes?.[a]?.unit);
    const scale = new Array<number>(ndim).fill(1);
    const translation = new Array<number>(ndim).fill(0);
    const oldD = oldMs?.datasets[i];
    for (let a = 0; a < ndim; a++) {
      scale[a] = oldD?.scale?.[a] ?? 1;
      translation[a] = oldD?.translation?.[a] ?? 0;
    }
    const offset = s.voxel_offset ?? [0, 0, 0];
    [map.x, map.y, map.z].forEach((a, d) => {
      if (a < 0) return;
      scale[a] = +(s.resolution[d] / unit(a) / (oldMs?.scale?.[a] ?? 1)).toPrecision(15);
      translation[a] = +(offset[d] * scale[a]).toPrecision(15);
    });
    return { path: m.meta.path, coordinateTransformations: [{ type: "scale", scale }, { type: "translation", translation }] };
  });
  const prevAttrs = group?.attrs ?? {};
  const prevList = Array.isArray(prevAttrs.multiscales) ? (prevAttrs.multiscales as Record<string, unknown>[]) : [];
  const multiscaleJson: Record<string, unknown> = {
    ...(prevList[0] ?? {}),
    version: "0.4",
    name: (prevList[0]?.name as string | undefined) ?? "cloudvolume",
    axes: axesJson,
    datasets,
  };
  if (!prevList[0]) multiscaleJson.type = "cloudvolume";
  delete multiscaleJson.coordinateTransformations;
  const attrs = { ...prevAttrs, multiscales: [multiscaleJson, ...prevList.slice(1)] };
  writes.push([".zgroup", serialize({ zarr_format: 2 })]);
  writes.push([".zattrs", serialize(attrs)]);
  const multiscale = parseMultiscales(attrs, ".zattrs", url)!;
  return { mips, group: { attrs, multiscale }, writes };
}

const ZYX = [
  { name: "z", type: "space", unit: "nanometer" },
  { name: "y", type: "space", unit: "nanometer" },
  { name: "x", type: "space", unit: "nanometer" },
];

/** The zarr format driver: what the plugin's load() gives the chunk engine. */
export const zarrDriver: FormatDriver = {
  name: "zarr",
  open: (ctx, url, opts) => ZarrLayer.open(ctx, url, opts as FormatOpenOptions & ZarrDriverOptions),
};

