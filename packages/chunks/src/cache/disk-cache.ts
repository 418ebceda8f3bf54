import {
  Bbox, CloudVolumeError, serializeJson, type BboxLike, type ByteCodec, type Context, type KeyValueStore, type LayerInfo, type ParsedUrl, type Vec3,
} from "@cloudvolume/core";
import type { ChunkedVolume } from "../volume.js";
import type { LruEncoding } from "./chunk-lru.js";

/**
 * Cache options of a volume (CloudVolume's `cache`, `compress_cache`, `lru_bytes`,
 * `lru_encoding` in camelCase). The disk cache needs a file system, so this browser-safe
 * package only defines it; `cacheFactory` supplies it (the `cloudvolume` Node bundle
 * passes `@cloudvolume/storage-file`'s `createDiskCache`).
 */
export interface CacheOptions {
  /**
   * Keep a local copy of everything read or written: `true` under the default root
   * (`$CLOUD_VOLUME_CACHE_DIR`, else `$CLOUD_VOLUME_DIR/cache`, else
   * `~/.cloudvolume/cache`), a string to use that directory as the root. The layer's
   * files go to `<root>/<protocol>/<bucket and path>/<layer>/`, mirroring the remote.
   */
  cache?: boolean | string;
  /**
   * How chunks are stored in the disk cache: undefined/null = as writes compress them
   * (CloudVolume's compress_cache=None: follow `compress`, else gzip for raw and
   * compressed_segmentation), `true` = gzip, `false` = uncompressed, or "gzip" / "br" / "zstd".
   */
  compressCache?: boolean | "gzip" | "br" | "zstd" | "none" | null;
  /** Budget of the in-memory chunk LRU in bytes; 0 (default) disables it. */
  lruBytes?: number;
  /** Form of the chunks in the LRU: "same" (default), "raw" or an encoding name. */
  lruEncoding?: LruEncoding;
  /** Builds the disk cache; needed for `cache` (the Node bundle passes one). */
  cacheFactory?: DiskCacheFactory;
}

/** What a disk cache factory is given. */
export interface DiskCacheRequest {
  /** The layer's cloudpath after redirects. */
  parsed: ParsedUrl;
  /** The `cache` option: `true` for the default root, or a root directory. */
  cache: true | string;
  /** False when the cache only serves `vol.cache` (list, flush, ...) and must not create anything. */
  enabled: boolean;
  /** The layer's remote store, to wrap. */
  remote: KeyValueStore;
  /** Transfer-compression codecs, for recompressing what is cached. */
  compression(name: string): Promise<ByteCodec | undefined>;
  /**
   * How to store `key` locally: undefined = as the remote has it, null = uncompressed,
   * a name = recompressed with it.
   */
  encodingFor(key: string): string | null | undefined;
}

/**
 * A disk cache: a read-through, write-through wrapper of the remote store, plus the
 * file operations `vol.cache` needs. Paths given to it are relative to the layer's
 * cache directory, with forward slashes.
 */
export interface DiskCacheBackend {
  /** Absolute directory of this layer's cache. */
  readonly path: string;
  /** The remote store with the cache in front of it. */
  readonly store: KeyValueStore;
  /** File names directly inside `dir` (e.g. a scale key), sorted; [] when there is no such directory. */
  listDir(dir: string): Promise<string[]>;
  /** Number of files directly inside `dir` and their total size in bytes. */
  dirStats(dir: string): Promise<{ files: number; bytes: number }>;
  /** Remove files `dir/<name>` (names as listDir gives them). */
  removeFiles(dir: string, names: readonly string[]): Promise<void>;
  /** Remove every stored variant (`.gz`, `.br`, ...) of one key. */
  removeKey(key: string): Promise<void>;
  /** Remove the layer's whole cache directory. */
  removeAll(): Promise<void>;
  /** A cached object's bytes with their transfer compression removed; undefined when not cached. */
  readLocal(key: string): Promise<Uint8Array | undefined>;
  /** Store bytes locally only (the remote is not touched). */
  writeLocal(key: string, data: Uint8Array): Promise<void>;
}

export type DiskCacheFactory = (req: DiskCacheRequest) => DiskCacheBackend | Promise<DiskCacheBackend>;

type CacheVolume = Pick<ChunkedVolume, "mip" | "info" | "mipIndex" | "bboxToMip" | "url" | "layer">;

/** The directory of a mip's chunks, relative to the layer (a Precomputed scale's key). */
function chunkDir(vol: CacheVolume, mip: number): string {
  return vol.layer.chunkPrefix(mip).replace(/\/+$/, "");
}

/**
 * `vol.cache`: the on-disk cache of one layer (CloudVolume's CacheService). Every
 * operation works on the directory even when the cache is off for this volume (as
 * CloudVolume's do), so `flush()` can clear what an earlier run left. Without a file
 * system (browser bundle) the cache is absent: `path` is undefined, lists are empty and
 * flushes do nothing.
 */
export class LayerCache {
  constructor(
    private readonly vol: CacheVolume,
    private readonly backend: DiskCacheBackend | undefined,
    /** True when reads and writes go through the cache. */
    readonly enabled: boolean,
  ) {}

  /** Absolute directory of this layer's cache; undefined without a file system. */
  get path(): string | undefined {
    return this.backend?.path;
  }

  /** Names of the cached files of one mip (default: the current one), as stored (`.gz` etc. included). */
  async list(mip?: number | Vec3): Promise<string[]> {
    if (!this.backend) return [];
    return this.backend.listDir(this.key(mip));
  }

  /** Number of cached files of one mip (default: the current one), or of every mip with "all". */
  numFiles(mip?: number | Vec3): Promise<number>;
  numFiles(mip: "all"): Promise<number[]>;
  async numFiles(mip?: number | Vec3 | "all"): Promise<number | number[]> {
    return this.stat(mip, "files");
  }

  /** Bytes of the cached files of one mip (default: the current one), or of every mip with "all". */
  numBytes(mip?: number | Vec3): Promise<number>;
  numBytes(mip: "all"): Promise<number[]>;
  async numBytes(mip?: number | Vec3 | "all"): Promise<number | number[]> {
    return this.stat(mip, "bytes");
  }

  /**
   * Delete the layer's cache. With `preserve`, only chunk files of every mip that do not
   * intersect it go; info and provenance stay (CloudVolume's flush(preserve)). `preserve`
   * is in the voxel coordinates of `mip` (default 0, as CloudVolume) and is converted to
   * each scale. Files that are not named by a chunk box (shard files, their cached byte
   * ranges) cannot be placed in space and are deleted too: the cache only ever costs a
   * re-read.
   */
  async flush(opts: { preserve?: BboxLike; mip?: number | Vec3 } = {}): Promise<void> {
    if (!this.backend) return;
    if (opts.preserve === undefined) {
      await this.backend.removeAll();
      return;
    }
    const preserve = Bbox.from(opts.preserve, "preserve");
    const from = this.vol.mipIndex(opts.mip ?? 0);
    for (let mip = 0; mip < this.vol.info.scales.length; mip++) {
      const keep = this.vol.bboxToMip(preserve, from, mip);
      await this.removeWhere(mip, (box) => box === undefined || !box.intersects(keep));
    }
  }

  /**
   * Delete the cached chunks that intersect `region` (partly or wholly) at the mips in
   * `mips`, or at `mip` (default: the current one). `region` is in mip 0 voxel
   * coordinates, as CloudVolume documents flush_region (its code deletes the complement,
   * which we do not copy), unless `regionMip` names another frame. Files not named by a
   * chunk box go too.
   */
  async flushRegion(region: BboxLike, opts: { mip?: number | Vec3; mips?: ReadonlyArray<number | Vec3>; regionMip?: number | Vec3 } = {}): Promise<void> {
    if (!this.backend) return;
    const box = Bbox.from(region, "region");
    const from = this.vol.mipIndex(opts.regionMip ?? 0);
    const mips = opts.mips ?? [opts.mip ?? this.vol.mip];
    for (const m of mips) {
      const mip = this.vol.mipIndex(m);
      const target = this.vol.bboxToMip(box, from, mip);
      await this.removeWhere(mip, (b) => b === undefined || b.intersects(target));
    }
  }

  /** Delete the cached info: the next open reads (and caches) the remote's. */
  async flushInfo(): Promise<void> {
    await this.backend?.removeKey("info");
  }

  /** Delete the cached provenance. */
  async flushProvenance(): Promise<void> {
    await this.backend?.removeKey("provenance");
  }

  private key(mip: number | Vec3 | undefined): string {
    return chunkDir(this.vol, this.vol.mipIndex(mip));
  }

  private async stat(mip: number | Vec3 | "all" | undefined, what: "files" | "bytes"): Promise<number | number[]> {
    if (mip === "all") {
      const out: number[] = [];
      for (let m = 0; m < this.vol.info.scales.length; m++) out.push(await this.stat(m, what) as number);
      return out;
    }
    if (!this.backend) return 0;
    return (await this.backend.dirStats(this.key(mip)))[what];
  }

  private async removeWhere(mip: number, doomed: (box: Bbox | undefined) => boolean): Promise<void> {
    const backend = this.backend!;
    const dir = chunkDir(this.vol, mip);
    const names = await backend.listDir(dir);
    await backend.removeFiles(dir, names.filter((n) => doomed(chunkBoxOf(n))));
  }
}

/** The chunk box a cached file name stands for (`x0-x1_y0-y1_z0-z1` with any suffix), else undefined. */
function chunkBoxOf(name: string): Bbox | undefined {
  if (!/^-?\d+--?\d+_-?\d+--?\d+_-?\d+--?\d+(\.(gz|br|zstd))?$/.test(name)) return undefined;
  return Bbox.fromFilename(name);
}

const SUFFIXES = new Set(["gzip", "br", "zstd"]);

/**
 * The disk cache's storage rule for one key: top-level files (info, provenance) and
 * everything of sharded scales (shard files are read by byte range, so they must stay
 * uncompressed) are kept as the remote has them; chunk files follow `compressCache`,
 * which by default is the compression writes use (CloudVolume's should_compress with
 * iscache=True falls back to the volume's `compress`).
 */
export function cacheEncodingFor(vol: ChunkedVolume, key: string, compressCache: CacheOptions["compressCache"]): string | null | undefined {
  const slash = key.lastIndexOf("/");
  if (slash < 0) return undefined;
  const dir = key.slice(0, slash);
  const mip = vol.info.scales.findIndex((_s, m) => chunkDir(vol, m) === dir);
  if (mip < 0 || vol.isSharded(mip) || chunkBoxOf(key.slice(slash + 1)) === undefined) return undefined;
  if (compressCache === undefined || compressCache === null) return vol.writeCompression(mip) ?? null;
  if (compressCache === true) return "gzip";
  if (compressCache === false || compressCache === "none") return null;
  return compressCache;
}

function checkCompressCache(c: unknown): void {
  if (c === undefined || c === null || typeof c === "boolean" || c === "none" || (typeof c === "string" && SUFFIXES.has(c))) return;
  throw new CloudVolumeError("INVALID_ARGUMENT", `compressCache must be true, false, null, "gzip", "br", "zstd" or "none"; got ${JSON.stringify(c)}`);
}

/**
 * Open the disk cache of a layer, if a factory is given: the returned store is the one
 * the volume should use (the remote with the cache in front when `cache` is on). With
 * the cache on and the info read from the remote (not given as an option), the cached
 * info is checked against it as CloudVolume's check_info_validity does: any difference
 * except the scales' `size` is INVALID_METADATA; a cache without an info (or whose sizes
 * differ) gets the remote's.
 */
export async function openDiskCache(
  ctx: Context, parsed: ParsedUrl, remote: KeyValueStore, info: LayerInfo, remoteInfo: boolean,
  options: CacheOptions, volume: () => ChunkedVolume | undefined,
): Promise<{ store: KeyValueStore; backend?: DiskCacheBackend; enabled: boolean }> {
  const want = options.cache;
  if (want !== undefined && typeof want !== "boolean" && (typeof want !== "string" || want.trim() === "")) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `cache must be true, false or a directory, got ${JSON.stringify(want)}`);
  }
  checkCompressCache(options.compressCache);
  const enabled = Boolean(want);
  if (!options.cacheFactory) {
    if (enabled) {
      throw new CloudVolumeError(
        "UNAVAILABLE",
        "cache needs a file system: open the volume with the cloudvolume Node bundle, or pass cacheFactory: createDiskCache from @cloudvolume/storage-file",
        { url: parsed.storageUrl },
      );
    }
    return { store: remote, enabled: false };
  }
  const request: DiskCacheRequest = {
    parsed,
    cache: typeof want === "string" ? want : true,
    enabled,
    remote,
    compression: (name) => ctx.compression(name),
    encodingFor: (key) => {
      const vol = volume();
      return vol ? cacheEncodingFor(vol, key, options.compressCache) : undefined;
    },
  };
  if (!enabled) {
    // Off, the backend only serves vol.cache's path, list and flush: a cloudpath that
    // names no cache directory must not make the open fail.
    try {
      return { store: remote, backend: await options.cacheFactory(request), enabled };
    } catch {
      return { store: remote, enabled };
    }
  }
  const backend = await options.cacheFactory(request);
  if (remoteInfo) await checkCachedInfo(backend, info, parsed.storageUrl);
  return { store: backend.store, backend, enabled };
}

async function checkCachedInfo(backend: DiskCacheBackend, remote: LayerInfo, url: string): Promise<void> {
  const bytes = await backend.readLocal("info");
  const fresh = new TextEncoder().encode(serializeJson(remote));
  if (bytes === undefined || bytes.byteLength === 0) {
    await backend.writeLocal("info", fresh);
    return;
  }
  const hint =
    `the cached info at ${backend.path}/info differs from the layer's (${url}/info). If the change keeps the cached chunks valid, ` +
    "call vol.cache.flushInfo() (or delete that file) and open again; otherwise flush the whole cache with vol.cache.flush()";
  let cached: LayerInfo;
  try {
    cached = JSON.parse(new TextDecoder().decode(bytes)) as LayerInfo;
    if (!cached || typeof cached !== "object" || !Array.isArray(cached.scales)) throw new Error("it has no scales list");
  } catch (cause) {
    throw new CloudVolumeError("INVALID_METADATA", `${hint}: the cached copy is unreadable (${(cause as Error).message})`, { url, key: "info", cause });
  }
  const withoutSizes = (i: LayerInfo) => canonical({ ...i, scales: i.scales.map(({ size: _size, ...rest }) => rest) });
  const a = withoutSizes(cached);
  const b = withoutSizes(remote);
  if (a !== b) throw new CloudVolumeError("INVALID_METADATA", `${hint}. Cached: ${a} Remote: ${b}`, { url, key: "info" });
  // Only sizes differ (CloudVolume warns and keeps its copy): we take the remote's bounds
  // and refresh the copy, since there is no warning channel and chunk names follow the sizes.
  if (canonical(cached) !== canonical(remote)) await backend.writeLocal("info", fresh);
}

/** JSON with object keys sorted, so two infos compare by content. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) out[k] = (value as Record<string, unknown>)[k];
    return out;
  });
}
