import {
  CloudVolumeError, formatUrl, isCloudVolumeError, serializeJson,
  type Bbox, type ChunkPipeline, type Context, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatOpenOptions,
  type KeyValueStore, type LayerInfo, type ParsedUrl, type Vec3,
} from "@cloudvolume/core";
import { n5BlockCodec } from "./block.js";
import { resolveCompression } from "./compression.js";
import {
  ATTRIBUTES, DATASET_KEYS, N5_VERSION, channelsOf, datasetAttributes, groupFactors, isDatasetAttributes, parseAttributes, parseDataset,
  parseResolution, planScales, presentPlan, resolutionOf, scaleOf, type Attributes, type N5Dataset,
} from "./metadata.js";

export const FORMAT_NAME = "n5";

const CAPABILITIES: FormatCapabilities = { write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false };

/** How the layer's root is laid out: one dataset, or a multiscale group of datasets s0, s1, ... */
export type N5Layout = "dataset" | "group";

/** What reading the metadata found. */
interface Found {
  layout: N5Layout;
  info: LayerInfo;
  /** Each mip's dataset rank. */
  ndims: number[];
}

const MAX_SCALES = 64;

/**
 * An N5 layer: a dataset (one mip) or a multiscale group whose datasets `s0`, `s1`, ... are
 * the mips, presented in Precomputed's info form (see metadata.ts for the axes). Chunk keys
 * are N5 block paths, `<dataset>/<i0>/<i1>/...` with the block's grid indices in N5
 * dimension order. New layers are multiscale groups.
 */
export class N5Layer implements FormatLayer {
  readonly format = FORMAT_NAME;
  readonly capabilities = CAPABILITIES;

  constructor(
    readonly ctx: Context,
    readonly url: string,
    readonly parsed: ParsedUrl,
    public store: KeyValueStore,
    public info: LayerInfo,
    public layout: N5Layout,
    /** Each mip's dataset rank (1 to 4), as read or as committed. */
    private ndims: number[],
    /** Key of a plain dataset's scale (the dataset's own directory name when it looks like a scale). */
    private readonly datasetKey = "s0",
  ) {}

  static async open(ctx: Context, url: ParsedUrl, opts: FormatOpenOptions): Promise<N5Layer> {
    const given = url.input ?? formatUrl(url.format, url.storageUrl);
    const store = await ctx.storage(url);
    const last = url.path.replace(/\/+$/, "").split("/").pop() ?? "";
    const datasetKey = /^s\d+$/.test(last) ? last : "s0";
    const tc = transferCompression(opts.compress);
    if (tc) throw noTransferCompression(given, `the compress option (${JSON.stringify(opts.compress)})`);
    if (opts.info) {
      const info = presentGiven(opts.info, given);
      return new N5Layer(ctx, given, url, store, info, "group", [], datasetKey);
    }
    const found = await readLayer(store, given, datasetKey, opts.signal);
    return new N5Layer(ctx, given, url, store, found.info, found.layout, found.ndims, datasetKey);
  }

  /**
   * Once the engine's caches are in front of the store: refuse puts of chunks with a
   * transfer compression (a transfer's own `compress`), which would wrap whole N5 blocks in
   * an encoding (`.gz` files) that N5 readers do not know.
   */
  async opened(): Promise<void> {
    this.store = guardTransferEncoding(this.store, this.url);
  }

  /** The directory of a mip's dataset below the layer root ("" for a plain dataset). */
  datasetPath(mip: number): string {
    this.checkMip(mip);
    return this.layout === "dataset" ? "" : `s${mip}`;
  }

  private checkMip(mip: number): void {
    if (!Number.isInteger(mip) || mip < 0 || mip >= this.info.scales.length) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `mip ${mip} does not exist; this layer has mips 0..${this.info.scales.length - 1}`, { url: this.url, mip });
    }
  }

  /** The rank of a mip's dataset: as read, else 4 with several channels, else 3. */
  ndim(mip: number): number {
    return this.ndims[mip] ?? (this.info.num_channels > 1 ? 4 : 3);
  }

  chunkKey(chunk: Bbox, mip: number): string {
    const s = this.info.scales[mip];
    if (!s) this.checkMip(mip);
    const cs = s.chunk_sizes[0];
    const g = [0, 1, 2].map((d) => (chunk.min[d] - s.voxel_offset[d]) / cs[d]);
    if (!g.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new CloudVolumeError("ALIGNMENT", `chunk ${chunk} does not start on the ${cs.join("x")} block grid at ${s.voxel_offset.join(",")}`, { url: this.url, mip });
    }
    const ndim = this.ndim(mip);
    const idx = ndim === 4 ? [...g, 0] : g.slice(0, ndim);
    const prefix = this.datasetPath(mip);
    return prefix === "" ? idx.join("/") : `${prefix}/${idx.join("/")}`;
  }

  chunkPrefix(mip: number): string {
    const p = this.datasetPath(mip);
    return p === "" ? "" : `${p}/`;
  }

  async pipeline(mip: number): Promise<ChunkPipeline> {
    this.checkMip(mip);
    const plan = planScales(this.info, this.url, this.ndims);
    const s = plan.scales[mip];
    const ndim = s.dimensions.length;
    const file = `${this.chunkPrefix(mip)}${ATTRIBUTES}`;
    const compression = await resolveCompression(this.ctx, s.compression, plan.dtype, { url: this.url, file });
    return {
      codec: n5BlockCodec(ndim, compression),
      params: { compression: s.compression },
      // Same dtype, rank and compression object: the stored blocks are interchangeable.
      signature: `n5 ${plan.dtype} ndim=${ndim} ${serializeJson(s.compression)}`,
      // The N5 specification has end blocks truncated; decoding also takes padded ones (zarr-python's),
      // since each block's header gives its size.
      edgeChunks: "truncated",
    };
  }

  /** Compression lives inside N5 blocks: chunk objects get no transfer compression of their own. */
  defaultCompression(_mip: number): string | undefined {
    return undefined;
  }

  /** N5 has no fill value: missing blocks read as 0. */
  fillValue(_mip: number): number {
    return 0;
  }

  async commitInfo(): Promise<void> {
    const plan = planScales(this.info, this.url, this.ndims);
    const put = (key: string, a: Attributes) => this.store.put!(key, new TextEncoder().encode(serializeJson(a) + "\n"), { contentType: "application/json", cacheControl: "no-cache" });
    const res0 = plan.scales[0].resolution;
    const pad = (v: Vec3, ndim: number) => (ndim === 4 ? [...v, 1] : v.slice(0, ndim));
    if (this.layout === "dataset") {
      if (plan.scales.length !== 1) {
        throw new CloudVolumeError("INVALID_METADATA", `info of ${this.url}: scales holds ${plan.scales.length} scales, but the layer is a single N5 dataset (one scale); create a multiscale group (open a new location with { info })`, { url: this.url });
      }
      const existing = (await this.readAttributes(ATTRIBUTES)) ?? {};
      const s = plan.scales[0];
      const extra: Attributes = {};
      const before = this.readResolution(existing);
      if (!before || before.some((r, i) => Math.abs(r - s.resolution[i]) > 1e-9 * r)) {
        const f = Array.isArray(existing.downsamplingFactors) ? (existing.downsamplingFactors as number[]) : [1, 1, 1];
        extra.pixelResolution = { unit: "nm", dimensions: pad([s.resolution[0] / (f[0] ?? 1), s.resolution[1] / (f[1] ?? 1), s.resolution[2] / (f[2] ?? 1)], s.dimensions.length) };
        delete existing.resolution;
      }
      await put(ATTRIBUTES, datasetAttributes(existing, s, plan.dtype, extra));
    } else {
      for (let i = 0; i < plan.scales.length; i++) {
        const s = plan.scales[i];
        const key = `s${i}/${ATTRIBUTES}`;
        const existing = (await this.readAttributes(key)) ?? {};
        delete existing.resolution;
        const factors: Vec3 = [s.resolution[0] / res0[0], s.resolution[1] / res0[1], s.resolution[2] / res0[2]];
        await put(key, datasetAttributes(existing, s, plan.dtype, {
          downsamplingFactors: pad(factors, s.dimensions.length),
          pixelResolution: { unit: "nm", dimensions: pad(res0, s.dimensions.length) },
        }));
      }
      const root = (await this.readAttributes(ATTRIBUTES)) ?? {};
      for (const k of DATASET_KEYS) delete root[k]; // a group, not a dataset
      delete root.downsamplingFactors;
      delete root.scales;
      root.n5 = typeof root.n5 === "string" ? root.n5 : N5_VERSION;
      root.multiScale = true;
      root.resolution = [...res0];
      root.units = ["nm", "nm", "nm"];
      root.pixelResolution = { unit: "nm", dimensions: [...res0] };
      await put(ATTRIBUTES, root);
    }
    this.ndims = plan.scales.map((s) => s.dimensions.length);
    this.info = presentPlan(plan, plan.scales.map((_, i) => (this.layout === "dataset" ? this.datasetKey : `s${i}`)), this.info.type);
  }

  private readResolution(a: Attributes): Vec3 | undefined {
    try {
      const base = parseResolution(a, this.url, ATTRIBUTES);
      if (!base) return undefined;
      const f = Array.isArray(a.downsamplingFactors) ? (a.downsamplingFactors as number[]) : [1, 1, 1];
      return [base[0] * (f[0] ?? 1), base[1] * (f[1] ?? 1), base[2] * (f[2] ?? 1)];
    } catch {
      return undefined;
    }
  }

  /** An attributes.json below the root, parsed; undefined when absent. */
  private async readAttributes(key: string): Promise<Attributes | undefined> {
    const bytes = await this.store.get(key);
    return bytes ? parseAttributes(bytes, this.url, key) : undefined;
  }

  async refreshInfo(signal?: AbortSignal): Promise<LayerInfo> {
    const found = await readLayer(this.store, this.url, this.datasetKey, signal);
    this.info = found.info;
    this.layout = found.layout;
    this.ndims = found.ndims;
    return this.info;
  }
}

/** The transfer compression a `compress` option asks for (undefined for none). */
function transferCompression(c: unknown): string | undefined {
  if (c === undefined || c === null || c === false || c === "none" || c === "identity") return undefined;
  return c === true ? "gzip" : String(c);
}

function noTransferCompression(url: string, what: string): CloudVolumeError {
  return new CloudVolumeError(
    "INVALID_ARGUMENT",
    `${url}: N5 compresses inside its blocks, so n5 layers take no transfer compression (${what}); choose the block compression with the scale's encoding or compression instead (e.g. cp --encoding gzip, or --encoding raw --compress none for raw blocks)`,
    { url },
  );
}

/** `store` with puts that carry a content encoding refused (metadata and blocks are stored as they are). */
function guardTransferEncoding(store: KeyValueStore, url: string): KeyValueStore {
  const put = store.put;
  if (!put) return store;
  const wrapped: KeyValueStore = {
    get url() { return store.url; },
    get capabilities() { return store.capabilities; },
    get: (key, o) => store.get(key, o),
    put: (key, data, o) => {
      const enc = transferCompression(o?.contentEncoding);
      if (enc) return Promise.reject(noTransferCompression(url, `"${enc}" for ${key}`));
      return put.call(store, key, data, o);
    },
  };
  if (store.getObject) wrapped.getObject = (key, o) => store.getObject!(key, o);
  if (store.delete) wrapped.delete = (key) => store.delete!(key);
  if (store.exists) wrapped.exists = (key) => store.exists!(key);
  if (store.list) wrapped.list = (prefix) => store.list!(prefix);
  if (store.close) wrapped.close = () => store.close!();
  return wrapped;
}

/**
 * The `info` a new layer was opened with, as a reopen would present it (scales s0, s1, ...,
 * encoding "raw", each scale's N5 compression); one this format cannot hold is kept as
 * given, so commitInfo (and any read or write) fails with INVALID_METADATA naming the field.
 */
function presentGiven(info: LayerInfo | Record<string, unknown>, url: string): LayerInfo {
  const copy = structuredClone(info) as LayerInfo;
  try {
    const plan = planScales(copy, url);
    return presentPlan(plan, plan.scales.map((_, i) => `s${i}`), typeof copy.type === "string" ? copy.type : "image");
  } catch (e) {
    if (isCloudVolumeError(e, "INVALID_METADATA")) return copy;
    throw e;
  }
}

async function getAttributes(store: KeyValueStore, url: string, key: string, signal?: AbortSignal): Promise<Attributes | undefined> {
  const bytes = await store.get(key, { signal });
  return bytes ? parseAttributes(bytes, url, key) : undefined;
}

/** Read the layer's metadata: a dataset at the root, else a multiscale group of s0, s1, ... */
async function readLayer(store: KeyValueStore, url: string, datasetKey: string, signal?: AbortSignal): Promise<Found> {
  const root = await getAttributes(store, url, ATTRIBUTES, signal);
  if (root && isDatasetAttributes(root)) {
    const ds = parseDataset(root, url, ATTRIBUTES);
    return { layout: "dataset", info: infoOf([ds], [datasetKey], url, {}), ndims: [ds.dimensions.length] };
  }
  const group = root ?? {};
  const datasets: N5Dataset[] = [];
  for (let i = 0; i < MAX_SCALES; i++) {
    const key = `s${i}/${ATTRIBUTES}`;
    const a = await getAttributes(store, url, key, signal);
    if (!a) break;
    if (!isDatasetAttributes(a)) {
      if (i === 0) throw new CloudVolumeError("INVALID_METADATA", `${key} of ${url}: s0 is a group, not a dataset (no dimensions); open the dataset itself`, { url, key });
      break;
    }
    datasets.push(parseDataset(a, url, key));
  }
  if (datasets.length === 0) {
    const what = root ? `${ATTRIBUTES} there describes a group without an s0 dataset` : `no ${ATTRIBUTES} and no s0/${ATTRIBUTES}`;
    throw new CloudVolumeError(
      "NOT_FOUND",
      `no N5 dataset or multiscale group at ${url} (${what}); open a dataset, or a group whose children s0, s1, ... are datasets, or create one by opening with { info } and calling commitInfo()`,
      { url, key: ATTRIBUTES },
    );
  }
  const groupInfo = { base: parseResolution(group, url, ATTRIBUTES), factors: groupFactors(group, url, ATTRIBUTES) };
  return { layout: "group", info: infoOf(datasets, datasets.map((_, i) => `s${i}`), url, groupInfo), ndims: datasets.map((d) => d.dimensions.length) };
}

function infoOf(datasets: N5Dataset[], keys: string[], url: string, group: { base?: Vec3; factors?: Vec3[] }): LayerInfo {
  const first = datasets[0];
  const channels = channelsOf(first);
  datasets.forEach((d, i) => {
    const key = keys.length > 1 || datasets.length > 1 ? `s${i}/${ATTRIBUTES}` : ATTRIBUTES;
    if (d.dataType !== first.dataType) throw new CloudVolumeError("INVALID_METADATA", `${key} of ${url}: dataType is ${d.dataType}, but s0 has ${first.dataType}; the scales of a multiscale group must share one`, { url, key });
    if (channelsOf(d) !== channels) throw new CloudVolumeError("INVALID_METADATA", `${key} of ${url}: ${channelsOf(d)} channel(s) (dimensions[3]), but s0 has ${channels}`, { url, key });
  });
  return {
    type: "image",
    data_type: first.dataType,
    num_channels: channels,
    scales: datasets.map((d, i) => scaleOf(d, keys[i], resolutionOf(d, group, i))),
  };
}

/** The N5 format driver: what the plugin's load() gives the chunk engine. */
export const n5Driver: FormatDriver = {
  name: FORMAT_NAME,
  open: (ctx, url, opts) => N5Layer.open(ctx, url, opts),
};
