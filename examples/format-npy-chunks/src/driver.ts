import {
  CloudVolumeError, formatUrl, isCloudVolumeError,
  type Bbox, type ChunkPipeline, type Context, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatOpenOptions,
  type KeyValueStore, type LayerInfo, type ParsedUrl,
} from "@cloudvolume/core";
import { HEADER_KEY, fromLayerInfo, parseHeader, serializeHeader, toLayerInfo, type NpyChunksHeader } from "./header.js";
import { npyCodec } from "./npy.js";

export const FORMAT_NAME = "npychunks";

const CAPABILITIES: FormatCapabilities = { write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false };

/** Chunk files live under this prefix: `c/<gx>.<gy>.<gz>.npy`. */
export const CHUNK_PREFIX = "c/";

/*
 * The codec lives in the pipeline, not in the Context as a CodecPlugin named "npy". The
 * padding rule (edge chunks stored at the full chunk size) and the header's shape check
 * belong to this format: a context codec named "npy" would let a Precomputed layer claim
 * `"encoding": "npy"` too, and write files no other Precomputed reader (neuroglancer,
 * CloudVolume) knows. Kept here, the only way to make npy chunks is this format, and
 * `cloudvolume cp npychunks://... <precomputed>` has to pick a real Precomputed encoding
 * (--encoding raw).
 */
const PIPELINE: ChunkPipeline = {
  codec: npyCodec,
  params: {},
  // The stored bytes depend only on the dtype, channels and chunk shape, which the engine
  // compares itself (same grid) before it trusts a signature: any two npychunks layers
  // on the same grid may copy chunk files as stored.
  signature: "npychunks npy-1.0 fortran padded",
  edgeChunks: "padded",
};

/**
 * An npychunks layer: `npychunks.json` at the root and one `.npy` file per chunk under
 * `c/`, named by grid index. One mip; the metadata is presented as a one-scale LayerInfo.
 */
export class NpyChunksLayer implements FormatLayer {
  readonly format = FORMAT_NAME;
  readonly capabilities = CAPABILITIES;

  constructor(
    readonly url: string,
    readonly parsed: ParsedUrl,
    public store: KeyValueStore,
    public info: LayerInfo,
  ) {}

  static async open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions): Promise<NpyChunksLayer> {
    const given = url.input ?? formatUrl(url.format, url.storageUrl);
    const store = await ctx.storage(url);
    if (opts.info) return new NpyChunksLayer(given, url, store, presentGiven(opts.info, given));
    return new NpyChunksLayer(given, url, store, toLayerInfo(await readHeader(store, given, opts.signal)));
  }

  /** The header `info` stands for; INVALID_METADATA (naming the field) when it is not one this format can hold. */
  header(): NpyChunksHeader {
    return fromLayerInfo(this.info, this.url);
  }

  private checkMip(mip: number): void {
    if (mip !== 0) throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; an npychunks layer has mip 0 only`, { url: this.url, mip });
  }

  chunkKey(chunk: Bbox, mip: number): string {
    this.checkMip(mip);
    const s = this.info.scales[0];
    const g = [0, 1, 2].map((d) => (chunk.min[d] - s.voxel_offset[d]) / s.chunk_sizes[0][d]);
    if (!g.every(Number.isInteger)) {
      throw new CloudVolumeError("ALIGNMENT", `chunk ${chunk} does not start on the ${s.chunk_sizes[0].join("x")} grid at ${s.voxel_offset.join(",")}`, { url: this.url, mip });
    }
    return `${CHUNK_PREFIX}${g.join(".")}.npy`;
  }

  chunkPrefix(mip: number): string {
    this.checkMip(mip);
    return CHUNK_PREFIX;
  }

  async pipeline(mip: number): Promise<ChunkPipeline> {
    this.checkMip(mip);
    this.header(); // an info this format cannot hold is refused before any chunk is read or written
    return PIPELINE;
  }

  /** npy files are stored as they are, so numpy (np.load) reads them straight off the disk. */
  defaultCompression(_mip: number): string | undefined {
    return undefined;
  }

  fillValue(_mip: number): number {
    return 0;
  }

  async commitInfo(): Promise<void> {
    const header = this.header();
    await this.store.put!(HEADER_KEY, serializeHeader(header), { contentType: "application/json", cacheControl: "no-cache" });
    this.info = toLayerInfo(header); // as a reopen presents it ("raw" becomes "npy", Precomputed extras go)
  }

  async refreshInfo(signal?: AbortSignal): Promise<LayerInfo> {
    this.info = toLayerInfo(await readHeader(this.store, this.url, signal));
    return this.info;
  }
}

/**
 * The `info` a new layer was opened with. One this format can hold is presented as a
 * reopen would (our one scale, encoding "npy", Precomputed's extras left out). One it
 * cannot hold (two scales, a jpeg encoding) is kept as given, so that commitInfo (and
 * any read or write) fails with INVALID_METADATA naming the field.
 */
function presentGiven(info: LayerInfo | Record<string, unknown>, url: string): LayerInfo {
  const copy = structuredClone(info) as LayerInfo;
  try {
    return toLayerInfo(fromLayerInfo(copy, url));
  } catch (e) {
    if (isCloudVolumeError(e, "INVALID_METADATA")) return copy;
    throw e;
  }
}

async function readHeader(store: KeyValueStore, url: string, signal?: AbortSignal): Promise<NpyChunksHeader> {
  const bytes = await store.get(HEADER_KEY, { signal });
  if (!bytes) {
    throw new CloudVolumeError("NOT_FOUND", `no ${HEADER_KEY} at ${url}; create the layer by opening it with { info } and calling commitInfo()`, { url, key: HEADER_KEY });
  }
  return parseHeader(bytes, url);
}

/** The npychunks format driver: what the plugin's load() gives the chunk engine. */
export const npyChunksDriver: FormatDriver = {
  name: FORMAT_NAME,
  open: (ctx, url, opts) => NpyChunksLayer.open(ctx, url, opts),
};
