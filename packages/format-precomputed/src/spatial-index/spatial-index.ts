import {
  Bbox, CloudVolumeError, isCloudVolumeError, joinKey, mapConcurrent, throwIfAborted, toVec3, withRetry,
  type BboxLike, type KeyValueStore, type RetryPolicy, type Vec3,
} from "@cloudvolume/core";

/**
 * The `spatial_index` entry of a mesh or skeleton directory's info:
 * `{ resolution?: [x, y, z], chunk_size: [x, y, z] }`. chunk_size is physical (nm).
 */
export interface SpatialIndexInfo {
  resolution?: Vec3 | null;
  chunk_size: Vec3;
}

/**
 * A SQL database built from the .spatial files (CloudVolume's to_sql / spatial_index_db):
 * tables `index_files(id, filename)` and `file_lookup(label, fid)`. The Node-only
 * implementation is `@cloudvolume/spatial-index-sqlite` (better-sqlite3).
 */
export interface SpatialIndexDb {
  /** Every distinct label in `file_lookup`, ascending. */
  allLabels(): BigUint64Array | Promise<BigUint64Array>;
  /** Base names of the .spatial files listing `label`. */
  filesForLabel(label: bigint): string[] | Promise<string[]>;
  /** label -> base names of the .spatial files listing it; every label when `labels` is undefined. */
  fileLocations(labels?: readonly bigint[]): Map<bigint, string[]> | Promise<Map<bigint, string[]>>;
  close?(): void;
}

export interface SpatialIndexOptions {
  /** The layer's store; the .spatial files are `<dir>/<name>.spatial` in it. */
  store: KeyValueStore;
  /** Directory of the mesh or skeletons under the store root (info.mesh / info.skeletons). */
  dir: string;
  /** Voxel bounds of the layer at the index's mip (CloudVolume: meta.bounds(mip)). */
  bounds: BboxLike;
  /** spatial_index.resolution, else the layer's resolution at that mip. Bounds x resolution = physical bounds. */
  resolution: readonly number[];
  /** spatial_index.chunk_size: the physical size of one .spatial file's region. */
  chunkSize: readonly number[];
  /** Undo a transfer encoding (e.g. "gzip" for `.spatial.gz` files). Default: gzip/deflate via DecompressionStream. */
  decode?: (data: Uint8Array, encoding: string, key: string) => Promise<Uint8Array>;
  /** Parallel file reads (default 32). */
  concurrency?: number;
  /** Retry transient read failures (core's withRetry options). */
  retry?: RetryPolicy;
  /** Answer label-file lookups and whole-bounds queries from this database (spatialIndexDb). */
  db?: SpatialIndexDb;
  /** Layer URL for error messages. */
  url?: string;
}

export interface SpatialQueryOptions {
  /** Skip missing .spatial files instead of failing with NOT_FOUND (CloudVolume's allow_missing). */
  allowMissing?: boolean;
  signal?: AbortSignal;
}

/** One parsed .spatial file: labels with their physical boxes [x0, y0, z0, x1, y1, z1]. */
export interface SpatialFile {
  name: string;
  labels: bigint[];
  boxes: Float64Array;
}

const MAX_U64 = (1n << 64n) - 1n;

/** Decimal places of a number as written (CloudVolume's getprecision). */
function precisionOf(x: number): number {
  if (Number.isInteger(x)) return 0;
  const s = String(x);
  const e = /e-(\d+)$/.exec(s);
  if (e) {
    const mant = s.slice(0, s.indexOf("e"));
    const dot = mant.indexOf(".");
    return Number(e[1]) + (dot < 0 ? 0 : mant.length - dot - 1);
  }
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * Parse the JSON of a .spatial file: `{"segid": [x0, y0, z0, x1, y1, z1], ...}`.
 * Labels are uint64 decimal strings (exact as bigint); boxes are physical units.
 * Anything else is DECODE_FAILED naming the file.
 */
export function parseSpatialFile(bytes: Uint8Array, name: string, url?: string): SpatialFile {
  const fail = (why: string, cause?: unknown): never => {
    throw new CloudVolumeError("DECODE_FAILED", `spatial index file ${name}: ${why}`, { key: name, url, cause });
  };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    fail(`not valid JSON (${(cause as Error)?.message ?? cause})`, cause);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("expected a JSON object mapping segment ids to [x0,y0,z0,x1,y1,z1]");
  const entries = Object.entries(json as Record<string, unknown>);
  const labels: bigint[] = new Array(entries.length);
  const boxes = new Float64Array(entries.length * 6);
  entries.forEach(([k, v], i) => {
    if (!/^\d+$/.test(k)) fail(`segment id ${JSON.stringify(k)} is not an unsigned integer`);
    const label = BigInt(k);
    if (label > MAX_U64) fail(`segment id ${k} does not fit in uint64`);
    if (!Array.isArray(v) || v.length !== 6 || !v.every((n) => typeof n === "number" && Number.isFinite(n))) {
      fail(`bounding box of segment ${k} must be six numbers [x0,y0,z0,x1,y1,z1], got ${JSON.stringify(v)}`);
    }
    labels[i] = label;
    boxes.set(v as number[], i * 6);
  });
  return { name, labels, boxes };
}

/** CloudVolume's Bbox.intersects: strict on both sides (boxes that only touch do not intersect). */
function boxesIntersect(b: Float64Array, i: number, q: Bbox): boolean {
  const o = i * 6;
  return (
    b[o] < q.max[0] && b[o + 1] < q.max[1] && b[o + 2] < q.max[2] &&
    b[o + 3] > q.min[0] && b[o + 4] > q.min[1] && b[o + 5] > q.min[2]
  );
}

function sortedLabels(set: Iterable<bigint>): BigUint64Array {
  const out = BigUint64Array.from(set);
  out.sort();
  return out;
}

async function defaultDecode(data: Uint8Array, encoding: string, key: string): Promise<Uint8Array> {
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new CloudVolumeError("UNKNOWN_CODEC", `no decoder for ${encoding}-encoded ${key}: pass SpatialIndexOptions.decode`, { key });
  }
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(encoding));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Client side of the Precomputed spatial index of a mesh or skeleton directory
 * (CloudVolume's SpatialIndex). Every coordinate here is PHYSICAL (nm, as in the
 * .spatial files and CloudVolume's query/get_bbox), never voxels: convert a voxel
 * box with `voxelToPhysical`.
 *
 * Files cover the physical bounds (voxel bounds x resolution) in a grid of
 * `chunk_size` anchored at the physical bounds' minimum, each named
 * `x0-x1_y0-y1_z0-z1.spatial` (the last cell cut at the bounds' maximum) and
 * optionally gzipped.
 */
export class SpatialIndex {
  readonly store: KeyValueStore;
  readonly dir: string;
  /** Voxel bounds. */
  readonly bounds: Bbox;
  readonly resolution: Vec3;
  readonly chunkSize: Vec3;
  /** Physical bounds: bounds x resolution. */
  readonly physicalBounds: Bbox;
  /** Decimal places used in file names (0 for integer resolutions). */
  readonly precision: number;
  readonly db?: SpatialIndexDb;
  private readonly options: SpatialIndexOptions;

  constructor(options: SpatialIndexOptions) {
    this.options = options;
    this.store = options.store;
    this.dir = options.dir.replace(/^\/+|\/+$/g, "");
    this.bounds = Bbox.from(options.bounds, "spatial index bounds");
    this.resolution = toVec3(options.resolution, "spatial_index.resolution");
    this.chunkSize = toVec3(options.chunkSize, "spatial_index.chunk_size");
    if (!this.chunkSize.every((c) => c > 0)) {
      throw new CloudVolumeError("INVALID_METADATA", `spatial_index.chunk_size must be positive, got ${JSON.stringify(options.chunkSize)}`, { url: options.url });
    }
    this.precision = Math.max(...this.resolution.map(precisionOf));
    const r = this.resolution;
    this.physicalBounds = new Bbox(
      [this.bounds.min[0] * r[0], this.bounds.min[1] * r[1], this.bounds.min[2] * r[2]],
      [this.bounds.max[0] * r[0], this.bounds.max[1] * r[1], this.bounds.max[2] * r[2]],
    );
    this.db = options.db;
  }

  /** The same index answering from `db` (see @cloudvolume/spatial-index-sqlite). */
  withDb(db: SpatialIndexDb | undefined): SpatialIndex {
    return new SpatialIndex({ ...this.options, db });
  }

  /** A voxel box (at the index's resolution) in physical units. */
  voxelToPhysical(bbox: BboxLike): Bbox {
    const b = Bbox.from(bbox);
    const r = this.resolution;
    return new Bbox([b.min[0] * r[0], b.min[1] * r[1], b.min[2] * r[2]], [b.max[0] * r[0], b.max[1] * r[1], b.max[2] * r[2]]);
  }

  private render(x: number): string {
    return this.precision ? x.toFixed(this.precision) : String(x);
  }

  /**
   * Base names of the .spatial files a PHYSICAL bbox touches (CloudVolume's
   * index_file_paths_for_bbox): the box is grown to the chunk grid anchored at the
   * physical bounds' minimum; a box with a side under one unit touches none.
   * Default: every file of the index. The box is not cropped to the bounds (query does).
   */
  fileNames(bbox?: BboxLike): string[] {
    const pb = this.physicalBounds;
    const b = (bbox === undefined ? pb : Bbox.from(bbox)).expandToChunkSize(this.chunkSize, pb.min);
    const s = b.size();
    if (s[0] < 0 || s[1] < 0 || s[2] < 0 || s[0] * s[1] * s[2] < 1) return [];
    const c = this.chunkSize;
    const out: string[] = [];
    for (let z = b.min[2]; z < b.max[2]; z += c[2]) {
      for (let y = b.min[1]; y < b.max[1]; y += c[1]) {
        for (let x = b.min[0]; x < b.max[0]; x += c[0]) {
          const hi = [Math.min(x + c[0], pb.max[0]), Math.min(y + c[1], pb.max[1]), Math.min(z + c[2], pb.max[2])];
          out.push(`${this.render(x)}-${this.render(hi[0])}_${this.render(y)}-${this.render(hi[1])}_${this.render(z)}-${this.render(hi[2])}.spatial`);
        }
      }
    }
    return out;
  }

  /** Store key of a .spatial file's base name. */
  keyOf(name: string): string {
    return joinKey(this.dir, name);
  }

  /** Read and parse one .spatial file; undefined when it is missing. */
  async readFile(name: string, signal?: AbortSignal): Promise<SpatialFile | undefined> {
    const key = this.keyOf(name);
    const store = this.store;
    const obj = await withRetry(async () => {
      throwIfAborted(signal);
      if (store.getObject) return store.getObject(key, { signal });
      const data = await store.get(key, { signal });
      return data && { data, contentEncoding: undefined as string | undefined };
    }, this.options.retry, signal);
    if (!obj) return undefined;
    let bytes = obj.data;
    let encoding = obj.contentEncoding && obj.contentEncoding !== "identity" ? obj.contentEncoding : undefined;
    if (!encoding && bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) encoding = "gzip"; // gzipped without a .gz name
    if (encoding) {
      try {
        bytes = await (this.options.decode ?? defaultDecode)(bytes, encoding, key);
      } catch (cause) {
        if (isCloudVolumeError(cause) && cause.code !== "DECODE_FAILED") throw cause;
        throw new CloudVolumeError("DECODE_FAILED", `spatial index file ${key}: cannot decode ${encoding} stream: ${(cause as Error)?.message ?? cause}`, { key, url: this.options.url, cause });
      }
    }
    return parseSpatialFile(bytes, key, this.options.url);
  }

  /** Read many files in parallel; a missing file is NOT_FOUND (CloudVolume's SpatialIndexGapError) unless allowMissing. */
  async readFiles(names: readonly string[], opts: SpatialQueryOptions = {}): Promise<SpatialFile[]> {
    const files = await mapConcurrent(names, this.options.concurrency ?? 32, async (name) => {
      const f = await this.readFile(name, opts.signal);
      if (!f && !opts.allowMissing) {
        throw new CloudVolumeError("NOT_FOUND", `spatial index file ${this.keyOf(name)} was not found (a gap in the spatial index)`, { key: this.keyOf(name), url: this.options.url });
      }
      return f;
    }, opts.signal);
    return files.filter((f): f is SpatialFile => f !== undefined);
  }

  /**
   * Labels whose box intersects a PHYSICAL bbox (CloudVolume's query), ascending.
   * The box is cropped to the physical bounds; each label's own box is tested
   * (strictly: touching is not intersecting) — except when the grid-expanded box
   * covers the whole bounds, where every label of every file is returned unfiltered
   * (and, with a db, the db's label list is used without reading any file).
   */
  async queryLabels(bbox: BboxLike, opts: SpatialQueryOptions = {}): Promise<BigUint64Array> {
    const pb = this.physicalBounds;
    const original = Bbox.from(bbox).clamp(pb);
    const expanded = original.expandToChunkSize(this.chunkSize, pb.min);
    const s = expanded.size();
    if (s[0] < 0 || s[1] < 0 || s[2] < 0 || s[0] * s[1] * s[2] < 1) return new BigUint64Array(0);
    const fastPath = expanded.containsBbox(pb);
    if (this.db && fastPath) return this.db.allLabels();
    const labels = new Set<bigint>();
    for (const f of await this.readFiles(this.fileNames(expanded), opts)) {
      for (let i = 0; i < f.labels.length; i++) {
        if (fastPath || boxesIntersect(f.boxes, i, original)) labels.add(f.labels[i]);
      }
    }
    return sortedLabels(labels);
  }

  /** queryLabels for a VOXEL bbox at the index's resolution. */
  queryLabelsVoxel(bbox: BboxLike, opts: SpatialQueryOptions = {}): Promise<BigUint64Array> {
    return this.queryLabels(this.voxelToPhysical(bbox), opts);
  }

  /**
   * The PHYSICAL box enclosing `label` (union of its boxes in every file), or
   * undefined when no file lists it (CloudVolume's get_bbox). Without a db this
   * reads every file of the index; with one, only the files the db names.
   */
  async getBbox(label: bigint | number | string, opts: SpatialQueryOptions = {}): Promise<Bbox | undefined> {
    const want = toLabel(label);
    const names = this.db ? await this.db.filesForLabel(want) : this.fileNames();
    let min: number[] | undefined;
    let max: number[] | undefined;
    for (const f of await this.readFiles(names, this.db ? { ...opts, allowMissing: false } : opts)) {
      for (let i = 0; i < f.labels.length; i++) {
        if (f.labels[i] !== want) continue;
        const o = i * 6;
        const lo = [f.boxes[o], f.boxes[o + 1], f.boxes[o + 2]];
        const hi = [f.boxes[o + 3], f.boxes[o + 4], f.boxes[o + 5]];
        min = min ? min.map((v, k) => Math.min(v, lo[k])) : lo;
        max = max ? max.map((v, k) => Math.max(v, hi[k])) : hi;
      }
    }
    return min && max ? new Bbox(min, max) : undefined;
  }

  /**
   * label -> base names of the .spatial files listing it (CloudVolume's
   * file_locations_per_label); every label when `labels` is undefined.
   */
  async fileLocations(labels?: ReadonlyArray<bigint | number | string>, opts: SpatialQueryOptions = {}): Promise<Map<bigint, string[]>> {
    const want = labels && new Set(labels.map(toLabel));
    if (this.db) return this.db.fileLocations(want && [...want]);
    const out = new Map<bigint, string[]>();
    for (const f of await this.readFiles(this.fileNames(), opts)) {
      const base = f.name.slice(f.name.lastIndexOf("/") + 1);
      for (const l of f.labels) {
        if (want && !want.has(l)) continue;
        let list = out.get(l);
        if (!list) out.set(l, (list = []));
        list.push(base);
      }
    }
    return out;
  }

  /** Every file of the index, in batches of `batch` (for building a database). Missing files fail unless allowMissing. */
  async *allFiles(opts: SpatialQueryOptions & { batch?: number } = {}): AsyncGenerator<SpatialFile[]> {
    const names = this.fileNames();
    const n = opts.batch ?? 500;
    for (let i = 0; i < names.length; i += n) yield await this.readFiles(names.slice(i, i + n), opts);
  }
}

/** A label as a uint64 bigint (numbers must be safe integers). */
export function toLabel(label: bigint | number | string): bigint {
  let v: bigint;
  if (typeof label === "bigint") v = label;
  else if (typeof label === "number") {
    if (!Number.isSafeInteger(label)) throw new CloudVolumeError("INVALID_ARGUMENT", `label ${label} is not a safe integer: pass a bigint`);
    v = BigInt(label);
  } else if (/^\d+$/.test(label)) v = BigInt(label);
  else throw new CloudVolumeError("INVALID_ARGUMENT", `label ${JSON.stringify(label)} is not an unsigned integer`);
  if (v < 0n || v > MAX_U64) throw new CloudVolumeError("INVALID_ARGUMENT", `label ${v} is outside uint64`);
  return v;
}
