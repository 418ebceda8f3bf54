import {
  CloudVolumeError, isCloudVolumeError, joinKey, mapConcurrent, withRetry,
  type ByteCodec, type Context, type KeyValueStore,
} from "@cloudvolume/core";
import { decodeShardFile, ShardedStore } from "../sharding/reader.js";
import { parseShardingSpec, shardLocation, type ShardingSpec } from "../sharding/spec.js";
import { encodeShard } from "../sharding/writer.js";
import { DEFAULT_VERTEX_ATTRIBUTES, attributeArrayType, decodeSkeleton, encodeSkeleton } from "./binary.js";
import { IDENTITY_TRANSFORM, Skeleton, type VertexAttributeSpec } from "./skeleton.js";

/** The skeleton directory's own info (`@type: neuroglancer_skeletons`). */
export interface SkeletonInfo {
  "@type": "neuroglancer_skeletons";
  transform: number[];
  vertex_attributes: VertexAttributeSpec[];
  sharding?: Record<string, unknown> | null;
  spatial_index?: { resolution: number[]; chunk_size: number[] } | null;
  [key: string]: unknown;
}

/** What a SkeletonSource needs from a volume: PrecomputedVolume satisfies it. */
export interface SkeletonHost {
  ctx: Context;
  store: KeyValueStore;
  url: string;
  info: { skeletons?: string };
  parsed?: { protocol: string };
}

export interface SkeletonUploadOptions {
  /** gzip plain skeleton files (`<id>.gz` on disk, Content-Encoding gzip); default true, as CloudVolume. */
  compress?: boolean;
  signal?: AbortSignal;
}

const toId = (id: bigint | number | string): bigint => {
  const b = typeof id === "bigint" ? id : BigInt(id);
  if (b < 0n || b >= 1n << 64n) throw new CloudVolumeError("INVALID_ARGUMENT", `segment id ${id} is not a uint64`);
  return b;
};

/**
 * Skeletons of a segmentation layer (CloudVolume's vol.skeleton): read, write, sharded
 * or not. `get` returns physical-space skeletons (transform applied), as CloudVolume does.
 */
export class SkeletonSource {
  private shardedStore?: ShardedStore;
  private loading?: Promise<void>;
  readonly dir: string;
  /** Set once loaded (after `open`, or the first call of any async method). */
  info!: SkeletonInfo;
  sharding: ShardingSpec | undefined;

  /**
   * A source for the skeleton directory named by the layer info's `skeletons` (default
   * "skeletons"). Its info is read lazily, by the first async call; `open` reads it now.
   * A missing skeleton info gives CloudVolume's default (identity transform, radius + vertex_types).
   */
  constructor(private readonly host: SkeletonHost, private readonly opts: { dir?: string; info?: Partial<SkeletonInfo> } = {}) {
    this.dir = opts.dir ?? host.info.skeletons ?? "skeletons";
    if (opts.info) this.setInfo(opts.info as Record<string, unknown>);
  }

  static async open(host: SkeletonHost, opts: { dir?: string; info?: Partial<SkeletonInfo> } = {}): Promise<SkeletonSource> {
    const s = new SkeletonSource(host, opts);
    await s.load();
    return s;
  }

  private setInfo(raw: Record<string, unknown>): void {
    const key = joinKey(this.dir, "info");
    this.info = normalizeInfo(raw, this.host.url, key);
    this.sharding = this.info.sharding ? parseShardingSpec(this.info.sharding, `${key} sharding`, this.host.url) : undefined;
    this.shardedStore = undefined;
  }

  /** Read the skeleton info (once). */
  load(): Promise<void> {
    if (this.info) return Promise.resolve();
    this.loading ??= (async () => {
      const dir = this.dir;
      if (/^[a-z0-9+.-]+:\/\//i.test(dir)) throw new CloudVolumeError("INVALID_ARGUMENT", `skeletons in another location (${dir}) are not supported; open that path as its own layer`, { url: this.host.url });
      const key = joinKey(dir, "info");
      const bytes = await this.host.store.get(key);
      let raw: Record<string, unknown> = {};
      if (bytes) {
        try {
          raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
        } catch (cause) {
          throw new CloudVolumeError("INVALID_METADATA", `${key} is not JSON: ${(cause as Error).message}`, { url: this.host.url, key, cause });
        }
      }
      this.setInfo(raw);
    })().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  get sharded(): boolean {
    return this.sharding !== undefined;
  }

  get transform(): number[] { return this.info.transform; }
  get vertexAttributes(): VertexAttributeSpec[] { return this.info.vertex_attributes; }

  /** Write the skeleton info (`<dir>/info`). */
  async commitInfo(): Promise<void> {
    await this.load();
    const put = this.host.store.put;
    if (!put || !this.host.store.capabilities.write) throw new CloudVolumeError("READ_ONLY", `cannot write ${this.dir}/info: ${this.host.url} is read-only`, { url: this.host.url });
    await put.call(this.host.store, joinKey(this.dir, "info"), new TextEncoder().encode(JSON.stringify(this.info)), { contentType: "application/json", cacheControl: "no-cache" });
  }

  /** Store key of a plain (unsharded) skeleton file, or of the shard file holding `id`. */
  keyOf(id: bigint | number | string): string {
    const b = toId(id);
    return this.sharding ? joinKey(this.dir, shardLocation(this.sharding, b).filename) : joinKey(this.dir, b.toString());
  }

  private async gzip(): Promise<ByteCodec> {
    const c = await this.host.ctx.compression("gzip");
    if (!c) throw new CloudVolumeError("UNKNOWN_CODEC", "gzip is needed for these skeletons; install @cloudvolume/codec-gzip", { url: this.host.url });
    return c;
  }

  private request<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const ctx = this.host.ctx;
    const protocol = this.host.parsed?.protocol ?? "file";
    return ctx.limiter(protocol).run(() => withRetry(fn, ctx.retry, signal), signal);
  }

  private store(): ShardedStore {
    if (!this.shardedStore) {
      this.shardedStore = new ShardedStore(this.host.store, this.sharding!, {
        prefix: this.dir,
        gzip: () => this.gzip(),
        request: (fn, signal) => this.request(fn, signal),
      });
    }
    return this.shardedStore;
  }

  /**
   * The stored bytes of many skeletons (decompressed), by id. Missing ids are absent.
   * This is the small hook other modules (e.g. the spatial index) use to fetch by id.
   */
  async getRawMany(ids: Iterable<bigint | number | string>, opts: { signal?: AbortSignal } = {}): Promise<Map<bigint, Uint8Array>> {
    await this.load();
    const list = [...new Set([...ids].map(toId))];
    if (this.sharding) return this.store().getMany(list, { signal: opts.signal });
    const out = new Map<bigint, Uint8Array>();
    const store = this.host.store;
    await mapConcurrent(list, 16, async (id) => {
      const key = joinKey(this.dir, id.toString());
      const obj = await this.request(async () => {
        if (store.getObject) return store.getObject(key, { signal: opts.signal });
        const data = await store.get(key, { signal: opts.signal });
        return data && { data };
      }, opts.signal);
      if (!obj) return;
      let data = obj.data;
      if (obj.contentEncoding && obj.contentEncoding !== "identity") {
        const codec = await this.host.ctx.compression(obj.contentEncoding);
        if (!codec) throw new CloudVolumeError("UNKNOWN_CODEC", `skeleton ${key} is ${obj.contentEncoding}-compressed and no codec for it is installed`, { url: this.host.url, key });
        try {
          data = await codec.decode(data, { key });
        } catch (cause) {
          if (isCloudVolumeError(cause)) throw cause;
          throw new CloudVolumeError("DECODE_FAILED", `skeleton ${key}: cannot ${obj.contentEncoding}-decode: ${(cause as Error)?.message ?? cause}`, { url: this.host.url, key, cause });
        }
      }
      out.set(id, data);
    });
    return out;
  }

  /** The stored bytes of one skeleton; NOT_FOUND when absent. */
  async getRaw(id: bigint | number | string, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const b = toId(id);
    await this.load();
    const got = (await this.getRawMany([b], opts)).get(b);
    if (!got) throw this.notFound(b);
    return got;
  }

  private notFound(id: bigint): CloudVolumeError {
    const key = this.keyOf(id);
    const where = this.sharding ? `shard file ${key} does not hold it` : `${key} does not exist`;
    return new CloudVolumeError("NOT_FOUND", `skeleton ${id} not found: ${where} (${this.host.url})`, { url: this.host.url, key });
  }

  private decode(id: bigint, bytes: Uint8Array): Skeleton {
    try {
      return decodeSkeleton(bytes, { id, vertexAttributes: this.info.vertex_attributes, transform: this.info.transform, key: this.keyOf(id) }).physicalSpace();
    } catch (e) {
      if (isCloudVolumeError(e)) throw e;
      throw new CloudVolumeError("DECODE_FAILED", `skeleton ${id}: ${(e as Error)?.message ?? e}`, { url: this.host.url, key: this.keyOf(id), cause: e });
    }
  }

  /** One skeleton in physical space; NOT_FOUND naming the id and key when absent, DECODE_FAILED when malformed. */
  async get(id: bigint | number | string, opts: { signal?: AbortSignal } = {}): Promise<Skeleton> {
    const b = toId(id);
    return this.decode(b, await this.getRaw(b, opts));
  }

  /** Many skeletons (physical space); any missing id is NOT_FOUND unless `allowMissing`. */
  async getMany(ids: Iterable<bigint | number | string>, opts: { signal?: AbortSignal; allowMissing?: boolean } = {}): Promise<Map<bigint, Skeleton>> {
    const list = [...new Set([...ids].map(toId))];
    const raw = await this.getRawMany(list, opts);
    const out = new Map<bigint, Skeleton>();
    for (const id of list) {
      const bytes = raw.get(id);
      if (!bytes) {
        if (opts.allowMissing) continue;
        throw this.notFound(id);
      }
      out.set(id, this.decode(id, bytes));
    }
    return out;
  }

  /** Encode a skeleton as this source stores it (voxel space, this info's vertex_attributes). */
  encode(skel: Skeleton): Uint8Array {
    const s = skel.space === "physical" ? new Skeleton({ ...skel, transform: this.info.transform }).voxelSpace() : skel;
    return encodeSkeleton(s, this.info.vertex_attributes);
  }

  /** Upload skeletons (each needs an `id`); physical-space ones go through the inverse transform. */
  async upload(skels: Skeleton | readonly Skeleton[], opts: SkeletonUploadOptions = {}): Promise<void> {
    await this.load();
    const list = Array.isArray(skels) ? skels : [skels as Skeleton];
    const entries: Array<[bigint, Uint8Array]> = list.map((s) => {
      if (s.id === undefined) throw new CloudVolumeError("INVALID_ARGUMENT", "every skeleton to upload needs an id (segment id)", { url: this.host.url });
      return [toId(s.id), this.encode(s)];
    });
    await this.uploadRaw(entries, opts);
  }

  /**
   * Upload already encoded skeleton binaries by id. Sharded: each touched shard file is
   * read, the new skeletons replace or join its entries, and the file is rewritten whole.
   */
  async uploadRaw(entries: Iterable<readonly [bigint | number | string, Uint8Array]> | Map<bigint, Uint8Array>, opts: SkeletonUploadOptions = {}): Promise<void> {
    await this.load();
    const store = this.host.store;
    const put = store.put;
    if (!put || !store.capabilities.write) throw new CloudVolumeError("READ_ONLY", `cannot upload skeletons: ${this.host.url} is read-only`, { url: this.host.url });
    const list = [...entries].map(([id, data]) => [toId(id), data] as [bigint, Uint8Array]);
    if (!this.sharding) {
      const compress = opts.compress ?? true;
      const gzip = compress ? await this.gzip() : undefined;
      await mapConcurrent(list, 16, async ([id, data]) => {
        const key = joinKey(this.dir, id.toString());
        const payload = gzip ? await gzip.encode(data) : data;
        // remove a stale copy under the other encoding (e.g. `<id>` when writing `<id>.gz`) by overwriting is the file store's job
        await this.request(() => put.call(store, key, payload, { contentType: "application/octet-stream", contentEncoding: gzip ? "gzip" : undefined }), opts.signal);
      });
      return;
    }
    const spec = this.sharding;
    const byShard = new Map<string, Array<[bigint, Uint8Array]>>();
    for (const [id, data] of list) {
      const f = shardLocation(spec, id).filename;
      if (!byShard.has(f)) byShard.set(f, []);
      byShard.get(f)!.push([id, data]);
    }
    const needGzip = spec.dataEncoding === "gzip" || spec.minishardIndexEncoding === "gzip";
    const gzip = needGzip ? await this.gzip() : undefined;
    const sh = this.store();
    for (const [filename, news] of byShard) {
      const key = sh.keyOf(filename);
      const existing = await this.request(() => store.get(key, { signal: opts.signal }), opts.signal);
      const merged = existing ? await decodeShardFile(spec, existing, { key, gzip, url: this.host.url }) : new Map<bigint, Uint8Array>();
      for (const [id, data] of news) merged.set(id, data);
      const ordered = [...merged.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const built = await encodeShard(spec, ordered, { gzip });
      await sh.putShard(filename, built.data, {}, opts.signal);
    }
  }
}

function normalizeInfo(raw: Record<string, unknown>, url: string, key: string): SkeletonInfo {
  const bad = (m: string) => new CloudVolumeError("INVALID_METADATA", `${key}: ${m}`, { url, key });
  const type = raw["@type"] ?? "neuroglancer_skeletons";
  if (type !== "neuroglancer_skeletons") throw bad(`@type is ${JSON.stringify(type)}, expected "neuroglancer_skeletons"`);
  const transform = (raw.transform ?? IDENTITY_TRANSFORM) as unknown;
  if (!Array.isArray(transform) || transform.length !== 12 || !transform.every((x) => typeof x === "number")) throw bad("transform must be 12 numbers (3x4 row-major)");
  const attrs = (raw.vertex_attributes ?? DEFAULT_VERTEX_ATTRIBUTES) as unknown;
  if (!Array.isArray(attrs)) throw bad("vertex_attributes must be a list");
  for (const [i, a] of attrs.entries()) {
    if (!a || typeof a.id !== "string" || !Number.isInteger(a.num_components) || a.num_components < 1) throw bad(`vertex_attributes[${i}] needs id, data_type and num_components >= 1`);
    attributeArrayType(a.data_type, `${key} vertex_attributes[${i}]`);
  }
  return { ...raw, "@type": "neuroglancer_skeletons", transform: [...transform], vertex_attributes: attrs.map((a) => ({ ...a })) } as SkeletonInfo;
}
