import {
  Bbox, CloudVolumeError, type ArrayCodec, type ChunkSpec, type GetOptions, type KeyValueStore, type PutOptions, type StoredObject,
} from "@cloudvolume/core";
import { LRU } from "./lru.js";

/**
 * How the in-memory LRU holds a chunk (CloudVolume's `lru_encoding`, PR #645):
 * - `"same"` (default): the stored array encoding of the chunk's scale (jpeg bytes for a
 *   jpeg scale, raw voxels for a raw one), transfer compression removed; a hit decodes.
 * - `"raw"`: decoded voxels; a hit is a copy, no decode. Fastest, largest.
 * - any other array codec name (`"compressed_segmentation"`, `"png"`, ...): chunks are
 *   re-encoded with that codec after the first decode, and a hit decodes with it. The
 *   codec must be among the Context's plugins and able to encode the layer's dtype.
 */
export type LruEncoding = "same" | "raw" | (string & {});

/** What the LRU needs from the volume to read one chunk. */
export interface LruChunkRead {
  /** Decoded size of the chunk in bytes. */
  size: number;
  /** The scale's own codec. */
  codec: ArrayCodec;
  /** Codec spec of the chunk, for re-encoding with a different lruEncoding. */
  spec: ChunkSpec;
  /** The chunk's array-encoded bytes (transfer compression removed); undefined when missing. */
  fetch(): Promise<Uint8Array | undefined>;
  /** Decode `bytes` (encoded with `codec`) into `out`, returning the voxels. */
  decode(bytes: Uint8Array, codec: ArrayCodec, out: Uint8Array): Promise<Uint8Array>;
  /** A buffer of `size` bytes for the voxels (the caller releases it, e.g. to its pool). */
  acquire(size: number): Uint8Array;
  /** Decode into this buffer instead of acquiring one. */
  out?: Uint8Array;
  /** An entry the caller already looked up (lookup()), so an eviction in between cannot lose it. */
  cached?: Uint8Array;
}

/**
 * The per-volume chunk LRU behind `lruBytes` / `lruEncoding` (CloudVolume's
 * `vol.image.lru`). Keys are chunk storage keys (`<scale key>/<x0-x1_y0-y1_z0-z1>`, for
 * sharded scales too), values the chunk in the `lruEncoding` form. Missing chunks are
 * not remembered (CloudVolume stores `None`; here a miss for a missing chunk asks
 * storage again).
 *
 * Writes invalidate: `observe(store)` wraps the volume's store so that every completed
 * put or delete drops what it touched (a chunk file: that chunk; a shard file: the
 * chunks of its scale; the info: everything), and a read that was in flight during a
 * write does not insert what it read.
 */
export class ChunkLru {
  readonly lru: LRU<string>;
  readonly encoding: LruEncoding;
  private epoch = 0;
  private codec?: Promise<ArrayCodec>;

  constructor(bytes: number, encoding: LruEncoding = "same", private readonly codecOf: (name: string) => Promise<ArrayCodec>) {
    if (typeof encoding !== "string" || encoding === "") {
      throw new CloudVolumeError("INVALID_ARGUMENT", `lruEncoding must be "same", "raw" or an encoding name, got ${JSON.stringify(encoding)}`);
    }
    this.lru = new LRU(bytes);
    this.encoding = encoding;
  }

  /** True when the budget is above 0 (`lruBytes`, or a later `resize`). */
  get enabled(): boolean {
    return this.lru.size > 0;
  }

  /** The held entry of `key`, marking it recently used. */
  lookup(key: string): Uint8Array | undefined {
    return this.lru.get(key) as Uint8Array | undefined;
  }

  /**
   * One chunk's voxels through the LRU: a hit reads no storage; a miss fetches, decodes,
   * and keeps the chunk in the configured form. Undefined when the chunk is missing.
   * The returned buffer is never the LRU's own (the caller may recycle it).
   */
  async read(key: string, r: LruChunkRead): Promise<Uint8Array | undefined> {
    const held = r.cached ?? this.lookup(key);
    const lruCodec = await this.lruCodec(r.codec);
    if (held !== undefined) {
      const out = r.out ?? r.acquire(r.size);
      if (lruCodec === r.codec) return r.decode(held, r.codec, out);
      // Our own re-encoding: the truncated chunk, with the parameters we encoded it with.
      const voxels = await lruCodec.decode(held, lruSpec(r.spec), out);
      if (voxels.byteLength !== r.size) {
        throw new CloudVolumeError("DECODE_FAILED", `LRU entry ${key} (${lruCodec.name}) decoded to ${voxels.byteLength} bytes, expected ${r.size}`, { key });
      }
      if (voxels !== out) out.set(voxels);
      return out;
    }
    const epoch = this.epoch;
    const payload = await r.fetch();
    if (payload === undefined) return undefined;
    const voxels = await r.decode(payload, r.codec, r.out ?? r.acquire(r.size));
    if (!this.enabled || epoch !== this.epoch) return voxels;
    let entry: Uint8Array;
    if (lruCodec.name === r.codec.name) entry = payload;
    else {
      if (!lruCodec.encode) throw new CloudVolumeError("UNKNOWN_CODEC", `lruEncoding "${lruCodec.name}": the codec can decode but not encode`, { key });
      entry = await lruCodec.encode(voxels, lruSpec(r.spec));
    }
    // The entry must not share memory with the voxels we hand out (raw encode returns its input).
    if (entry.buffer === voxels.buffer) entry = entry.slice();
    if (epoch === this.epoch) this.lru.set(key, entry);
    return voxels;
  }

  /** Forget what a completed write of storage key `key` may have changed. */
  written(key: string): void {
    this.epoch++;
    if (this.lru.length === 0) return;
    const slash = key.lastIndexOf("/");
    if (slash < 0) {
      // info, provenance: a changed info may change encodings or the grid; start over.
      if (key === "info") this.lru.clear();
      return;
    }
    if (isChunkName(key.slice(slash + 1))) {
      this.lru.delete(key);
      return;
    }
    // A shard file (or anything else in a scale directory): drop that scale's chunks.
    const dir = key.slice(0, slash + 1);
    this.lru.deleteWhere((k) => k.startsWith(dir));
  }

  /** `store` with every completed put and delete reported to written(). Optional methods stay optional. */
  observe(store: KeyValueStore): KeyValueStore {
    return new ObservedStore(store, (key) => this.written(key));
  }

  private lruCodec(source: ArrayCodec): Promise<ArrayCodec> {
    if (this.encoding === "same" || this.encoding === source.name) return Promise.resolve(source);
    this.codec ??= this.codecOf(this.encoding).catch((cause) => {
      this.codec = undefined;
      throw cause;
    });
    return this.codec;
  }
}

/** The chunk spec for the LRU's own codec: a scale that is not compressed_segmentation has no block size, so CloudVolume's 8x8x8 applies. */
function lruSpec(spec: ChunkSpec): ChunkSpec {
  const params = spec.params ?? {};
  if (params.compressed_segmentation_block_size !== undefined) return spec;
  return { ...spec, params: { ...params, compressed_segmentation_block_size: [8, 8, 8] } };
}

function isChunkName(name: string): boolean {
  try {
    Bbox.fromFilename(name);
    return true;
  } catch {
    return false;
  }
}

/** A pass-through store that reports completed writes. */
class ObservedStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities: KeyValueStore["capabilities"];

  constructor(readonly inner: KeyValueStore, private readonly onWrite: (key: string) => void) {
    this.url = inner.url;
    this.capabilities = inner.capabilities;
    if (!inner.getObject) (this as { getObject?: unknown }).getObject = undefined;
    if (!inner.put) (this as { put?: unknown }).put = undefined;
    if (!inner.delete) (this as { delete?: unknown }).delete = undefined;
    if (!inner.exists) (this as { exists?: unknown }).exists = undefined;
    if (!inner.list) (this as { list?: unknown }).list = undefined;
    if (!inner.close) (this as { close?: unknown }).close = undefined;
  }

  get(key: string, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return this.inner.get(key, opts);
  }

  getObject(key: string, opts?: GetOptions): Promise<StoredObject | undefined> {
    return this.inner.getObject!(key, opts);
  }

  async put(key: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    try {
      await this.inner.put!(key, data, opts);
    } finally {
      // Even a failed write may have landed (a lost response): forget either way.
      this.onWrite(key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.inner.delete!(key);
    } finally {
      this.onWrite(key);
    }
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists!(key);
  }

  list(prefix: string): AsyncIterable<string> {
    return this.inner.list!(prefix);
  }

  close(): Promise<void> {
    return this.inner.close!();
  }
}
