import { CloudVolumeError, isDataType, DATA_TYPES, type DataType, type LayerInfo, type Vec3 } from "@cloudvolume/core";

/** The layer's metadata file, at the layer root. */
export const HEADER_KEY = "npychunks.json";
/** The one scale's key in the LayerInfo we present (the format has one mip and no scale directories). */
export const SCALE_KEY = "0";
/** The encoding name the LayerInfo carries. */
export const ENCODING = "npy";

/**
 * npychunks.json: everything the layer has, in one small JSON object.
 *
 *   { "format": "npychunks", "version": 1, "type": "image", "dtype": "uint16", "channels": 1,
 *     "size": [x, y, z], "chunk_size": [x, y, z], "voxel_offset": [x, y, z], "resolution": [x, y, z] }
 *
 * The grid origin is voxel_offset; chunk (gx, gy, gz) covers
 * voxel_offset + g * chunk_size .. + chunk_size and is stored at `c/<gx>.<gy>.<gz>.npy`,
 * padded to the full chunk size at the upper bound.
 */
export interface NpyChunksHeader {
  format: "npychunks";
  version: 1;
  type: "image" | "segmentation";
  dtype: DataType;
  channels: number;
  size: Vec3;
  chunk_size: Vec3;
  voxel_offset: Vec3;
  resolution: Vec3;
}

function fail(field: string, what: string, url: string, key?: string): never {
  throw new CloudVolumeError("INVALID_METADATA", `${key ? `${key} of ` : ""}${url}: ${field} ${what}`, { url, key });
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + "..." : s;
};

function vec3(v: unknown, field: string, ok: (n: number) => boolean, what: string, url: string, key?: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => typeof n === "number" && ok(n))) fail(field, `must be 3 ${what}, got ${show(v)}`, url, key);
  return [v[0], v[1], v[2]];
}
const posInt = (n: number) => Number.isSafeInteger(n) && n > 0;
const int = (n: number) => Number.isSafeInteger(n);
const posNum = (n: number) => Number.isFinite(n) && n > 0;

function layerType(v: unknown, field: string, url: string, key?: string): "image" | "segmentation" {
  if (v !== "image" && v !== "segmentation") fail(field, `must be "image" or "segmentation", got ${show(v)}`, url, key);
  return v;
}
function dtype(v: unknown, field: string, url: string, key?: string): DataType {
  if (!isDataType(v)) fail(field, `must be one of ${DATA_TYPES.join(", ")}, got ${show(v)}`, url, key);
  return v;
}
function channels(v: unknown, field: string, url: string, key?: string): number {
  if (typeof v !== "number" || !posInt(v)) fail(field, `must be a positive integer, got ${show(v)}`, url, key);
  return v;
}

/** Parse npychunks.json (bytes or an object), strictly: INVALID_METADATA naming the field. */
export function parseHeader(input: Uint8Array | unknown, url: string): NpyChunksHeader {
  let o: unknown = input;
  if (input instanceof Uint8Array) {
    try {
      o = JSON.parse(new TextDecoder().decode(input));
    } catch (e) {
      throw new CloudVolumeError("INVALID_METADATA", `${HEADER_KEY} of ${url} is not JSON: ${(e as Error).message}`, { url, key: HEADER_KEY, cause: e });
    }
  }
  const k = HEADER_KEY;
  if (typeof o !== "object" || o === null || Array.isArray(o)) fail("the header", `must be a JSON object, got ${show(o)}`, url, k);
  const h = o as Record<string, unknown>;
  if (h.format !== "npychunks") fail("format", `must be "npychunks", got ${show(h.format)}`, url, k);
  if (h.version !== 1) fail("version", `must be 1 (this reader knows version 1 only), got ${show(h.version)}`, url, k);
  return {
    format: "npychunks",
    version: 1,
    type: layerType(h.type, "type", url, k),
    dtype: dtype(h.dtype, "dtype", url, k),
    channels: channels(h.channels, "channels", url, k),
    size: vec3(h.size, "size", posInt, "positive integers", url, k),
    chunk_size: vec3(h.chunk_size, "chunk_size", posInt, "positive integers", url, k),
    voxel_offset: vec3(h.voxel_offset, "voxel_offset", int, "integers", url, k),
    resolution: vec3(h.resolution, "resolution", posNum, "positive numbers", url, k),
  };
}

export function serializeHeader(h: NpyChunksHeader): Uint8Array {
  const ordered: NpyChunksHeader = {
    format: h.format, version: h.version, type: h.type, dtype: h.dtype, channels: h.channels,
    size: h.size, chunk_size: h.chunk_size, voxel_offset: h.voxel_offset, resolution: h.resolution,
  };
  // One field a line, vectors on one line: easy to read and to edit by hand.
  const lines = Object.entries(ordered).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return new TextEncoder().encode(`{\n${lines.join(",\n")}\n}\n`);
}

/** The header presented as core's LayerInfo: one scale, key "0", encoding "npy". */
export function toLayerInfo(h: NpyChunksHeader): LayerInfo {
  return {
    type: h.type,
    data_type: h.dtype,
    num_channels: h.channels,
    scales: [{
      key: SCALE_KEY,
      size: [...h.size],
      voxel_offset: [...h.voxel_offset],
      resolution: [...h.resolution],
      chunk_sizes: [[...h.chunk_size]],
      encoding: ENCODING,
    }],
  };
}

/**
 * A LayerInfo (ours, or one copied from a Precomputed layer by `cloudvolume cp`) as a
 * header. What this format cannot hold is INVALID_METADATA naming the field: more than
 * one scale, more than one chunk size, an encoding other than "npy". "raw" is taken as
 * "npy" (both are the voxels uncompressed; the npy file only adds a header), so a
 * Precomputed raw layer copies here without --encoding. Precomputed's other fields
 * (mesh, skeletons, compress, redirect, a scale's key, sharding, locked, an encoding's
 * parameters) have no place here and are left out: this format stores one file per
 * chunk and has no locks (the engine refuses setSharding and lockMips with UNSUPPORTED).
 */
export function fromLayerInfo(info: LayerInfo | Record<string, unknown>, url: string): NpyChunksHeader {
  const o = info as Record<string, unknown>;
  if (typeof o !== "object" || o === null) fail("info", `must be an object, got ${show(o)}`, url);
  const scales = o.scales;
  if (!Array.isArray(scales) || scales.length === 0) fail("scales", `must be a list of one scale, got ${show(scales)}`, url);
  if (scales.length > 1) {
    fail("scales", `must hold exactly one scale (npychunks stores one mip only), got ${scales.length} scales`, url);
  }
  const s = scales[0] as Record<string, unknown>;
  if (typeof s !== "object" || s === null || Array.isArray(s)) fail("scales[0]", `must be an object, got ${show(s)}`, url);
  if (s.encoding !== ENCODING && s.encoding !== "raw") {
    fail("scales[0].encoding", `must be "npy" (or "raw", stored as npy), got ${show(s.encoding)}: npychunks stores every chunk as an uncompressed .npy file (with the CLI: cp --encoding npy)`, url);
  }
  const cs = s.chunk_sizes;
  if (!Array.isArray(cs) || cs.length !== 1) fail("scales[0].chunk_sizes", `must hold exactly one chunk size, got ${show(cs)}`, url);
  return {
    format: "npychunks",
    version: 1,
    type: layerType(o.type, "type", url),
    dtype: dtype(o.data_type, "data_type", url),
    channels: channels(o.num_channels, "num_channels", url),
    size: vec3(s.size, "scales[0].size", posInt, "positive integers", url),
    chunk_size: vec3(cs[0], "scales[0].chunk_sizes[0]", posInt, "positive integers", url),
    voxel_offset: s.voxel_offset === undefined ? [0, 0, 0] : vec3(s.voxel_offset, "scales[0].voxel_offset", int, "integers", url),
    resolution: vec3(s.resolution, "scales[0].resolution", posNum, "positive numbers", url),
  };
}
