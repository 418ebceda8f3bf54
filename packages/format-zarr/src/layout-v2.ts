import { CloudVolumeError, type KeyValueStore, type LayerInfo } from "@cloudvolume/core";
import { axisMap, type AxisOptions } from "./axes.js";
import { dtypeText } from "./dtype.js";
import { show } from "./errors.js";
import { parseJsonFile, parseMultiscales, parseZarray, type DimensionSeparator, type ZarrArrayMeta } from "./metadata.js";
import { checkInfo, infoError, join, ngffMultiscale, reparse, serialize, withType, ZYX, type Mip, type ZarrAttachment, type ZarrGroup } from "./present.js";

/*
 * zarr v2 layers: an array's .zarray at the URL (one mip), or a group whose .zattrs hold
 * OME-NGFF 0.4 multiscales (one mip per dataset); and the metadata files written for an info.
 */

/** Open options only the zarr driver knows (CloudVolume.open(url, { ...these })). */
export interface ZarrDriverOptions extends AxisOptions {
  /** Compressor of arrays this layer creates: a numcodecs configuration, or null for none (default DEFAULT_COMPRESSOR). */
  compressor?: Record<string, unknown> | null;
  /** Chunk key separator of arrays this layer creates (default "/"). */
  dimensionSeparator?: DimensionSeparator;
  /** Element order of arrays this layer creates (default "C"; zarr v3: "F" is a transpose codec). */
  order?: "C" | "F";
  /** Store arrays this layer creates big-endian (default false). */
  bigEndian?: boolean;
  /**
   * Shard arrays this layer creates (zarr v3's sharding_indexed; the info's chunk size is
   * the inner chunk): true for the default shard shape, or a shard shape in voxels [x, y, z].
   * A scale's own info `sharding` wins.
   */
  shards?: boolean | [number, number, number];
}

/**
 * What new arrays are written with: zarr-python 2's default compressor (blosc lz4, clevel
 * 5, byte shuffle), C order, "/" chunk keys (OME-NGFF 0.4 asks for "/"), fill value 0.
 */
export const DEFAULT_COMPRESSOR: Readonly<Record<string, unknown>> = Object.freeze({ id: "blosc", cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0 });

export async function getJson(store: KeyValueStore, key: string, url: string, signal?: AbortSignal): Promise<{ json: unknown; text: string } | undefined> {
  const bytes = await store.get(key, { signal });
  return bytes === undefined ? undefined : parseJsonFile(bytes, key, url);
}

async function readArray(store: KeyValueStore, path: string, url: string, signal?: AbortSignal): Promise<ZarrArrayMeta | undefined> {
  const key = join(path, ".zarray");
  const f = await getJson(store, key, url, signal);
  return f && parseZarray(f.json, f.text, key, path, url);
}

/** The v2 layer at the store's root, or undefined when there is no .zarray, .zgroup or .zattrs. */
export async function readV2Layer(store: KeyValueStore, url: string, opts: AxisOptions, signal?: AbortSignal): Promise<{ mips: Mip[]; group: ZarrGroup | undefined } | undefined> {
  const [array, attrs, zgroup] = await Promise.all([
    readArray(store, "", url, signal),
    getJson(store, ".zattrs", url, signal),
    store.get(".zgroup", { signal }),
  ]);
  if (array) {
    const map = axisMap(array.shape, undefined, opts, { key: array.key, url });
    return { mips: [{ meta: array, map, original: array }], group: undefined };
  }
  if (zgroup === undefined && attrs === undefined) return undefined;
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
  return { mips, group: { attrs: attrs!.json as Record<string, unknown>, multiscale } };
}

/** The mips and group a version-2 attachment describes. */
export function attachedV2(a: ZarrAttachment, opts: AxisOptions, url: string): { mips: Mip[]; group: ZarrGroup | undefined } {
  const bad = (what: string) => infoError(url, "zarr", what);
  let group: ZarrGroup | undefined;
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

/**
 * The zarr v2 metadata for `info`: each scale's array (kept from `existing` where there
 * is one, with its shape and chunks along our axes updated) and the OME-NGFF 0.4
 * multiscale group over them, plus the files to write.
 */
export function toZarr2Metadata(info: LayerInfo, existing: Mip[], group: ZarrGroup | undefined, opts: ZarrDriverOptions, url: string): { mips: Mip[]; group: ZarrGroup | undefined; writes: [string, string][] } {
  checkInfo(info, url, 2);
  const plainRoot = existing.length > 0 && existing[0].meta.path === "" && !group;
  if (plainRoot && info.scales.length > 1) throw infoError(url, "scales", `has ${info.scales.length} scales, but ${url} is a plain zarr array (one scale); write multiscale layers to a new location`);
  const channels = info.num_channels;
  const mips: Mip[] = info.scales.map((s, i) => {
    const prior = existing[i];
    const size = s.size;
    const chunk = s.chunk_sizes[0];
    if (prior) {
      const { map } = prior;
      const meta = prior.meta as ZarrArrayMeta;
      const { shape, chunks } = resized(meta, map, size, chunk, channels, info, i, url);
      // A 64-bit fill value is kept exact (the parsed JSON holds it rounded to a double).
      const json = { ...meta.json, shape, chunks, ...(typeof meta.fill === "bigint" ? { fill_value: meta.fill } : {}) };
      const text = serialize(json);
      const next = parseZarray(reparse(json), text, meta.key, meta.path, url);
      return { meta: { ...next, fill: meta.fill }, map, original: prior.original };
    }
    const path = plainRoot ? "" : String(i);
    const withC = channels > 1;
    const json: Record<string, unknown> = {
      chunks: withC ? [channels, chunk[2], chunk[1], chunk[0]] : [chunk[2], chunk[1], chunk[0]],
      compressor: opts.compressor === undefined ? { ...DEFAULT_COMPRESSOR } : opts.compressor,
      dimension_separator: opts.dimensionSeparator ?? "/",
      dtype: dtypeText(info.data_type, opts.bigEndian === true),
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
  const writes: [string, string][] = mips.map((m) => [m.meta.key, serialize(m.meta.json)]);
  if (plainRoot) return { mips, group: undefined, writes };
  const prevAttrs = group?.attrs ?? {};
  const prevList = Array.isArray(prevAttrs.multiscales) ? (prevAttrs.multiscales as Record<string, unknown>[]) : [];
  const multiscaleJson = ngffMultiscale(info, mips, prevList[0], group?.multiscale, "0.4");
  const attrs = withType({ ...prevAttrs, multiscales: [multiscaleJson, ...prevList.slice(1)] }, info);
  writes.push([".zgroup", serialize({ zarr_format: 2 })]);
  writes.push([".zattrs", serialize(attrs)]);
  const multiscale = parseMultiscales(attrs, ".zattrs", url)!;
  return { mips, group: { attrs, multiscale }, writes };
}

/** An existing array's shape and chunk shape with our axes set from an info scale (v2 and v3 alike). */
export function resized(meta: { shape: number[]; chunks: number[]; key: string; dtype: { dataType: string; text: string } }, map: Mip["map"], size: readonly number[], chunk: readonly number[], channels: number, info: LayerInfo, i: number, url: string): { shape: number[]; chunks: number[] } {
  const shape = [...meta.shape];
  const chunks = [...meta.chunks];
  [map.x, map.y, map.z].forEach((a, d) => {
    if (a >= 0) { shape[a] = size[d]; chunks[a] = chunk[d]; }
    else if (size[d] !== 1 || chunk[d] !== 1) throw infoError(url, `scales[${i}]`, `has size ${size[d]} / chunk ${chunk[d]} along ${"xyz"[d]}, which ${meta.key} has no axis for`);
  });
  if (map.c >= 0) shape[map.c] = channels;
  else if (channels !== 1) throw infoError(url, "num_channels", `is ${channels}, but ${meta.key} has no channel axis`);
  if (info.data_type !== meta.dtype.dataType) throw infoError(url, "data_type", `is ${info.data_type}, but ${meta.key} stores ${meta.dtype.text}`);
  return { shape, chunks };
}
