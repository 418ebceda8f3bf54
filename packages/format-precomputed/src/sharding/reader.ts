import {
  CloudVolumeError, isCloudVolumeError, joinKey, throwIfAborted,
  type ByteCodec, type GetOptions, type KeyValueStore, type PutOptions,
} from "@cloudvolume/core";
import { ByteLru } from "./lru.js";
import { checkUint64, shardIndexLength, shardLocation, type ShardingSpec } from "./spec.js";

/**
 * Reading the Neuroglancer sharded format (neuroglancer sharded.md) as a key-value
 * adapter, the way TensorStore's neuroglancer_uint64_sharded kvstore does: callers ask
 * for uint64 keys (chunk ids, segment ids) and never see shards. A read is up to three
 * ranged GETs (shard index, minishard index, data); both indices are cached in a
 * byte-bounded LRU and a batch merges adjacent data ranges of one file into one GET.
 */

/** Wraps every storage request, e.g. with a concurrency limiter and retries. */
export type RequestWrapper = <T>(fn: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

export interface ShardedStoreOptions {
  /** Directory of the shard files inside the base store (the scale key); default the root. */
  prefix?: string;
  /** The gzip codec, needed when either encoding is gzip (a codec or a loader for one). */
  gzip?: ByteCodec | (() => Promise<ByteCodec>);
  /** Bytes of decoded shard and minishard indices to keep (default 32 MiB). */
  cacheBytes?: number;
  request?: RequestWrapper;
}

/** Absolute [start, end) of one minishard index in its shard file. */
interface IndexEntry {
  start: number;
  end: number;
}

/** A decoded minishard index: chunk ids with absolute data offsets and sizes. */
export interface MinishardIndex {
  ids: BigUint64Array;
  offsets: Float64Array;
  sizes: Float64Array;
}

/** Whole shard indices up to this size are read (and cached) at once; larger ones entry by entry. */
const WHOLE_INDEX_MAX = 1 << 20;
const MISSING = Symbol("missing shard file");
type WholeIndex = Float64Array | typeof MISSING;
type EntryValue = IndexEntry | null | typeof MISSING;

function decodeFailed(key: string, message: string, url?: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `shard file ${key}: ${message}`, { key, url, cause });
}

const u64 = (dv: DataView, at: number) => dv.getBigUint64(at, true);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MASK = (1n << 64n) - 1n;

/**
 * Decode shard index entry `m` from `dv` at `at` into absolute offsets, validating it:
 * start <= end, both within what a file can hold. start == end is an empty minishard.
 */
function decodeIndexEntry(dv: DataView, at: number, m: number, indexLength: number, key: string, url?: string): IndexEntry | null {
  const s = u64(dv, at);
  const e = u64(dv, at + 8);
  if (s > e || e + BigInt(indexLength) > MAX_SAFE) {
    throw decodeFailed(key, `shard index entry for minishard ${m} is [${s}, ${e}), not a byte range inside a file`, url);
  }
  if (s === e) return null;
  return { start: Number(s) + indexLength, end: Number(e) + indexLength };
}

/**
 * Parse a (decoded) minishard index: a C-order uint64 [3][n] array of id deltas,
 * offset deltas and sizes (sharded.md "Minishard index format"). Offsets come back
 * absolute: offset_0 = index end + delta_0, offset_i = offset_{i-1} + size_{i-1} + delta_i.
 */
export function parseMinishardIndex(bytes: Uint8Array, indexLength: number, key: string, what: string, url?: string): MinishardIndex {
  if (bytes.byteLength % 24 !== 0) {
    throw decodeFailed(key, `${what} is ${bytes.byteLength} bytes, not a multiple of 24 (three uint64 per chunk)`, url);
  }
  const n = bytes.byteLength / 24;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = new BigUint64Array(n);
  const offsets = new Float64Array(n);
  const sizes = new Float64Array(n);
  let id = 0n;
  let next = BigInt(indexLength);
  for (let i = 0; i < n; i++) {
    id = (id + u64(dv, 8 * i)) & U64_MASK;
    const start = next + u64(dv, 8 * (n + i));
    const size = u64(dv, 8 * (2 * n + i));
    next = start + size;
    if (next > MAX_SAFE) throw decodeFailed(key, `${what} places chunk ${id} at byte ${start} with ${size} bytes, past any file`, url);
    ids[i] = id;
    offsets[i] = Number(start);
    sizes[i] = Number(size);
  }
  return { ids, offsets, sizes };
}

function findId(index: MinishardIndex, id: bigint): number {
  const ids = index.ids;
  // CloudVolume and Neuroglancer write ids sorted; fall back to a scan if these are not.
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) return i;
  return -1;
}

interface Wanted {
  id: bigint;
  file: string;
  start: number;
  size: number;
}

/**
 * A read-only KeyValueStore of uint64 keys over the shard files in `base`. Keys are
 * bigints (or their decimal strings, for the string-keyed contract). A key that is
 * in no shard, or whose shard file does not exist, reads as undefined.
 */
export class ShardedStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities = { write: false, list: false, rangeReads: false } as const;
  readonly indexLength: number;
  readonly prefix: string;
  private readonly cache: ByteLru<string, unknown>;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly request: RequestWrapper;
  private generation = 0;
  private gzipCodec?: Promise<ByteCodec>;

  constructor(readonly base: KeyValueStore, readonly spec: ShardingSpec, private readonly opts: ShardedStoreOptions = {}) {
    this.prefix = opts.prefix ?? "";
    this.url = `${base.url.replace(/\/+$/, "")}${this.prefix ? `/${this.prefix}` : ""}|neuroglancer-uint64-sharded`;
    this.indexLength = shardIndexLength(spec);
    this.cache = new ByteLru(opts.cacheBytes ?? 32 * 1024 * 1024);
    this.request = opts.request ?? ((fn) => fn());
  }

  /** Store key (inside `base`) of a shard file name. */
  keyOf(filename: string): string {
    return joinKey(this.prefix, filename);
  }

  /** Store key of the shard file that holds `id`. */
  shardKey(id: bigint): string {
    return this.keyOf(shardLocation(this.spec, id).filename);
  }

  /** Forget cached indices: of one shard file, or of all. Call after a shard file changes. */
  invalidate(filename?: string): void {
    this.generation++;
    if (filename === undefined) this.cache.clear();
    else this.cache.deleteWhere((k) => k.split("\u0000")[1] === filename);
  }

  async get(key: bigint | string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    const id = typeof key === "bigint" ? checkUint64(key) : parseKey(key);
    if (opts.range) throw new CloudVolumeError("INVALID_ARGUMENT", "byte ranges of sharded values are not supported; read the whole value", { url: this.url });
    return (await this.getMany([id], opts)).get(id);
  }

  /**
   * Read many keys at once: ids are grouped by shard file and minishard, each index is
   * read once, and the data ranges of one file that touch or overlap are fetched as one
   * ranged GET. Keys that do not exist are absent from the result.
   */
  async getMany(keys: Iterable<bigint>, opts: { signal?: AbortSignal; raw?: boolean } = {}): Promise<Map<bigint, Uint8Array>> {
    const signal = opts.signal;
    const wanted = await this.locate(keys, signal);
    const out = new Map<bigint, Uint8Array>();
    if (wanted.length === 0) return out;
    // `raw` keeps the spec's data_encoding (CloudVolume's get_data(raw=True)).
    const gzip = this.spec.dataEncoding === "gzip" && !opts.raw ? await this.gzip() : undefined;
    const perFile = new Map<string, Wanted[]>();
    for (const w of wanted) {
      let list = perFile.get(w.file);
      if (!list) perFile.set(w.file, (list = []));
      list.push(w);
    }
    const jobs: Promise<void>[] = [];
    for (const [file, list] of perFile) {
      list.sort((a, b) => a.start - b.start);
      // Merge ranges that touch or overlap (CloudVolume bundles adjacent ranges the same way).
      let bundle: { start: number; end: number; items: Wanted[] } | undefined;
      const bundles: (typeof bundle & object)[] = [];
      for (const w of list) {
        if (bundle && w.start <= bundle.end) {
          bundle.end = Math.max(bundle.end, w.start + w.size);
          bundle.items.push(w);
        } else {
          bundle = { start: w.start, end: w.start + w.size, items: [w] };
          bundles.push(bundle);
        }
      }
      for (const b of bundles) {
        jobs.push((async () => {
          const key = this.keyOf(file);
          const bytes = await this.readRange(file, b.start, b.end - b.start, signal);
          if (bytes === undefined) return; // the shard file vanished between index and data reads
          if (bytes.byteLength !== b.end - b.start) {
            const first = b.items.find((w) => w.start + w.size > b.start + bytes.byteLength)!;
            throw decodeFailed(key, `chunk ${first.id} is indexed at bytes ${first.start}-${first.start + first.size}, but the file ends at byte ${b.start + bytes.byteLength}`, this.base.url);
          }
          await Promise.all(b.items.map(async (w) => {
            const slice = bytes.subarray(w.start - b.start, w.start - b.start + w.size);
            if (!gzip) {
              // A copy of its own: codecs may view the bytes as wider typed arrays.
              out.set(w.id, b.items.length === 1 ? slice : slice.slice());
              return;
            }
            try {
              out.set(w.id, await gzip.decode(slice, { key }));
            } catch (cause) {
              throw decodeFailed(key, `cannot gunzip the data of chunk ${w.id} (bytes ${w.start}-${w.start + w.size}): ${(cause as Error)?.message ?? cause}`, this.base.url, cause);
            }
          }));
        })());
      }
    }
    await Promise.all(jobs);
    throwIfAborted(signal);
    return out;
  }

  /**
   * Which of `keys` are stored, from the shard and minishard indices alone: no chunk
   * data is read (each index is read once and cached, as for getMany).
   */
  async has(keys: Iterable<bigint>, opts: { signal?: AbortSignal } = {}): Promise<Set<bigint>> {
    return new Set((await this.locate(keys, opts.signal)).map((w) => w.id));
  }

  /**
   * Where each stored key's (still encoded) value lies: shard file name and absolute byte
   * range. Multires meshes need it: a segment's fragments sit just before its manifest.
   */
  async locateMany(keys: Iterable<bigint>, opts: { signal?: AbortSignal } = {}): Promise<Map<bigint, { file: string; offset: number; size: number }>> {
    return new Map((await this.locate(keys, opts.signal)).map((w) => [w.id, { file: w.file, offset: w.start, size: w.size }]));
  }

  /** Raw bytes [offset, offset + length) of a shard file (undefined when it does not exist). */
  readFileRange(filename: string, offset: number, length: number, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
    return this.readRange(filename, offset, length, opts.signal);
  }

  /** Where each stored key's data lies: ids grouped by shard file and minishard, each index read once. */
  private async locate(keys: Iterable<bigint>, signal?: AbortSignal): Promise<Wanted[]> {
    const byFile = new Map<string, Map<number, bigint[]>>();
    const seen = new Set<bigint>();
    for (const raw of keys) {
      const id = checkUint64(raw);
      if (seen.has(id)) continue;
      seen.add(id);
      const loc = shardLocation(this.spec, id);
      let mins = byFile.get(loc.filename);
      if (!mins) byFile.set(loc.filename, (mins = new Map()));
      let ids = mins.get(loc.minishard);
      if (!ids) mins.set(loc.minishard, (ids = []));
      ids.push(id);
    }
    const wanted: Wanted[] = [];
    await Promise.all([...byFile].map(async ([file, mins]) => {
      await Promise.all([...mins].map(async ([m, ids]) => {
        const entry = await this.indexEntry(file, m, signal);
        if (entry === MISSING || entry === null) return;
        const index = await this.minishardIndex(file, m, entry, signal);
        for (const id of ids) {
          const i = findId(index, id);
          if (i >= 0) wanted.push({ id, file, start: index.offsets[i], size: index.sizes[i] });
        }
      }));
    }));
    return wanted;
  }

  /** Every key and value of one shard file (decoded data), in file order; undefined when the file does not exist. */
  async readShard(filename: string, opts: { signal?: AbortSignal } = {}): Promise<Map<bigint, Uint8Array> | undefined> {
    const key = this.keyOf(filename);
    const bytes = await this.request(() => this.base.get(key, { signal: opts.signal }), opts.signal);
    if (bytes === undefined || bytes.byteLength === 0) return undefined;
    const gzip = this.spec.dataEncoding === "gzip" || this.spec.minishardIndexEncoding === "gzip" ? await this.gzip() : undefined;
    return decodeShardFile(this.spec, bytes, { key, gzip, url: this.base.url });
  }

  private async gzip(): Promise<ByteCodec> {
    const g = this.opts.gzip;
    if (!g) throw new CloudVolumeError("UNKNOWN_CODEC", "this sharding specification uses gzip; pass a gzip codec (install @cloudvolume/codec-gzip)", { url: this.url });
    this.gzipCodec ??= typeof g === "function" ? g() : Promise.resolve(g);
    return this.gzipCodec;
  }

  private readRange(file: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const key = this.keyOf(file);
    return this.request(async () => {
      throwIfAborted(signal);
      if (this.base.capabilities.rangeReads) return this.base.get(key, { range: { offset, length }, signal });
      const all = await this.base.get(key, { signal });
      return all?.subarray(Math.min(offset, all.byteLength), Math.min(all.byteLength, offset + length));
    }, signal);
  }

  /** Load once per generation, share concurrent loads, keep the result in the LRU. */
  private cached<T>(kind: string, file: string, detail: string, bytes: (v: T) => number, load: () => Promise<T>): Promise<T> {
    const key = `${kind}\u0000${file}\u0000${detail}`;
    if (this.cache.has(key)) return Promise.resolve(this.cache.get(key) as T);
    const flightKey = `${this.generation}\u0000${key}`;
    let p = this.inflight.get(flightKey) as Promise<T> | undefined;
    if (!p) {
      const generation = this.generation;
      p = load()
        .then((v) => {
          if (generation === this.generation) this.cache.set(key, v, bytes(v));
          return v;
        })
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, p);
    }
    return p;
  }

  /** Shard index entry of minishard `m`: MISSING when the file does not exist, null when the minishard is empty. */
  private async indexEntry(file: string, m: number, signal?: AbortSignal): Promise<EntryValue> {
    const key = this.keyOf(file);
    const len = this.indexLength;
    if (len <= WHOLE_INDEX_MAX) {
      const index = await this.cached<WholeIndex>("index", file, "", (v) => (v === MISSING ? 64 : v.byteLength + 64), async () => {
        const bytes = await this.readRange(file, 0, len, signal);
        // A zero-byte shard file holds nothing (CloudVolume reads it as absent, too).
        if (bytes === undefined || bytes.byteLength === 0) return MISSING;
        if (bytes.byteLength < len) {
          throw decodeFailed(key, `the file is ${bytes.byteLength} bytes, shorter than its ${len}-byte shard index (minishard_bits ${this.spec.minishardBits}); it is truncated`, this.base.url);
        }
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const out = new Float64Array(2 * (len / 16));
        for (let i = 0; i < len / 16; i++) {
          const e = decodeIndexEntry(dv, 16 * i, i, len, key, this.base.url);
          out[2 * i] = e ? e.start : 0;
          out[2 * i + 1] = e ? e.end : 0;
        }
        return out;
      });
      if (index === MISSING) return MISSING;
      const start = index[2 * m];
      const end = index[2 * m + 1];
      return start === end ? null : { start, end };
    }
    return this.cached<EntryValue>("entry", file, String(m), () => 64, async () => {
      const bytes = await this.readRange(file, 16 * m, 16, signal);
      if (bytes === undefined || (bytes.byteLength === 0 && m === 0)) return MISSING;
      if (bytes.byteLength < 16) {
        throw decodeFailed(key, `the file ends inside its ${len}-byte shard index (entry ${m} is cut off); it is truncated`, this.base.url);
      }
      return decodeIndexEntry(new DataView(bytes.buffer, bytes.byteOffset, 16), 0, m, len, key, this.base.url);
    });
  }

  private minishardIndex(file: string, m: number, entry: IndexEntry, signal?: AbortSignal): Promise<MinishardIndex> {
    const key = this.keyOf(file);
    const what = `minishard index ${m} (bytes ${entry.start}-${entry.end})`;
    return this.cached<MinishardIndex>("minishard", file, `${entry.start}-${entry.end}`, (v) => 24 * v.ids.length + 128, async () => {
      const length = entry.end - entry.start;
      let bytes = await this.readRange(file, entry.start, length, signal);
      if (bytes === undefined) return { ids: new BigUint64Array(0), offsets: new Float64Array(0), sizes: new Float64Array(0) };
      if (bytes.byteLength !== length) {
        throw decodeFailed(key, `${what} lies past the end of the file (${entry.start + bytes.byteLength} bytes); the file is truncated or its shard index is wrong`, this.base.url);
      }
      if (this.spec.minishardIndexEncoding === "gzip") {
        const gzip = await this.gzip();
        try {
          bytes = await gzip.decode(bytes, { key });
        } catch (cause) {
          throw decodeFailed(key, `cannot gunzip ${what}: ${(cause as Error)?.message ?? cause}`, this.base.url, cause);
        }
      }
      return parseMinishardIndex(bytes, this.indexLength, key, what, this.base.url);
    });
  }

  // ---- writing whole shard files ---------------------------------------------------

  /** Put a whole, already encoded shard file (one put: the file store makes it atomic). */
  async putShard(filename: string, data: Uint8Array, opts: PutOptions = {}, signal?: AbortSignal): Promise<void> {
    const put = this.base.put;
    if (!put || !this.base.capabilities.write) throw new CloudVolumeError("READ_ONLY", `cannot write shard ${filename}: storage ${this.base.url} is read-only`, { url: this.base.url });
    try {
      // No Content-Encoding: shard files are read by byte range, so they are never compressed as a whole.
      await this.request(() => put.call(this.base, this.keyOf(filename), data, { contentType: "application/octet-stream", ...opts, contentEncoding: undefined }), signal);
    } finally {
      this.invalidate(filename);
    }
  }

  async deleteShard(filename: string, signal?: AbortSignal): Promise<void> {
    const del = this.base.delete;
    if (!del) throw new CloudVolumeError("READ_ONLY", `cannot delete shard ${filename}: storage ${this.base.url} cannot delete`, { url: this.base.url });
    try {
      await this.request(() => del.call(this.base, this.keyOf(filename)), signal);
    } finally {
      this.invalidate(filename);
    }
  }
}

function parseKey(key: string): bigint {
  if (!/^\d+$/.test(key)) throw new CloudVolumeError("INVALID_ARGUMENT", `a sharded store key is a uint64 in decimal, got ${JSON.stringify(key)}`);
  return checkUint64(BigInt(key));
}

/**
 * Decode a whole shard file: every chunk id with its (data_encoding-decoded) bytes, in
 * the order the minishard indices list them. Validates like the ranged reader.
 */
export async function decodeShardFile(
  spec: ShardingSpec, file: Uint8Array, opts: { key?: string; gzip?: ByteCodec; url?: string } = {},
): Promise<Map<bigint, Uint8Array>> {
  const key = opts.key ?? "(shard)";
  const len = shardIndexLength(spec);
  if (file.byteLength < len) throw decodeFailed(key, `the file is ${file.byteLength} bytes, shorter than its ${len}-byte shard index; it is truncated`, opts.url);
  const needGzip = () => {
    if (!opts.gzip) throw new CloudVolumeError("UNKNOWN_CODEC", "this sharding specification uses gzip; pass a gzip codec", { key });
    return opts.gzip;
  };
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out = new Map<bigint, Uint8Array>();
  for (let m = 0; m < len / 16; m++) {
    const e = decodeIndexEntry(dv, 16 * m, m, len, key, opts.url);
    if (!e) continue;
    const what = `minishard index ${m} (bytes ${e.start}-${e.end})`;
    if (e.end > file.byteLength) throw decodeFailed(key, `${what} lies past the end of the file (${file.byteLength} bytes)`, opts.url);
    let bytes = file.subarray(e.start, e.end);
    if (spec.minishardIndexEncoding === "gzip") {
      try {
        bytes = await needGzip().decode(bytes, { key });
      } catch (cause) {
        if (isCloudVolumeError(cause, "UNKNOWN_CODEC")) throw cause;
        throw decodeFailed(key, `cannot gunzip ${what}: ${(cause as Error)?.message ?? cause}`, opts.url, cause);
      }
    }
    const index = parseMinishardIndex(bytes, len, key, what, opts.url);
    for (let i = 0; i < index.ids.length; i++) {
      const start = index.offsets[i];
      const end = start + index.sizes[i];
      if (end > file.byteLength) throw decodeFailed(key, `chunk ${index.ids[i]} is indexed at bytes ${start}-${end}, but the file ends at byte ${file.byteLength}`, opts.url);
      let data: Uint8Array = file.slice(start, end);
      if (spec.dataEncoding === "gzip") {
        try {
          data = await needGzip().decode(data, { key });
        } catch (cause) {
          if (isCloudVolumeError(cause, "UNKNOWN_CODEC")) throw cause;
          throw decodeFailed(key, `cannot gunzip the data of chunk ${index.ids[i]} (bytes ${start}-${end}): ${(cause as Error)?.message ?? cause}`, opts.url, cause);
        }
      }
      out.set(index.ids[i], data);
    }
  }
  return out;
}
