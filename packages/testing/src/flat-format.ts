import {
  CloudVolumeError, serializeJson,
  type Bbox, type Context, type ChunkPipeline, type FormatCapabilities, type FormatDriver, type FormatLayer, type FormatPlugin, type KeyValueStore,
  type LayerInfo, type ParsedUrl,
} from "@cloudvolume/core";

/*
 * "flat": the smallest format there is, written through the core contract for the
 * engine's and the facade's tests. Metadata is the LayerInfo itself in `flat.json`, chunks
 * are `m<mip>/<x0>_<y0>_<z0>` through the raw codec, edge chunks are padded (as zarr and
 * n5 store them) unless told otherwise, and it has no sharding, locks, meshes or skeletons.
 */

export interface FlatSettings {
  fill?: number;
  edge?: "truncated" | "padded";
  capabilities?: Partial<FormatCapabilities>;
  readOnlyReason?: string;
  /** Pipeline signature (two layers with equal ones copy chunk bytes as stored). */
  signature?: string;
}

export class FlatLayer implements FormatLayer {
  readonly format = "flat";
  readonly capabilities: FormatCapabilities;
  constructor(
    private readonly ctx: Context, readonly parsed: ParsedUrl, public store: KeyValueStore, public info: LayerInfo, private readonly s: FlatSettings,
  ) {
    this.capabilities = { write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false, ...s.capabilities };
  }
  get url(): string { return `flat://${this.parsed.storageUrl}`; }
  chunkKey(chunk: Bbox, mip: number): string { return `m${mip}/${chunk.min.join("_")}`; }
  chunkPrefix(mip: number): string { return `m${mip}/`; }
  async pipeline(): Promise<ChunkPipeline> {
    return { codec: await this.ctx.codec("raw"), params: {}, signature: this.s.signature ?? "flat raw", edgeChunks: this.s.edge ?? "padded" };
  }
  fillValue(): number { return this.s.fill ?? 0; }
  readOnlyReason(): string | undefined { return this.s.readOnlyReason; }
  async commitInfo(): Promise<void> { await this.store.put!("flat.json", new TextEncoder().encode(serializeJson(this.info))); }
  async refreshInfo(): Promise<LayerInfo> {
    const bytes = await this.store.get("flat.json");
    if (!bytes) throw new CloudVolumeError("NOT_FOUND", `no flat.json at ${this.url}`, { url: this.url, key: "flat.json" });
    return (this.info = JSON.parse(new TextDecoder().decode(bytes)) as LayerInfo);
  }
}

export function flatFormat(settings: FlatSettings = {}): FormatPlugin {
  const driver: FormatDriver = {
    name: "flat",
    async open(ctx, url, opts) {
      const store = await ctx.storage(url);
      const layer = new FlatLayer(ctx, url, store, (opts.info as LayerInfo) ?? ({} as LayerInfo), settings);
      if (!opts.info) await layer.refreshInfo();
      return layer;
    },
  };
  return { kind: "format", names: ["flat"], package: "@test/flat", load: async () => driver };
}
