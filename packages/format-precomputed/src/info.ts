import { CloudVolumeError, dtypeInfo, isDataType, type DataType, type Vec3 } from "@cloudvolume/core";
import { parseShardingSpec } from "./sharding/spec.js";

/** One entry of `info.scales` (precomputed volume.md "info JSON file format"). */
export interface ScaleInfo {
  key: string;
  size: [number, number, number];
  voxel_offset: [number, number, number];
  resolution: [number, number, number];
  chunk_sizes: [number, number, number][];
  encoding: string;
  compressed_segmentation_block_size?: [number, number, number];
  sharding?: Record<string, unknown>;
  locked?: boolean;
  [param: string]: unknown;
}

export interface PrecomputedInfo {
  "@type"?: string;
  type: string;
  data_type: DataType;
  num_channels: number;
  scales: ScaleInfo[];
  mesh?: string;
  skeletons?: string;
  redirect?: string;
  [extra: string]: unknown;
}

function fail(path: string, message: string, url?: string): never {
  throw new CloudVolumeError("INVALID_METADATA", `info: ${path} ${message}`, { url, key: "info" });
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

function vec(value: unknown, path: string, url: string | undefined, check: (n: number) => boolean, what: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === "number" && check(v))) {
    fail(path, `must be three ${what}, got ${show(value)}`, url);
  }
  return [value[0], value[1], value[2]];
}
const isPosInt = (n: number) => Number.isInteger(n) && n > 0;
const isNonNegInt = (n: number) => Number.isInteger(n) && n >= 0;
const isInt = (n: number) => Number.isInteger(n);
const isPos = (n: number) => Number.isFinite(n) && n > 0;

/**
 * Parse and validate an info document. Errors carry the property path, as
 * Neuroglancer's do ("scales[1].chunk_sizes[0] must be ..."), so a broken info
 * can be fixed without reading our source.
 */
export function parseInfo(input: string | Uint8Array | unknown, url?: string): PrecomputedInfo {
  let raw: unknown = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new CloudVolumeError("INVALID_METADATA", `info: not valid JSON (${(cause as Error).message})`, { url, key: "info", cause });
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("(root)", `must be a JSON object, got ${show(raw)}`, url);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.redirect === "string" && o.scales === undefined) {
    // A pure redirect stub need not carry scales; the caller follows it.
    return o as unknown as PrecomputedInfo;
  }
  if (typeof o.type !== "string") fail("type", `must be a string ("image" or "segmentation"), got ${show(o.type)}`, url);
  if (!isDataType(o.data_type)) fail("data_type", `must be one of uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64; got ${show(o.data_type)}`, url);
  if (typeof o.num_channels !== "number" || !isPosInt(o.num_channels)) fail("num_channels", `must be a positive integer, got ${show(o.num_channels)}`, url);
  if (!Array.isArray(o.scales)) fail("scales", `must be an array of scale objects, got ${show(o.scales)}`, url);
  if (o.scales.length === 0) fail("scales", "must list at least one scale", url);
  const scales = o.scales.map((s, i) => parseScale(s, `scales[${i}]`, url));
  return { ...(o as object), type: o.type, data_type: o.data_type, num_channels: o.num_channels, scales } as PrecomputedInfo;
}

function parseScale(s: unknown, path: string, url?: string): ScaleInfo {
  if (typeof s !== "object" || s === null || Array.isArray(s)) fail(path, `must be an object, got ${show(s)}`, url);
  const o = s as Record<string, unknown>;
  if (typeof o.key !== "string" || o.key === "") fail(`${path}.key`, `must be a non-empty string, got ${show(o.key)}`, url);
  if (o.key.split("/").includes("..")) fail(`${path}.key`, `must not contain "..", got ${show(o.key)}`, url);
  const size = vec(o.size, `${path}.size`, url, isNonNegInt, "non-negative integers");
  const resolution = vec(o.resolution, `${path}.resolution`, url, isPos, "positive numbers");
  const voxel_offset = o.voxel_offset === undefined ? ([0, 0, 0] as [number, number, number]) : vec(o.voxel_offset, `${path}.voxel_offset`, url, isInt, "integers");
  if (!Array.isArray(o.chunk_sizes) || o.chunk_sizes.length === 0) fail(`${path}.chunk_sizes`, `must be a non-empty list of [x, y, z], got ${show(o.chunk_sizes)}`, url);
  const chunk_sizes = o.chunk_sizes.map((c, j) => vec(c, `${path}.chunk_sizes[${j}]`, url, isPosInt, "positive integers"));
  if (typeof o.encoding !== "string" || o.encoding === "") fail(`${path}.encoding`, `must be a string such as "raw", got ${show(o.encoding)}`, url);
  const out: ScaleInfo = { ...o, key: o.key, size, resolution, voxel_offset, chunk_sizes, encoding: o.encoding };
  if (o.compressed_segmentation_block_size !== undefined) {
    out.compressed_segmentation_block_size = vec(o.compressed_segmentation_block_size, `${path}.compressed_segmentation_block_size`, url, isPosInt, "positive integers");
  } else if (o.encoding === "compressed_segmentation") {
    fail(`${path}.compressed_segmentation_block_size`, "is required when encoding is compressed_segmentation", url);
  }
  // Checked field by field, with the property path in the message (volume.md: "sharding"
  // must be a sharding specification, sharded.md). null means unsharded, as in CloudVolume.
  if (o.sharding !== undefined && o.sharding !== null) parseShardingSpec(o.sharding, `${path}.sharding`, url);
  return out;
}

export interface NewInfoOptions {
  numChannels?: number;
  layerType: "image" | "segmentation" | string;
  dataType: DataType | string;
  encoding: string;
  resolution: Vec3;
  voxelOffset?: Vec3;
  volumeSize: Vec3;
  chunkSize?: Vec3;
  mesh?: string;
  skeletons?: string;
  compressedSegmentationBlockSize?: Vec3;
  /** Extra scale parameters (jpeg_quality, png_level, ...). */
  scaleParams?: Record<string, unknown>;
  maxMip?: number;
  /** Downsample factor per mip when maxMip > 0; default (2, 2, 1). */
  factor?: Vec3;
}

/** CloudVolume's scale-key convention: the resolution joined by underscores. */
export function scaleKey(resolution: Vec3): string {
  return resolution.map((r) => String(r)).join("_");
}

/** Build a new info document (CloudVolume.create_new_info). Nothing is written until commitInfo. */
export function createNewInfo(o: NewInfoOptions): PrecomputedInfo {
  dtypeInfo(o.dataType);
  const chunk = o.chunkSize ?? [64, 64, 64];
  const scale: ScaleInfo = {
    chunk_sizes: [[chunk[0], chunk[1], chunk[2]]],
    encoding: o.encoding,
    key: scaleKey(o.resolution),
    resolution: [o.resolution[0], o.resolution[1], o.resolution[2]],
    size: [o.volumeSize[0], o.volumeSize[1], o.volumeSize[2]],
    voxel_offset: [...(o.voxelOffset ?? [0, 0, 0])] as [number, number, number],
    ...(o.scaleParams ?? {}),
  };
  if (o.encoding === "compressed_segmentation") {
    const b = o.compressedSegmentationBlockSize ?? [8, 8, 8];
    scale.compressed_segmentation_block_size = [b[0], b[1], b[2]];
  }
  const info: PrecomputedInfo = {
    data_type: o.dataType as DataType,
    num_channels: o.numChannels ?? 1,
    scales: [scale],
    type: o.layerType,
  };
  if (o.mesh) info.mesh = o.mesh;
  if (o.skeletons) info.skeletons = o.skeletons;
  const factor = o.factor ?? [2, 2, 1];
  for (let m = 1; m <= (o.maxMip ?? 0); m++) {
    const f: Vec3 = [factor[0] ** m, factor[1] ** m, factor[2] ** m];
    addScale(info, f, { fromMip: 0 });
  }
  return parseInfo(info);
}

export interface AddScaleOptions {
  /** Mip the factor is relative to (default 0). */
  fromMip?: number;
  chunkSize?: Vec3;
  encoding?: string;
  compressedSegmentationBlockSize?: Vec3;
}

/**
 * Add (or return the existing) scale downsampled by `factor` from `fromMip`
 * (CloudVolume add_scale): size ceils, voxel_offset floors.
 */
export function addScale(info: PrecomputedInfo, factor: Vec3, opts: AddScaleOptions = {}): ScaleInfo {
  const base = info.scales[opts.fromMip ?? 0];
  if (!base) throw new CloudVolumeError("INVALID_ARGUMENT", `addScale: no scale at mip ${opts.fromMip ?? 0}`);
  if (!factor.every((f) => Number.isFinite(f) && f > 0)) throw new CloudVolumeError("INVALID_ARGUMENT", `addScale: factor must be positive, got ${factor.join(",")}`);
  const resolution = base.resolution.map((r, i) => r * factor[i]) as [number, number, number];
  const existing = info.scales.find((s) => s.resolution.every((r, i) => Math.abs(r - resolution[i]) < 1e-9));
  if (existing) return existing;
  const scale: ScaleInfo = {
    ...base,
    chunk_sizes: [opts.chunkSize ? [opts.chunkSize[0], opts.chunkSize[1], opts.chunkSize[2]] : [...base.chunk_sizes[0]] as [number, number, number]],
    encoding: opts.encoding ?? base.encoding,
    key: scaleKey(resolution),
    resolution,
    size: base.size.map((s, i) => Math.ceil(s / factor[i])) as [number, number, number],
    voxel_offset: base.voxel_offset.map((v, i) => Math.floor(v / factor[i])) as [number, number, number],
  };
  delete scale.sharding;
  delete scale.locked;
  if (scale.encoding === "compressed_segmentation") {
    const b = opts.compressedSegmentationBlockSize ?? base.compressed_segmentation_block_size ?? [8, 8, 8];
    scale.compressed_segmentation_block_size = [b[0], b[1], b[2]];
  } else {
    delete scale.compressed_segmentation_block_size;
  }
  info.scales.push(scale);
  info.scales.sort((a, b) => a.resolution[0] * a.resolution[1] * a.resolution[2] - b.resolution[0] * b.resolution[1] * b.resolution[2]);
  return scale;
}

/** Drop every scale above mip 0 (CloudVolume's reset_scales). */
export function resetScales(info: PrecomputedInfo): void {
  info.scales = info.scales.slice(0, 1);
}

/**
 * Serialise as CloudVolume does: keys sorted, two-space indent (Python's
 * json.dumps(sort_keys=True, indent=2) and JSON.stringify(…, 2) lay arrays out alike).
 */

// Metadata is written as CloudVolume writes it (sorted keys, indent 2); the helper lives in core.
export { serializeJson } from "@cloudvolume/core";
