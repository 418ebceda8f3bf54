import {
  CloudVolumeError,
  checkKey,
  resolveRange,
  type ByteRange,
  type GetOptions,
  type KeyValueStore,
  type ParsedUrl,
  type PutOptions,
  type StoredObject,
} from "@cloudvolume/core";

/** One stored value. `data` is owned by the bucket: stores copy on the way in and out. */
export interface MemoryObject {
  readonly data: Uint8Array;
  /** As given to put ("gzip", "br", ...); undefined for identity. */
  readonly contentEncoding?: string;
  readonly contentType?: string;
  readonly cacheControl?: string;
}

/** Objects of one `mem://<bucket>` by their full path inside the bucket. */
export type MemoryBucket = Map<string, MemoryObject>;

export interface MemoryStoreOptions {
  /** Map to keep objects in; share it between stores to share their data. Default: a new one. */
  bucket?: MemoryBucket;
  /** Path inside the bucket that this store's keys live under ("layer/sub"); default the bucket root. */
  prefix?: string;
  /** Reported as `url`; default `mem://<prefix>`. */
  url?: string;
}

function checkRange(range: ByteRange, key: string, url: string): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid = "suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length);
  if (!valid) throw new CloudVolumeError("INVALID_ARGUMENT", `invalid byte range ${JSON.stringify(range)} for key ${JSON.stringify(key)}: offsets and lengths must be non-negative integers`, { key, url });
}

/**
 * A KeyValueStore in a Map: for tests, scratch layers and browser pipelines. Pure
 * (no Node built-ins). Every value is copied on put and on get, so neither the
 * writer nor a reader can change what another reader sees, the same isolation a
 * real store gives.
 */
export class MemoryStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities = { write: true, list: true, rangeReads: true } as const;
  private readonly objects: MemoryBucket;
  /** "" or "layer/sub/": the key prefix inside the bucket, with its trailing slash. */
  private readonly base: string;

  constructor(opts: MemoryStoreOptions = {}) {
    this.objects = opts.bucket ?? new Map();
    const prefix = checkKey(opts.prefix ?? "");
    this.base = prefix === "" ? "" : `${prefix}/`;
    this.url = opts.url ?? `mem://${prefix}`;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    return (await this.getObject(key, opts))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    if (opts.signal?.aborted) {
      throw new CloudVolumeError("ABORTED", `read of key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: opts.signal.reason });
    }
    const k = this.fullKey(key);
    if (opts.range) checkRange(opts.range, key, this.url);
    const obj = this.objects.get(k);
    if (obj === undefined) return undefined;
    const [start, end] = opts.range ? resolveRange(opts.range, obj.data.byteLength) : [0, obj.data.byteLength];
    // slice() of a plain Uint8Array copies: the caller may scribble on the result.
    const data = obj.data.slice(start, end);
    return obj.contentEncoding === undefined ? { data } : { data, contentEncoding: obj.contentEncoding };
  }

  async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    const k = this.fullKey(key);
    if (!(data instanceof Uint8Array)) throw new CloudVolumeError("INVALID_ARGUMENT", `put of key ${JSON.stringify(key)}: data must be a Uint8Array`, { key, url: this.url });
    const enc = opts.contentEncoding;
    // new Uint8Array(x) copies into a plain Uint8Array; x.slice() would NOT copy a Node Buffer.
    this.objects.set(k, {
      data: new Uint8Array(data),
      contentEncoding: enc === undefined || enc === "" || enc === "identity" || enc === "none" ? undefined : enc,
      contentType: opts.contentType,
      cacheControl: opts.cacheControl,
    });
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(this.fullKey(key));
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(this.fullKey(key));
  }

  /** Keys under `prefix` (a string prefix, relative to this store), in no promised order. */
  async *list(prefix: string = ""): AsyncGenerator<string> {
    let p = "";
    if (prefix !== "") {
      // checkKey drops a trailing slash, but for a prefix it matters ("a/" is not "a").
      p = checkKey(prefix, this.url);
      if (p !== "" && prefix.endsWith("/")) p += "/";
    }
    const full = this.base + p;
    // A snapshot, so puts and deletes while the caller iterates cannot upset the walk.
    for (const k of [...this.objects.keys()]) if (k.startsWith(full)) yield k.slice(this.base.length);
  }

  private fullKey(key: string): string {
    const k = checkKey(key, this.url);
    if (k === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty key", { key, url: this.url });
    return this.base + k;
  }
}

/**
 * `mem://<bucket>/<path>` -> a MemoryStore over `buckets.get(<bucket>)` (created on
 * first use), keyed by `<path>/<key>` so two layers in one bucket never collide and
 * a store opened at a parent path sees its children's objects, as on a real bucket.
 */
export function openMemoryStore(url: ParsedUrl, buckets: Map<string, MemoryBucket>): MemoryStore {
  const path = checkKey(url.path, url.storageUrl);
  const slash = path.indexOf("/");
  const name = slash < 0 ? path : path.slice(0, slash);
  const prefix = slash < 0 ? "" : path.slice(slash + 1);
  if (name === "") throw new CloudVolumeError("INVALID_ARGUMENT", `memory cloudpath ${JSON.stringify(url.storageUrl)} needs a bucket name: mem://<bucket>/<path>`, { url: url.storageUrl });
  let bucket = buckets.get(name);
  if (bucket === undefined) {
    bucket = new Map();
    buckets.set(name, bucket);
  }
  return new MemoryStore({ bucket, prefix, url: `mem://${path}` });
}
