import {
  Bbox, CloudVolumeError, formatUrl, withRetry, serializeJson,
  type ByteCodec, type ChunkPipeline, type Context, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatOpenOptions,
  type KeyValueStore, type ParsedUrl, type Vec3,
} from "@cloudvolume/core";
import { parseInfo, type PrecomputedInfo, type ScaleInfo } from "./info.js";
import { emptyProvenance, parseProvenance, type Provenance } from "./provenance.js";
import { PrecomputedShards } from "./sharding/adapter.js";
import { ShardedImageLayout } from "./sharding/image.js";
import { computeShardParamsForImage } from "./sharding/params.js";
import { ShardedStore } from "./sharding/reader.js";
import { parseShardingSpec, shardingSpecToJson } from "./sharding/spec.js";

/** Open options only the Precomputed driver knows. */
export interface PrecomputedDriverOptions {
  /** How many `redirect` hops to follow (default 10; 0 = do not follow). */
  maxRedirects?: number;
  /** Use this provenance instead of reading the layer's. */
  provenance?: Partial<Provenance>;
}

/** Encodings CloudVolume gzips by default (should_compress in cloudvolume). */
const GZIP_BY_DEFAULT = new Set(["raw", "compressed_segmentation", "compresso", "crackle"]);

const CAPABILITIES: FormatCapabilities = { write: true, sharded: true, meshes: true, skeletons: true, provenance: true, locks: true };

/**
 * A Precomputed layer (Neuroglancer's volume.md) as a format driver gives it to the chunk
 * engine: the `info` and `provenance` files, chunk keys `<scale key>/<x0-x1_y0-y1_z0-z1>`,
 * each scale's encoding as its codec, CloudVolume's default transfer compression, and a
 * shard adapter for sharded scales (sharded.md).
 */
export class PrecomputedLayer implements FormatLayer {
  readonly format = "precomputed";
  readonly capabilities = CAPABILITIES;
  provenance: Provenance = emptyProvenance();
  private readonly shardedScales = new Map<number, { signature: string; shards: PrecomputedShards }>();

  constructor(
    readonly ctx: Context,
    readonly url: string,
    readonly parsed: ParsedUrl,
    public store: KeyValueStore,
    public info: PrecomputedInfo,
    /** True when the layer was reached through an info `redirect`: writes are refused. */
    readonly redirected: boolean,
    private readonly provenanceOption?: Partial<Provenance>,
  ) {}

  /** Read the info (following redirects), or take `opts.info` for a new layer. */
  static async open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions & PrecomputedDriverOptions = {}): Promise<PrecomputedLayer> {
    const given = formatUrl(url.format, url.storageUrl);
    let parsed = url;
    let store = await ctx.storage(parsed);
    let info: PrecomputedInfo;
    let redirected = false;
    if (opts.info) {
      info = parseInfo(withOwnSharding(structuredClone(opts.info) as PrecomputedInfo), given);
    } else {
      const maxRedirects = opts.maxRedirects ?? 10;
      const seen = [normalizeUrl(parsed.storageUrl)];
      for (let hops = 0; ; hops++) {
        info = await readInfo(store, parsed.storageUrl, opts.signal);
        const target = typeof info.redirect === "string" ? info.redirect : undefined;
        if (!target || maxRedirects === 0) break;
        const next = ctx.parse(target);
        const nextId = normalizeUrl(next.storageUrl);
        if (nextId === seen[seen.length - 1]) break; // a layer that points at itself is the end of the chain
        if (seen.includes(nextId)) {
          throw new CloudVolumeError("INVALID_METADATA", `redirect cycle: ${[...seen, nextId].join(" -> ")}`, { url: given, key: "info" });
        }
        if (hops + 1 > maxRedirects) {
          throw new CloudVolumeError("INVALID_METADATA", `more than maxRedirects=${maxRedirects} redirects: ${[...seen, nextId].join(" -> ")}`, { url: given, key: "info" });
        }
        seen.push(nextId);
        parsed = next;
        store = await ctx.storage(next);
        redirected = true;
      }
      if (info.scales === undefined) info = parseInfo({ ...info, redirect: undefined }, parsed.storageUrl);
    }
    return new PrecomputedLayer(ctx, redirected ? parsed.storageUrl : url.input ?? given, parsed, store, info, redirected, opts.provenance);
  }

  /** Provenance is read once the caches are in front of the store (so it is cached too). */
  async opened(signal?: AbortSignal): Promise<void> {
    if (this.provenanceOption) {
      this.provenance = { ...emptyProvenance(), ...this.provenanceOption } as Provenance;
      return;
    }
    const bytes = await this.store.get("provenance", { signal }).catch(() => undefined);
    if (bytes) this.provenance = parseProvenance(bytes, this.parsed.storageUrl);
  }

  scale(mip: number): ScaleInfo {
    const s = this.info.scales[mip];
    if (!s) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; this layer has mips 0..${this.info.scales.length - 1}`, { url: this.url, mip });
    return s;
  }

  chunkKey(chunk: Bbox, mip: number): string {
    return `${this.scale(mip).key}/${chunk.toFilename()}`;
  }

  chunkPrefix(mip: number): string {
    return `${this.scale(mip).key}/`;
  }

  async pipeline(mip: number): Promise<ChunkPipeline> {
    const scale = this.scale(mip);
    return {
      codec: await this.ctx.codec(scale.encoding),
      params: scale,
      signature: `precomputed ${serializeJson(this.codecParams(mip))}`,
      // volume.md: chunks at the upper bound are truncated; sharded files from other writers may be padded.
      edgeChunks: "truncated",
      acceptBothEdges: this.isSharded(mip),
    };
  }

  /** Scale fields a codec reads; two scales with equal params encode alike. */
  codecParams(mip: number): Record<string, unknown> {
    const { key: _k, size: _s, voxel_offset: _v, resolution: _r, chunk_sizes: _c, sharding: _sh, locked: _l, ...rest } = this.scale(mip);
    return rest;
  }

  /**
   * The layer's own `compress` default (written by `cloudvolume create --compress`; the
   * info has no field for it), else CloudVolume's rule: gzip for raw and segmentation encodings.
   */
  defaultCompression(mip: number): string | undefined {
    const c = this.info.compress;
    if (typeof c === "string") return c === "none" ? undefined : c; // the engine checks the name
    return GZIP_BY_DEFAULT.has(this.scale(mip).encoding) ? "gzip" : undefined;
  }

  readOnlyReason(): string | undefined {
    return this.redirected ? "was opened through a redirect and is read-only" : undefined;
  }

  // ---- sharding ---------------------------------------------------------------

  /** True when the scale stores its chunks in the sharded format (volume.md "Sharded chunk storage"). */
  isSharded(mip: number): boolean {
    const s = this.scale(mip).sharding;
    return s !== undefined && s !== null;
  }

  /** The shard adapter of a sharded scale, rebuilt whenever the scale's info changes. */
  sharded(mip: number): PrecomputedShards | undefined {
    if (!this.isSharded(mip)) return undefined;
    const s = this.scale(mip);
    const signature = JSON.stringify([s.key, s.sharding, s.size, s.voxel_offset, s.chunk_sizes[0]]);
    const known = this.shardedScales.get(mip);
    if (known && known.signature === signature) return known.shards;
    const spec = parseShardingSpec(s.sharding, `scales[${mip}].sharding`, this.url);
    const layout = new ShardedImageLayout(spec, s.size, s.chunk_sizes[0], s.voxel_offset);
    const store = new ShardedStore(this.store, spec, {
      prefix: s.key,
      gzip: () => this.gzipCodec(),
      request: (fn, signal) => this.ctx.limiter(this.parsed.protocol).run(() => withRetry(fn, this.ctx.retry, signal), signal),
    });
    const bounds = boundsOf(s);
    const shards = new PrecomputedShards(spec, layout, store, { url: this.url, mip, voxelOffset: s.voxel_offset, bounds, chunkSize: s.chunk_sizes[0] }, () => this.gzipCodec());
    this.shardedScales.set(mip, { signature, shards });
    return shards;
  }

  /** The shards of a scale that must be sharded (INVALID_ARGUMENT otherwise). */
  shards(mip: number): PrecomputedShards {
    const sh = this.sharded(mip);
    if (!sh) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} of ${this.url} is not sharded`, { url: this.url, mip });
    return sh;
  }

  setSharding(mip: number, sharded: boolean | Record<string, unknown>): boolean {
    const scale = this.scale(mip);
    const before = JSON.stringify(scale.sharding ?? null);
    if (sharded === false) delete scale.sharding;
    else if (sharded === true) {
      if (!this.isSharded(mip)) {
        scale.sharding = computeShardParamsForImage({
          size: scale.size, chunkSize: scale.chunk_sizes[0], encoding: scale.encoding, dtype: this.info.data_type,
        }) as unknown as Record<string, unknown>;
      }
    } else {
      scale.sharding = shardingSpecToJson(parseShardingSpec(sharded, `scales[${mip}].sharding`, this.url)) as unknown as Record<string, unknown>;
    }
    if (scale.sharding !== undefined) {
      // Validate now: a spec whose Morton bits do not fit is refused before anything is written.
      this.shards(mip);
      if (scale.chunk_sizes.length > 1) scale.chunk_sizes = [scale.chunk_sizes[0]]; // volume.md: a sharded scale has one chunk size
    }
    return JSON.stringify(scale.sharding ?? null) !== before;
  }

  private async gzipCodec(): Promise<ByteCodec> {
    const c = await this.ctx.compression("gzip");
    if (!c) throw new CloudVolumeError("UNKNOWN_CODEC", "the sharding specification uses gzip; install @cloudvolume/codec-gzip and pass its plugin to the Context", { url: this.url });
    return c;
  }

  // ---- metadata files -------------------------------------------------------------

  async commitInfo(): Promise<void> {
    parseInfo(this.info, this.url); // never persist an info we could not read back
    await this.store.put!("info", new TextEncoder().encode(serializeJson(this.info)), { contentType: "application/json", cacheControl: "no-cache" });
  }

  async refreshInfo(signal?: AbortSignal): Promise<PrecomputedInfo> {
    this.info = await readInfo(this.store, this.url, signal);
    return this.info;
  }

  async commitProvenance(): Promise<void> {
    await this.store.put!("provenance", new TextEncoder().encode(serializeJson(this.provenance)), { contentType: "application/json", cacheControl: "no-cache" });
  }

  async refreshProvenance(): Promise<Provenance> {
    const bytes = await this.store.get("provenance");
    this.provenance = bytes ? parseProvenance(bytes, this.url) : emptyProvenance();
    return this.provenance;
  }
}

function boundsOf(s: ScaleInfo): Bbox {
  return new Bbox(s.voxel_offset, [s.voxel_offset[0] + s.size[0], s.voxel_offset[1] + s.size[1], s.voxel_offset[2] + s.size[2]] as Vec3);
}

async function readInfo(store: KeyValueStore, url: string, signal?: AbortSignal): Promise<PrecomputedInfo> {
  const bytes = await store.get("info", { signal });
  if (!bytes) {
    throw new CloudVolumeError("NOT_FOUND", `no info file at ${url}/info; create the layer with createNewInfo and commitInfo`, { url, key: "info" });
  }
  return parseInfo(bytes, url);
}

function normalizeUrl(u: string): string {
  return u.replace(/\/+$/, "");
}

/** The Precomputed format driver: what `precomputed()`'s load() gives the chunk engine. */
export const precomputedDriver: FormatDriver = {
  name: "precomputed",
  open: (ctx, url, opts) => PrecomputedLayer.open(ctx, url, opts),
};

/**
 * A new layer's info may come from another format's layer (`cp zarr3://... precomputed://`):
 * a scale sharded there (zarr v3's sharding_indexed, presented as
 * "zarr3_sharding_indexed") is sharded here with CloudVolume's parameters, as `--sharded`
 * would. Any other unknown `@type` is left for parseInfo to refuse.
 */
function withOwnSharding(info: PrecomputedInfo): PrecomputedInfo {
  for (const s of info.scales ?? []) {
    const sh = s.sharding as Record<string, unknown> | undefined;
    if (sh && typeof sh === "object" && sh["@type"] === "zarr3_sharding_indexed" && Array.isArray(s.chunk_sizes)) {
      s.sharding = computeShardParamsForImage({ size: s.size, chunkSize: s.chunk_sizes[0], encoding: s.encoding, dtype: info.data_type }) as unknown as ScaleInfo["sharding"];
      s.chunk_sizes = [s.chunk_sizes[0]];
    }
  }
  return info;
}
