import { constants } from "node:fs";
import { access, mkdir, readdir, rm, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import {
  CloudVolumeError, isCloudVolumeError,
  type ByteCodec, type ByteRange, type GetOptions, type KeyValueStore, type ParsedUrl, type PutOptions, type StoredObject,
} from "@cloudvolume/core";
import { FileStore, resolveFilePath } from "./file-store.js";

/** Options of a CacheStore. */
export interface CacheStoreOptions {
  /** How to store `key` locally: undefined = as the remote has it, null = uncompressed, a name = recompressed. */
  encodingFor?(key: string): string | null | undefined;
  /** Transfer-compression codecs by name, for recompressing (usually the Context's `compression`). */
  compression?(name: string): Promise<ByteCodec | undefined>;
  /** Keys whose absence is remembered as a zero-length file. Default: keys inside a directory. */
  rememberMissing?(key: string): boolean;
}

/** Encodings FileStore can store (as suffixes). */
const SUFFIX_ENCODINGS = new Set(["gzip", "br", "zstd"]);
const RANGE_FRAGMENT = /^(?:\d+-\d+|suffix-\d+)\.range$/;
const TEMP_NAME = /^\..*\.\d+\.[0-9a-f]{16}\.tmp$/;
const CHUNK_NAME = /^-?\d+--?\d+_-?\d+--?\d+_-?\d+--?\d+$/;

function norm(encoding: string | undefined | null): string | undefined {
  return encoding === undefined || encoding === null || encoding === "" || encoding === "identity" || encoding === "none" ? undefined : encoding;
}

/** True for a Precomputed chunk file name (`x0-x1_y0-y1_z0-z1`), the only keys read whole and never by range. */
function isChunkName(key: string): boolean {
  return CHUNK_NAME.test(key.slice(key.lastIndexOf("/") + 1));
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The on-disk cache of CloudVolume (cloudvolume/cacheservice.py) as a KeyValueStore
 * wrapper: reads try the local copy first and fall back to the remote, writing what they
 * fetched locally; writes go to the remote first, then to the local copy. The local copy
 * is a FileStore, so it has the layout CloudFiles writes (`<key>.gz` for gzip, ...) and
 * mirrors the remote's keys.
 *
 * - A missing object inside a directory (a chunk, a shard file) is remembered as a
 *   zero-length file, as CloudVolume's download_chunk writes `b''` for it: the next read
 *   of it touches nothing remote. A write replaces it. Zero-length files (and compressed
 *   empty streams CloudVolume leaves) read as missing.
 * - `encodingFor` decides how fetched or written objects are stored: as the remote has
 *   them, uncompressed, or recompressed (compress_cache).
 * - Byte-range reads (sharded scales) are served from a whole local copy of the file
 *   when there is one (an upload through the cache puts one there); otherwise the range
 *   is fetched and kept as a fragment `<key>.<start>-<end>.range` (`<key>.suffix-<n>.range`
 *   for suffix ranges), so the same ranges (shard index, minishard indices, the chunk runs
 *   of a repeated cutout) are read remotely once. A write or delete of the file drops its
 *   fragments.
 * - exists and list ask the remote.
 */
export class CacheStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities: KeyValueStore["capabilities"];
  /** The local copy. */
  readonly local: FileStore;
  /** Absolute directory of the local copy. */
  readonly path: string;
  /** Reads answered locally / fetched from the remote, for tests and diagnostics. */
  readonly stats = { hits: 0, misses: 0 };
  /**
   * Bumped by every write and delete. A read that fetched from the remote while one ran
   * does not store what it fetched: it may be older than what the write just cached
   * (a miss remembered after the chunk was uploaded would hide the upload).
   */
  private writeEpoch = 0;

  constructor(readonly remote: KeyValueStore, path: string, private readonly opts: CacheStoreOptions = {}) {
    this.path = resolve(path);
    this.local = new FileStore(this.path);
    this.url = remote.url;
    this.capabilities = remote.capabilities;
    if (!remote.put) (this as { put?: unknown }).put = undefined;
    if (!remote.delete) (this as { delete?: unknown }).delete = undefined;
    if (!remote.exists) (this as { exists?: unknown }).exists = undefined;
    if (!remote.list) (this as { list?: unknown }).list = undefined;
  }

  /** This store itself: the read-through view of the remote (DiskCacheBackend's `store`). */
  get store(): KeyValueStore {
    return this;
  }

  /** As the remote's get: the bytes as stored (a recompressed chunk key gives its cached bytes; use getObject for those). */
  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    return (await this.getObject(key, opts))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    if (opts.range) return this.getRange(key, opts.range, opts.signal);
    const hit = await this.local.getObject(key, { signal: opts.signal });
    if (hit !== undefined) {
      this.stats.hits++;
      return (await this.isNegative(hit)) ? undefined : hit;
    }
    this.stats.misses++;
    const epoch = this.writeEpoch;
    const obj = await this.fetchRemote(key, opts);
    if (epoch !== this.writeEpoch) return obj;
    if (obj === undefined) {
      if (this.remembersMissing(key)) await this.writeOrForget(key, () => this.local.put(key, new Uint8Array(0)));
      return undefined;
    }
    await this.writeOrForget(key, () => this.storeLocal(key, obj));
    return obj;
  }

  async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    // Bumped before and after: reads that overlap the write in any way do not cache.
    this.writeEpoch++;
    try {
      try {
        await this.remote.put!(key, data, opts);
      } catch (err) {
        // The write may have landed anyway (a lost response): the local copy can no longer be trusted.
        await this.forget(key).catch(() => undefined);
        throw err;
      }
      await this.writeOrForget(key, async () => {
        await this.storeLocal(key, norm(opts.contentEncoding) === undefined ? { data } : { data, contentEncoding: opts.contentEncoding });
        if (!isChunkName(key)) await this.dropFragments(key);
      });
    } finally {
      this.writeEpoch++;
    }
  }

  async delete(key: string): Promise<void> {
    this.writeEpoch++;
    try {
      await this.remote.delete!(key);
    } finally {
      try {
        await this.forget(key);
      } finally {
        this.writeEpoch++;
      }
    }
  }

  exists(key: string): Promise<boolean> {
    return this.remote.exists!(key);
  }

  list(prefix: string): AsyncIterable<string> {
    return this.remote.list!(prefix);
  }

  async close(): Promise<void> {
    await this.remote.close?.();
  }

  // ---- management (vol.cache) ------------------------------------------------------

  /** File names directly inside `dir` of the cache (temporary files of in-flight writes left out), sorted. */
  async listDir(dir: string): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.dirPath(dir), { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return [];
      throw this.fail(err, "list", dir);
    }
    return entries.filter((e) => e.isFile() && !TEMP_NAME.test(e.name)).map((e) => e.name).sort();
  }

  async dirStats(dir: string): Promise<{ files: number; bytes: number }> {
    const names = await this.listDir(dir);
    let bytes = 0;
    let files = 0;
    for (const name of names) {
      try {
        bytes += (await stat(join(this.dirPath(dir), name))).size;
        files++;
      } catch (err) {
        if (errnoCode(err) !== "ENOENT") throw this.fail(err, "stat", `${dir}/${name}`);
      }
    }
    return { files, bytes };
  }

  async removeFiles(dir: string, names: readonly string[]): Promise<void> {
    const base = this.dirPath(dir);
    for (const name of names) {
      if (name.includes("/") || name === "." || name === "..") throw new CloudVolumeError("INVALID_ARGUMENT", `not a file name: ${JSON.stringify(name)}`, { url: this.path });
      await unlink(join(base, name)).catch((err) => {
        if (errnoCode(err) !== "ENOENT") throw this.fail(err, "remove", `${dir}/${name}`);
      });
    }
  }

  removeKey(key: string): Promise<void> {
    return this.forget(key);
  }

  async removeAll(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }

  async readLocal(key: string): Promise<Uint8Array | undefined> {
    const obj = await this.local.getObject(key);
    if (obj === undefined) return undefined;
    const enc = norm(obj.contentEncoding);
    if (enc === undefined) return obj.data;
    const codec = await this.codec(enc);
    if (!codec) throw new CloudVolumeError("UNKNOWN_CODEC", `cached ${key} is ${enc}-compressed and no codec for it was given`, { key, url: this.path });
    return codec.decode(obj.data, { key });
  }

  writeLocal(key: string, data: Uint8Array): Promise<void> {
    return this.local.put(key, data);
  }

  // ---- internals -------------------------------------------------------------------

  private async fetchRemote(key: string, opts: GetOptions): Promise<StoredObject | undefined> {
    if (this.remote.getObject) return this.remote.getObject(key, opts);
    const data = await this.remote.get(key, opts);
    return data === undefined ? undefined : { data };
  }

  private async getRange(key: string, range: ByteRange, signal?: AbortSignal): Promise<StoredObject | undefined> {
    // 1. A whole local copy (bare name: ranges of a compressed stream mean nothing).
    const size = await this.localSize(key);
    if (size === 0) {
      this.stats.hits++;
      return undefined; // remembered as missing
    }
    if (size !== undefined) {
      const data = await this.local.get(key, { range, signal });
      if (data !== undefined) {
        this.stats.hits++;
        return { data };
      }
    }
    // 2. The same range fetched before.
    const frag = fragmentKey(key, range);
    const cached = await this.local.get(frag, { signal });
    if (cached !== undefined && cached.byteLength > 0) {
      this.stats.hits++;
      return { data: cached };
    }
    // 3. The remote.
    this.stats.misses++;
    const epoch = this.writeEpoch;
    const obj = await this.fetchRemote(key, { range, signal });
    if (epoch !== this.writeEpoch) return obj;
    if (obj === undefined) {
      if (this.remembersMissing(key)) await this.writeOrForget(key, () => this.local.put(key, new Uint8Array(0)));
      return undefined;
    }
    if (norm(obj.contentEncoding) === undefined && obj.data.byteLength > 0) {
      await this.writeOrForget(frag, () => this.local.put(frag, obj.data));
    }
    return obj;
  }

  /** Size of the bare local file of `key`; undefined when there is none. */
  private async localSize(key: string): Promise<number | undefined> {
    const path = this.dirPath(key);
    try {
      const s = await stat(path);
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
      throw this.fail(err, "stat", key);
    }
  }

  private remembersMissing(key: string): boolean {
    return this.opts.rememberMissing ? this.opts.rememberMissing(key) : key.includes("/");
  }

  /** Zero bytes, or a compressed stream of zero bytes (what CloudFiles writes when CloudVolume caches b'' with compression). */
  private async isNegative(obj: StoredObject): Promise<boolean> {
    if (obj.data.byteLength === 0) return true;
    const enc = norm(obj.contentEncoding);
    if (enc === undefined || obj.data.byteLength > 64) return false;
    const codec = await this.codec(enc).catch(() => undefined);
    if (!codec) return false;
    try {
      return (await codec.decode(obj.data)).byteLength === 0;
    } catch {
      return false;
    }
  }

  /** Write `obj` locally in the form encodingFor asks for (falling back to the remote's form when a codec is missing). */
  private async storeLocal(key: string, obj: StoredObject): Promise<void> {
    const source = norm(obj.contentEncoding);
    const wanted = this.opts.encodingFor?.(key);
    let data = obj.data;
    let encoding = source;
    if (wanted !== undefined && norm(wanted) !== source) {
      const target = norm(wanted);
      const decoder = source === undefined ? undefined : await this.codec(source);
      const encoder = target === undefined ? undefined : await this.codec(target);
      if ((source === undefined || decoder) && (target === undefined || encoder)) {
        if (decoder) data = await decoder.decode(data, { key });
        if (encoder) data = await encoder.encode(data);
        encoding = target;
      }
    }
    if (encoding !== undefined && !SUFFIX_ENCODINGS.has(encoding)) return; // FileStore has no name for it: do not cache
    await this.local.put(key, data, encoding === undefined ? {} : { contentEncoding: encoding });
  }

  private async codec(name: string): Promise<ByteCodec | undefined> {
    if (!this.opts.compression) return undefined;
    try {
      return await this.opts.compression(name);
    } catch (err) {
      if (isCloudVolumeError(err, "UNKNOWN_CODEC") || isCloudVolumeError(err, "UNAVAILABLE")) return undefined;
      throw err;
    }
  }

  /** Run a local write; if it fails, remove the key's local copy so no stale bytes stay, and rethrow. */
  private async writeOrForget(key: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      await this.forget(key).catch(() => undefined);
      throw err;
    }
  }

  /** Remove every local trace of `key`: its variants and (for non-chunk keys) its range fragments. */
  private async forget(key: string): Promise<void> {
    await this.local.delete(key);
    if (!isChunkName(key)) await this.dropFragments(key);
  }

  private async dropFragments(key: string): Promise<void> {
    const slash = key.lastIndexOf("/");
    const dir = slash < 0 ? "" : key.slice(0, slash);
    const base = key.slice(slash + 1);
    // Only fragments of exactly this file: `<base>.<start>-<end>.range`.
    const names = (await this.listDir(dir)).filter((n) => n.startsWith(`${base}.`) && RANGE_FRAGMENT.test(n.slice(base.length + 1)));
    await this.removeFiles(dir, names);
  }

  /** Absolute path of a key or directory inside the cache (checked like FileStore's keys). */
  private dirPath(key: string): string {
    if (key === "") return this.path;
    const parts = key.split("/").filter((p) => p !== "");
    for (const p of parts) {
      if (p === "." || p === ".." || p.includes("\\") || p.includes("\0")) {
        throw new CloudVolumeError("PERMISSION_DENIED", `key ${JSON.stringify(key)} would escape the cache directory`, { key, url: this.path });
      }
    }
    return join(this.path, ...parts);
  }

  private fail(err: unknown, op: string, key: string): CloudVolumeError {
    if (isCloudVolumeError(err)) return err;
    const code = errnoCode(err);
    const context = { key, url: `file://${this.path}`, cause: err };
    const message = `cannot ${op} ${JSON.stringify(key)} in the cache ${this.path}: ${code ?? (err as Error)?.message ?? err}`;
    if (code === "EACCES" || code === "EPERM") return new CloudVolumeError("PERMISSION_DENIED", message, context);
    return new CloudVolumeError("IO_ERROR", message, context);
  }
}

function fragmentKey(key: string, range: ByteRange): string {
  if ("suffixLength" in range) return `${key}.suffix-${range.suffixLength}.range`;
  return `${key}.${range.offset}-${range.offset + range.length}.range`;
}

// ---- where the cache lives ------------------------------------------------------------

/** The environment variables the cache location depends on. */
export interface CacheEnv {
  CLOUD_VOLUME_CACHE_DIR?: string;
  CLOUD_VOLUME_DIR?: string;
  [name: string]: string | undefined;
}

/**
 * The cache root (CloudVolume's get_cache_path): a `cache` string, else
 * `$CLOUD_VOLUME_CACHE_DIR`, else `$CLOUD_VOLUME_DIR/cache`, else `~/.cloudvolume/cache`.
 */
export function diskCacheRoot(cache: true | string = true, env: CacheEnv = process.env): string {
  if (typeof cache === "string") return resolveFilePath(cache);
  const dir = env.CLOUD_VOLUME_CACHE_DIR;
  if (dir !== undefined && dir !== "") return resolveFilePath(dir);
  const cvDir = env.CLOUD_VOLUME_DIR;
  return join(cvDir !== undefined && cvDir !== "" ? resolveFilePath(cvDir) : join(homedir(), ".cloudvolume"), "cache");
}

/**
 * The cache directory of one layer: `<root>/<protocol>/<path>`, the path as in the
 * cloudpath (bucket, intermediate directories, dataset, layer; CloudVolume's
 * get_cache_path_helper). `file://` paths are made absolute first and lose their leading
 * slash, so `file:///data/em/image` caches under `<root>/file/data/em/image` and
 * `gs://bucket/em/image` under `<root>/gs/bucket/em/image`; `mem://b/layer` under
 * `<root>/mem/b/layer`; `https://host/p/layer` under `<root>/https/host/p/layer`.
 */
export function diskCachePath(url: ParsedUrl | { protocol: string; path: string }, cache: true | string = true, env: CacheEnv = process.env): string {
  const root = diskCacheRoot(cache, env);
  const raw = url.protocol === "file" ? resolveFilePath(url.path) : url.path;
  const parts: string[] = [];
  for (const p of raw.replace(/\\/g, "/").split(/[?#]/)[0].split("/")) {
    if (p === "" || p === ".") continue;
    if (p === ".." || p.includes("\0")) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `cloudpath ${url.protocol}://${url.path} has a ".." segment; it cannot name a cache directory`, { url: `${url.protocol}://${url.path}` });
    }
    parts.push(p);
  }
  if (parts.length === 0) throw new CloudVolumeError("INVALID_ARGUMENT", `cloudpath ${url.protocol}://${url.path} names no layer to cache`);
  return join(root, url.protocol, ...parts);
}

/** What createDiskCache is given (format-precomputed's DiskCacheRequest). */
export interface DiskCacheRequest {
  parsed: ParsedUrl;
  cache: true | string;
  enabled: boolean;
  remote: KeyValueStore;
  compression(name: string): Promise<ByteCodec | undefined>;
  encodingFor(key: string): string | null | undefined;
  /** Environment to read CLOUD_VOLUME_CACHE_DIR / CLOUD_VOLUME_DIR from (default process.env). */
  env?: CacheEnv;
}

/**
 * The disk cache factory for `@cloudvolume/format-precomputed`'s `cacheFactory` option
 * (the `cloudvolume` Node bundle passes it). When the cache is on, its directory is
 * created and must be readable and writable (CloudVolume's CacheService.initialize);
 * when off, nothing is created and the store only serves `vol.cache` operations.
 */
export async function createDiskCache(req: DiskCacheRequest): Promise<CacheStore> {
  const path = diskCachePath(req.parsed, req.cache, req.env);
  if (req.enabled) {
    try {
      await mkdir(path, { recursive: true });
      await access(path, constants.R_OK | constants.W_OK);
    } catch (err) {
      const code = errnoCode(err);
      throw new CloudVolumeError(
        code === "EACCES" || code === "EPERM" || code === "EROFS" ? "PERMISSION_DENIED" : "IO_ERROR",
        `the cache directory ${path} must be readable and writable (${code ?? (err as Error)?.message}); pass cache: "<dir>" or set CLOUD_VOLUME_CACHE_DIR to use another`,
        { url: req.parsed.storageUrl, cause: err },
      );
    }
  }
  return new CacheStore(req.remote, path, { encodingFor: req.encodingFor, compression: req.compression });
}
