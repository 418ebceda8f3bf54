import { CloudVolumeError, DATA_TYPES, isDataType, type DataType, type LayerInfo, type LayerScaleInfo, type Vec3 } from "@cloudvolume/core";

/*
 * N5 metadata (saalfeldlab/n5 README, "File-system specification"): every group is a
 * directory with an optional `attributes.json`; a dataset is a group whose attributes have
 * `dimensions`, `blockSize`, `dataType` and `compression` (`{"type": ..., params}`; very old
 * writers put a bare `compressionType` string instead). The root group carries the
 * specification version as `"n5": "2.x.y"`.
 *
 * Axes: N5 lists dimensions fastest first, so x = dimensions[0], y = dimensions[1],
 * z = dimensions[2] and a fourth dimension is the channel axis. 1-D and 2-D datasets get
 * size-1 axes. A block's elements are stored with dimensions[0] fastest, which is the
 * chunk engine's Fortran order (x, y, z, channel) as it is.
 *
 * Multiscale groups (n5-viewer / BigDataViewer / Paintera conventions): a group whose
 * children `s0`, `s1`, ... are datasets. Each scale's resolution is the base resolution
 * (`pixelResolution` {unit, dimensions} or `resolution`, on the dataset, else on the group)
 * times its `downsamplingFactors` (on the dataset, else the group's list of them by index).
 */

export const ATTRIBUTES = "attributes.json";
/** The specification version written in a new root group (as zarr-python's N5Store writes it). */
export const N5_VERSION = "2.0.0";
/** Dataset attributes this driver writes; `voxelOffset` (voxels, N5 dimension order) is our own and optional. */
export const DATASET_KEYS = ["dimensions", "blockSize", "dataType", "compression", "compressionType"] as const;
export const VOXEL_OFFSET_KEY = "voxelOffset";

/** An N5 compression object: `type` plus its parameters. */
export interface N5Compression {
  type: string;
  [param: string]: unknown;
}

/** A dataset's attributes, validated. */
export interface N5Dataset {
  dimensions: number[];
  blockSize: number[];
  dataType: DataType;
  compression: N5Compression;
  /** Position of element 0 in voxels (our `voxelOffset` attribute), default 0. */
  voxelOffset: Vec3;
  /** Resolution in nm when the dataset itself says (pixelResolution / resolution), before downsampling factors. */
  baseResolution?: Vec3;
  downsamplingFactors?: Vec3;
}

export type Attributes = Record<string, unknown>;

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + "..." : s;
};

/** INVALID_METADATA naming the file (its key below the layer root) and the property path. */
export function invalid(url: string, file: string, path: string, what: string): CloudVolumeError {
  return new CloudVolumeError("INVALID_METADATA", `${file} of ${url}: ${path} ${what}`, { url, key: file });
}

/** Parse an attributes.json: a JSON object, else INVALID_METADATA naming the file. */
export function parseAttributes(bytes: Uint8Array, url: string, file: string): Attributes {
  let o: unknown;
  try {
    o = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CloudVolumeError("INVALID_METADATA", `${file} of ${url} is not JSON: ${(e as Error).message}`, { url, key: file, cause: e });
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw invalid(url, file, "the attributes", `must be a JSON object, got ${show(o)}`);
  return o as Attributes;
}

export function isDatasetAttributes(a: Attributes): boolean {
  return a.dimensions !== undefined;
}

const posInt = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;

function intList(v: unknown, url: string, file: string, path: string, ok: (n: unknown) => boolean, what: string, length?: number): number[] {
  if (!Array.isArray(v) || v.length === 0 || (length !== undefined && v.length !== length)) {
    throw invalid(url, file, path, `must be a list of ${length ?? "one or more"} ${what}, got ${show(v)}`);
  }
  v.forEach((n, i) => {
    if (!ok(n)) throw invalid(url, file, `${path}[${i}]`, `must be ${what.replace(/s$/, "")}, got ${show(n)}`);
  });
  return v as number[];
}

/** Parameters of the compressions we know, checked so a bad one fails on open, not mid-read. */
const COMPRESSION_PARAMS: Record<string, Record<string, (v: unknown) => boolean>> = {
  raw: {},
  gzip: { level: (v) => Number.isInteger(v) && (v as number) >= -1 && (v as number) <= 9, useZlib: (v) => typeof v === "boolean" },
  bzip2: { blockSize: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 9 },
  xz: { preset: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 9 },
  lz4: { blockSize: posInt },
  blosc: {
    cname: (v) => typeof v === "string",
    clevel: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 9,
    shuffle: (v) => Number.isInteger(v) && (v as number) >= -1 && (v as number) <= 2,
    blocksize: (v) => Number.isInteger(v) && (v as number) >= 0,
    nthreads: (v) => Number.isInteger(v),
  },
  zstd: { level: (v) => Number.isInteger(v) },
};

/** The compression object of a dataset (`compression`, or the old `compressionType` string; neither = raw, as n5-java reads it). */
export function parseCompression(a: Attributes, url: string, file: string, path = "compression"): N5Compression {
  let c = a.compression;
  if (c === undefined && a.compressionType !== undefined) {
    if (typeof a.compressionType !== "string" || a.compressionType === "") throw invalid(url, file, "compressionType", `must be a compression name, got ${show(a.compressionType)}`);
    c = { type: a.compressionType };
  }
  if (c === undefined) return { type: "raw" };
  if (typeof c !== "object" || c === null || Array.isArray(c)) throw invalid(url, file, path, `must be an object {"type": ..., parameters}, got ${show(c)}`);
  const comp = c as N5Compression;
  if (typeof comp.type !== "string" || comp.type === "") throw invalid(url, file, `${path}.type`, `must be a compression name (raw, gzip, bzip2, xz, lz4, blosc, ...), got ${show(comp.type)}`);
  const known = COMPRESSION_PARAMS[comp.type];
  if (known) {
    for (const [k, ok] of Object.entries(known)) {
      if (comp[k] !== undefined && !ok(comp[k])) throw invalid(url, file, `${path}.${k}`, `is not a valid ${comp.type} parameter: ${show(comp[k])}`);
    }
  }
  return { ...comp };
}

/** Nanometres per unit of a pixelResolution / units entry (unknown or empty units are taken as nm). */
function unitToNm(unit: unknown): number {
  if (typeof unit !== "string") return 1;
  const u = unit.trim().toLowerCase();
  if (["nm", "nanometer", "nanometre", "nanometers", "nanometres"].includes(u)) return 1;
  if (["um", "µm", "μm", "micrometer", "micrometre", "micrometers", "micrometres", "micron", "microns"].includes(u)) return 1e3;
  if (["mm", "millimeter", "millimetre", "millimeters", "millimetres"].includes(u)) return 1e6;
  if (["cm", "centimeter", "centimetre"].includes(u)) return 1e7;
  if (["m", "meter", "metre", "meters", "metres"].includes(u)) return 1e9;
  if (["pm", "picometer", "picometre"].includes(u)) return 1e-3;
  if (["a", "å", "angstrom", "angstroms"].includes(u)) return 0.1;
  return 1;
}

const posNum = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n > 0;

function spatial(v: number[]): Vec3 {
  return [v[0] ?? 1, v[1] ?? 1, v[2] ?? 1];
}

/**
 * The base resolution (nm, x y z) an attributes object states: `pixelResolution`
 * ({"unit", "dimensions"} as n5-viewer writes it, or a bare list) first, then
 * `resolution` (with `units` when present). Undefined when it states none.
 */
export function parseResolution(a: Attributes, url: string, file: string): Vec3 | undefined {
  const pr = a.pixelResolution;
  if (pr !== undefined && pr !== null) {
    if (Array.isArray(pr)) return spatial(intList(pr, url, file, "pixelResolution", posNum, "positive numbers"));
    if (typeof pr !== "object") throw invalid(url, file, "pixelResolution", `must be {"unit": ..., "dimensions": [...]}, got ${show(pr)}`);
    const p = pr as Record<string, unknown>;
    const dims = intList(p.dimensions, url, file, "pixelResolution.dimensions", posNum, "positive numbers");
    const f = unitToNm(p.unit);
    return spatial(dims.map((d) => d * f));
  }
  const r = a.resolution;
  if (r !== undefined && r !== null) {
    const dims = intList(r, url, file, "resolution", posNum, "positive numbers");
    const units = Array.isArray(a.units) ? a.units : [];
    return spatial(dims.map((d, i) => d * unitToNm(units[i])));
  }
  return undefined;
}

/** `downsamplingFactors` of a dataset (a list of positive numbers), spatial part. */
function parseFactors(v: unknown, url: string, file: string, path: string): Vec3 {
  return spatial(intList(v, url, file, path, posNum, "positive numbers"));
}

/**
 * A dataset's attributes, validated (INVALID_METADATA naming the file and property), and
 * what our engine cannot hold refused (UNSUPPORTED): more than 4 dimensions, or a 4-D
 * dataset whose blocks split the channel axis.
 */
export function parseDataset(a: Attributes, url: string, file: string): N5Dataset {
  const dimensions = intList(a.dimensions, url, file, "dimensions", posInt, "positive integers");
  const blockSize = intList(a.blockSize, url, file, "blockSize", posInt, "positive integers", dimensions.length);
  if (!isDataType(a.dataType)) throw invalid(url, file, "dataType", `must be one of ${DATA_TYPES.join(", ")}, got ${show(a.dataType)}`);
  const compression = parseCompression(a, url, file);
  if (dimensions.length > 4) {
    throw new CloudVolumeError("UNSUPPORTED", `${file} of ${url}: ${dimensions.length}-dimensional N5 datasets are not supported (x, y, z and a channel axis at most)`, { url, key: file });
  }
  if (dimensions.length === 4 && blockSize[3] < dimensions[3]) {
    throw new CloudVolumeError(
      "UNSUPPORTED",
      `${file} of ${url}: blockSize[3] = ${blockSize[3]} is smaller than dimensions[3] = ${dimensions[3]} (the channel axis); blocks that split the channel axis are not supported, every block must hold all channels`,
      { url, key: file },
    );
  }
  let voxelOffset: Vec3 = [0, 0, 0];
  if (a[VOXEL_OFFSET_KEY] !== undefined) {
    const o = intList(a[VOXEL_OFFSET_KEY], url, file, VOXEL_OFFSET_KEY, (n) => typeof n === "number" && Number.isSafeInteger(n), "integers");
    voxelOffset = [o[0] ?? 0, o[1] ?? 0, o[2] ?? 0];
  }
  const ds: N5Dataset = { dimensions: [...dimensions], blockSize: [...blockSize], dataType: a.dataType, compression, voxelOffset };
  const res = parseResolution(a, url, file);
  if (res) ds.baseResolution = res;
  if (a.downsamplingFactors !== undefined) ds.downsamplingFactors = parseFactors(a.downsamplingFactors, url, file, "downsamplingFactors");
  return ds;
}

/** Channels a dataset holds (its 4th dimension, else 1). */
export function channelsOf(ds: N5Dataset): number {
  return ds.dimensions.length === 4 ? ds.dimensions[3] : 1;
}

/** A dataset as one scale of the LayerInfo. */
export function scaleOf(ds: N5Dataset, key: string, resolution: Vec3): LayerScaleInfo {
  const d = ds.dimensions, b = ds.blockSize;
  return {
    key,
    size: [d[0], d[1] ?? 1, d[2] ?? 1],
    voxel_offset: [...ds.voxelOffset],
    resolution: [...resolution],
    chunk_sizes: [[b[0], b[1] ?? 1, b[2] ?? 1]],
    encoding: "raw",
    compression: { ...ds.compression },
  };
}

/** Resolution of a scale: base (dataset's, else group's, else 1 nm) times the downsampling factors. */
export function resolutionOf(ds: N5Dataset, group: { base?: Vec3; factors?: Vec3[] }, index: number): Vec3 {
  const base = ds.baseResolution ?? group.base ?? [1, 1, 1];
  const f = ds.downsamplingFactors ?? group.factors?.[index] ?? [1, 1, 1];
  return [base[0] * f[0], base[1] * f[1], base[2] * f[2]];
}

/** A group's scale list (`downsamplingFactors` as BigDataViewer writes it, or n5-viewer's `scales`): one factor list per scale. */
export function groupFactors(a: Attributes, url: string, file: string): Vec3[] | undefined {
  for (const name of ["downsamplingFactors", "scales"]) {
    const v = a[name];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every(Array.isArray)) throw invalid(url, file, name, `must be a list of factor lists ([[1,1,1],[2,2,2],...]), got ${show(v)}`);
    return v.map((f, i) => parseFactors(f, url, file, `${name}[${i}]`));
  }
  return undefined;
}

// ---- writing ----------------------------------------------------------------------------

/** The encoding name of a compression object (gzip with useZlib is "zlib"). */
export function compressionName(c: N5Compression): string {
  return c.type === "gzip" && c.useZlib === true ? "zlib" : c.type;
}

/** Compression names accepted as a scale `encoding` when creating a layer. */
export const COMPRESSION_ENCODINGS = ["gzip", "zlib", "bzip2", "xz", "lz4", "blosc", "zstd"] as const;

/** The compression object a named compression gets by default (n5-java's defaults). */
export function defaultCompression(name: string, typesize = 1): N5Compression {
  switch (name) {
    case "raw": return { type: "raw" };
    case "gzip": return { type: "gzip", level: -1, useZlib: false };
    case "zlib": return { type: "gzip", level: -1, useZlib: true };
    case "bzip2": return { type: "bzip2", blockSize: 9 };
    case "xz": return { type: "xz", preset: 6 };
    case "lz4": return { type: "lz4", blockSize: 65536 };
    case "blosc": return { type: "blosc", cname: "lz4", clevel: 5, shuffle: typesize > 1 ? 1 : 0, blocksize: 0, nthreads: 1 };
    case "zstd": return { type: "zstd", level: 3 };
    default: throw new Error(`no default for ${name}`);
  }
}

/** What a new layer's scale is stored as: N5 dimensions, block size and compression. */
export interface ScalePlan {
  dimensions: number[];
  blockSize: number[];
  compression: N5Compression;
  voxelOffset: Vec3;
  resolution: Vec3;
}

function vec3(v: unknown, path: string, ok: (n: unknown) => boolean, what: string, url: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every(ok)) throw new CloudVolumeError("INVALID_METADATA", `info of ${url}: ${path} must be 3 ${what}, got ${show(v)}`, { url });
  return [v[0], v[1], v[2]];
}

function infoFail(url: string, path: string, what: string): never {
  throw new CloudVolumeError("INVALID_METADATA", `info of ${url}: ${path} ${what}`, { url });
}

/**
 * The N5 datasets a LayerInfo stands for, one per scale (INVALID_METADATA naming the
 * field when it cannot be one). A scale's `compression` (an N5 compression object) is used
 * as given; else an `encoding` naming a compression (gzip, zlib, bzip2, xz, lz4, blosc,
 * zstd) takes its defaults; else (`raw`, Precomputed's uncompressed array encoding) the
 * layer's `compress` decides as CloudVolume's default would: gzip unless it is "none" or false.
 */
export function planScales(info: LayerInfo | Record<string, unknown>, url: string, ndims: readonly (number | undefined)[] = []): { dtype: DataType; channels: number; scales: ScalePlan[] } {
  const o = info as Record<string, unknown>;
  if (typeof o !== "object" || o === null) infoFail(url, "info", `must be an object, got ${show(o)}`);
  if (!isDataType(o.data_type)) infoFail(url, "data_type", `must be one of ${DATA_TYPES.join(", ")}, got ${show(o.data_type)}`);
  const dtype = o.data_type;
  const channels = o.num_channels ?? 1;
  if (!posInt(channels)) infoFail(url, "num_channels", `must be a positive integer, got ${show(channels)}`);
  const scales = o.scales;
  if (!Array.isArray(scales) || scales.length === 0) infoFail(url, "scales", `must be a non-empty list, got ${show(scales)}`);
  const bpv = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, uint64: 8, int64: 8, float64: 8 }[dtype];
  const plans = scales.map((s: unknown, i: number): ScalePlan => {
    const p = `scales[${i}]`;
    if (typeof s !== "object" || s === null || Array.isArray(s)) infoFail(url, p, `must be an object, got ${show(s)}`);
    const sc = s as Record<string, unknown>;
    const size = vec3(sc.size, `${p}.size`, posInt, "positive integers", url);
    const cs = sc.chunk_sizes;
    if (!Array.isArray(cs) || cs.length === 0) infoFail(url, `${p}.chunk_sizes`, `must hold a chunk size, got ${show(cs)}`);
    if (cs.length > 1) infoFail(url, `${p}.chunk_sizes`, `must hold exactly one chunk size (an N5 dataset has one block size), got ${show(cs)}`);
    const chunk = vec3(cs[0], `${p}.chunk_sizes[0]`, posInt, "positive integers", url);
    const voxelOffset = sc.voxel_offset === undefined ? [0, 0, 0] as Vec3 : vec3(sc.voxel_offset, `${p}.voxel_offset`, (n) => typeof n === "number" && Number.isSafeInteger(n), "integers", url);
    const resolution = vec3(sc.resolution, `${p}.resolution`, posNum, "positive numbers", url);
    if (sc.sharding !== undefined && sc.sharding !== null) infoFail(url, `${p}.sharding`, "is not supported: N5 stores one file per block");
    let compression: N5Compression;
    const enc = sc.encoding;
    const named = typeof enc === "string" && (COMPRESSION_ENCODINGS as readonly string[]).includes(enc) ? enc : undefined;
    const given = sc.compression !== undefined && sc.compression !== null
      ? parseCompression({ compression: sc.compression }, url, "info", `${p}.compression`)
      : undefined;
    if (enc !== undefined && enc !== "raw" && named === undefined) {
      infoFail(url, `${p}.encoding`, `${show(enc)} cannot be stored in N5: use "raw" (with the layer's compress), or a compression name (${COMPRESSION_ENCODINGS.join(", ")}), or give ${p}.compression`);
    }
    if (given && (named === undefined || compressionName(given) === named)) {
      compression = given; // the scale's own compression object (a reopened layer's), unless the encoding now names another
    } else if (named) {
      compression = defaultCompression(named, bpv);
    } else {
      // "raw": Precomputed's uncompressed array encoding, gzipped by default as CloudVolume does.
      const c = o.compress;
      if (c === undefined || c === null || c === true || c === "gzip") compression = defaultCompression("gzip");
      else if (c === false || c === "none") compression = defaultCompression("raw");
      else if (typeof c === "string" && (COMPRESSION_ENCODINGS as readonly string[]).includes(c)) compression = defaultCompression(c, bpv);
      else infoFail(url, "compress", `${show(c)} is no N5 compression (raw, ${COMPRESSION_ENCODINGS.join(", ")}; "none" for raw)`);
    }
    // Datasets keep the rank they were read with (a 4-D one with one channel, a 2-D image);
    // new ones are 3-D, or 4-D with the channels as the last dimension.
    const had = ndims[i];
    let ndim = channels > 1 ? 4 : 3;
    if (had === 4) ndim = 4;
    else if (channels === 1 && (had === 1 || had === 2) && size.slice(had).every((n) => n === 1) && chunk.slice(had).every((n) => n === 1)) ndim = had;
    const dims = ndim === 4 ? [...size, channels] : size.slice(0, ndim);
    const block = ndim === 4 ? [...chunk, channels] : chunk.slice(0, ndim);
    return { dimensions: dims, blockSize: block, compression, voxelOffset, resolution };
  });
  return { dtype, channels, scales: plans };
}

/** The LayerInfo a plan reads back as (what reopening the written layer presents). */
export function presentPlan(plan: { dtype: DataType; channels: number; scales: ScalePlan[] }, keys: string[], type: string): LayerInfo {
  return {
    type,
    data_type: plan.dtype,
    num_channels: plan.channels,
    scales: plan.scales.map((s, i) => ({
      key: keys[i],
      size: [s.dimensions[0], s.dimensions[1] ?? 1, s.dimensions[2] ?? 1],
      voxel_offset: [...s.voxelOffset],
      resolution: [...s.resolution],
      chunk_sizes: [[s.blockSize[0], s.blockSize[1] ?? 1, s.blockSize[2] ?? 1]],
      encoding: "raw",
      compression: { ...s.compression },
    })),
  };
}

/** A dataset's attributes as written (over whatever else the file had). */
export function datasetAttributes(existing: Attributes, plan: ScalePlan, dtype: DataType, extra: Attributes): Attributes {
  const out: Attributes = { ...existing };
  for (const k of DATASET_KEYS) delete out[k];
  out.dimensions = plan.dimensions;
  out.blockSize = plan.blockSize;
  out.dataType = dtype;
  out.compression = plan.compression;
  if (plan.voxelOffset.some((v) => v !== 0)) out[VOXEL_OFFSET_KEY] = plan.voxelOffset;
  else delete out[VOXEL_OFFSET_KEY];
  return { ...out, ...extra };
}
