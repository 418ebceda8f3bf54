import {
  CloudVolumeError, isDataType, DATA_TYPES,
  type LayerInfo, type LayerScaleInfo, type Vec3,
} from "@cloudvolume/core";
import type { AxisMap } from "./axes.js";
import { show } from "./errors.js";
import { nanometresPer, type NgffAxis, type NgffMultiscale, type ZarrArrayMeta } from "./metadata.js";
import type { Zarr3ArrayMeta } from "./v3-metadata.js";

/*
 * What zarr v2 and v3 layers share: the LayerInfo presented for their mips (Precomputed's
 * info form), the checks on an info we are asked to create, the OME-NGFF multiscale
 * written over the mips, and the JSON they are serialized with.
 */

export type AnyZarrArray = ZarrArrayMeta | Zarr3ArrayMeta;

export interface Mip {
  meta: AnyZarrArray;
  map: AxisMap;
  /** The metadata as read (undefined for arrays this layer creates). */
  original?: AnyZarrArray;
}

/** A multiscale group: its attributes (v2 .zattrs; v3 zarr.json attributes) and the multiscale read from them. */
export interface ZarrGroup {
  attrs: Record<string, unknown>;
  multiscale: NgffMultiscale;
}

/** The `@type` of a zarr v3 sharded scale's `sharding` in the presented info. */
export const ZARR3_SHARDING = "zarr3_sharding_indexed";

export const join = (...parts: string[]) => parts.filter((p) => p !== "").join("/");

/** Size / chunk of one engine axis from a zarr axis (-1: size 1). */
export const along = (v: readonly number[], a: number) => (a < 0 ? 1 : v[a]);

export function infoError(url: string, path: string, what: string): CloudVolumeError {
  return new CloudVolumeError("INVALID_METADATA", `info for ${url}: ${path} ${what}`, { url });
}

/** The LayerInfo a layer presents for its mips. `base` keeps a given info's extra fields (type, ...). */
export function presentInfo(base: LayerInfo | undefined, mips: Mip[], group: ZarrGroup | undefined): LayerInfo {
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
    const s: LayerScaleInfo = {
      ...(prior ?? {}),
      key: ms ? ms.datasets[i].path : resolution.join("_"),
      size, voxel_offset: offset, resolution: resolution.map((r) => +r.toPrecision(12)) as unknown as Vec3, chunk_sizes: [chunk], encoding: "raw",
    };
    delete s.sharding;
    if (meta.version === 3 && meta.chain.sharding) {
      s.sharding = { "@type": ZARR3_SHARDING, shard_shape: axes.map((a) => along(meta.grid, a)), index_location: meta.chain.sharding.location };
    }
    return s;
  });
  return {
    ...(base ?? {}),
    type: base?.type ?? storedType(group) ?? "image",
    data_type: first.meta.dtype.dataType,
    num_channels: along(first.meta.shape, first.map.c),
    scales,
    zarr: attachment(mips, group),
  };
}

/**
 * The zarr metadata behind an info (`info.zarr`): each scale's path and metadata text
 * (.zarray for v2, zarr.json for v3), the OME-NGFF axes and the group's attributes.
 * Opening with an info that carries it reopens the same arrays without reading them: the
 * engine's worker threads open layers from the info they are sent, and `cp` between zarr
 * layers keeps the source's layout (codecs, order, keys), so chunks copy as stored.
 * Precomputed keeps it as an unknown field.
 */
export interface ZarrAttachment {
  version: 2 | 3;
  scales: { path: string; zarray?: string; zarr_json?: string }[];
  axes?: NgffAxis[];
  group?: string;
}

function attachment(mips: Mip[], group: ZarrGroup | undefined): ZarrAttachment {
  const version = mips[0].meta.version;
  const a: ZarrAttachment = { version, scales: mips.map((m) => (version === 2 ? { path: m.meta.path, zarray: m.meta.text } : { path: m.meta.path, zarr_json: m.meta.text })) };
  if (group?.multiscale.axes) a.axes = group.multiscale.axes;
  if (group) a.group = serialize(group.attrs);
  return a;
}

/** An info's `zarr` attachment, checked (undefined: it has none). */
export function attachmentOf(info: LayerInfo, url: string): ZarrAttachment | undefined {
  const a = info.zarr as ZarrAttachment | undefined;
  if (a === undefined || a === null) return undefined;
  if (typeof a !== "object" || (a.version !== 2 && a.version !== 3) || !Array.isArray(a.scales)) {
    throw infoError(url, "zarr", `must be the zarr attachment a zarr layer presents ({ version: 2 or 3, scales: [...] }), got ${show(a)}`);
  }
  return a;
}

/** Refuse pipelines whose info no longer matches the array (an info edited but not committed). */
export function checkInfoMatches(info: LayerInfo, mip: number, meta: AnyZarrArray, map: AxisMap, url: string): void {
  const s = info.scales[mip];
  const axes = [map.x, map.y, map.z];
  const size = axes.map((a) => along(meta.shape, a));
  const chunk = axes.map((a) => along(meta.chunks, a));
  if (info.data_type !== meta.dtype.dataType || info.num_channels !== along(meta.shape, map.c) || s.size.some((v, d) => v !== size[d]) || s.chunk_sizes[0].some((v, d) => v !== chunk[d])) {
    throw new CloudVolumeError("INVALID_METADATA", `the info of ${url} (mip ${mip}) no longer matches ${meta.key}; call commitInfo() after changing it`, { url, key: meta.key, mip });
  }
}

function vec(v: unknown, path: string, ok: (n: number) => boolean, what: string, url: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => typeof n === "number" && ok(n))) throw infoError(url, path, `must be 3 ${what}, got ${show(v)}`);
  return [v[0], v[1], v[2]];
}

/** Check an info we are asked to create or commit (what zarr can hold: one chunk size per scale, raw). */
export function checkInfo(info: LayerInfo, url: string, version: 2 | 3): void {
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
      throw infoError(url, `${at}.encoding`, `must be "raw", got ${show(s.encoding)}: zarr chunks are raw voxels under the zarr codecs (choose the compressor with the compressor option; with the CLI: cp --encoding raw)`);
    }
    if (version === 2 && s.sharding !== undefined && s.sharding !== null) throw infoError(url, `${at}.sharding`, "is not supported by zarr v2 (sharding is zarr v3's sharding_indexed codec: write to zarr3://)");
  });
}

/** Sorted-key JSON with 4-space indents, as zarr-python writes metadata; big integers kept exact. */
export function serialize(v: unknown, sortKeys = true): string {
  const big: string[] = [];
  const sort = (x: unknown): unknown => {
    if (typeof x === "bigint") {
      big.push(x.toString());
      return `\u0000big${big.length - 1}\u0000`;
    }
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") {
      const keys = sortKeys ? Object.keys(x).sort() : Object.keys(x);
      return Object.fromEntries(keys.map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    }
    return x;
  };
  let s = JSON.stringify(sort(v), null, 4);
  s = s.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => big[Number(i)]);
  return `${s}\n`;
}

/** JSON.parse of `serialize`d JSON, big integers as (rounded) numbers: what a reader of the file sees. */
export function reparse(json: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(json, (_k, x) => (typeof x === "bigint" ? Number(x) : x)));
}

export const ZYX: NgffAxis[] = [
  { name: "z", type: "space", unit: "nanometer" },
  { name: "y", type: "space", unit: "nanometer" },
  { name: "x", type: "space", unit: "nanometer" },
];

/**
 * The OME-NGFF multiscale object over `mips` for `info` (version "0.4" or "0.5"): axes
 * (c?, z, y, x, or the existing group's), one dataset per scale with scale and
 * translation, the previous multiscale's other fields kept.
 */
export function ngffMultiscale(info: LayerInfo, mips: Mip[], prev: Record<string, unknown> | undefined, oldMs: NgffMultiscale | undefined, version: "0.4" | "0.5"): Record<string, unknown> {
  const ndim = mips[0].meta.shape.length;
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
  const out: Record<string, unknown> = { ...(prev ?? {}), name: (prev?.name as string | undefined) ?? "cloudvolume", axes: axesJson, datasets };
  // 0.5 keeps the version beside the multiscales (attributes.ome.version), not in each.
  if (version === "0.4") out.version = "0.4";
  else delete out.version;
  if (!prev) out.type = "cloudvolume";
  delete out.coordinateTransformations;
  return out;
}

/**
 * The layer type (image, segmentation) a layer we wrote keeps in its group's attributes
 * (`cloudvolume.type`): zarr and OME-NGFF have no such field, and a `cp` of a
 * segmentation must stay one.
 */
export function storedType(group: ZarrGroup | undefined): string | undefined {
  const cv = group?.attrs.cloudvolume as { type?: unknown } | undefined;
  return typeof cv?.type === "string" ? cv.type : undefined;
}

/** Group attributes with the layer type recorded (only when it is not the default, image). */
export function withType(attrs: Record<string, unknown>, info: LayerInfo): Record<string, unknown> {
  const out = { ...attrs };
  const prev = (typeof out.cloudvolume === "object" && out.cloudvolume !== null ? out.cloudvolume : {}) as Record<string, unknown>;
  const { type: _old, ...rest } = prev;
  void _old;
  if (info.type && info.type !== "image") out.cloudvolume = { ...rest, type: info.type };
  else if (Object.keys(rest).length > 0) out.cloudvolume = rest;
  else delete out.cloudvolume;
  return out;
}
