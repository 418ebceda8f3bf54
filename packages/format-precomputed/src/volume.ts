import { ChunkedVolume, type VolumeOptions } from "@cloudvolume/chunks";
import type { Context, Vec3 } from "@cloudvolume/core";
import type { PrecomputedInfo } from "./info.js";
import { PrecomputedLayer, type PrecomputedDriverOptions } from "./layer.js";
import type { Provenance } from "./provenance.js";
import type { ShardedImageLayout } from "./sharding/image.js";
import type { ShardedStore } from "./sharding/reader.js";
import type { ShardingSpec } from "./sharding/spec.js";

/** Options of a Precomputed volume: the chunk engine's (CloudVolume's constructor in camelCase) and the driver's. */
export interface PrecomputedOptions extends VolumeOptions, PrecomputedDriverOptions {
  info?: PrecomputedInfo | Record<string, unknown>;
}

/**
 * A Precomputed image or segmentation layer: the chunk engine (@cloudvolume/chunks) over
 * the Precomputed driver (layer.ts), with the format's own extras (provenance, sharding
 * parameters) at hand. Everything that moves voxels is the engine's.
 */
export class PrecomputedVolume extends ChunkedVolume<PrecomputedLayer> {
  static override async open(ctx: Context, url: string, options: PrecomputedOptions & { [driverOption: string]: unknown } = {}): Promise<PrecomputedVolume> {
    const parsed = ctx.parse(url);
    const layer = await PrecomputedLayer.open(ctx, parsed, { ...options });
    return ChunkedVolume.attach(new PrecomputedVolume(ctx, layer, options), !options.info);
  }

  get provenance(): Provenance { return this.layer.provenance; }
  set provenance(p: Provenance) { this.layer.provenance = p; }
  /** True when the layer was reached through an info `redirect`: writes are refused. */
  get redirected(): boolean { return this.layer.redirected; }

  async commitProvenance(): Promise<void> {
    this.assertWritable("provenance");
    await this.layer.commitProvenance();
  }
  refreshProvenance(): Promise<Provenance> { return this.layer.refreshProvenance(); }
  override refreshInfo(): Promise<PrecomputedInfo> { return this.layer.refreshInfo(this.options.signal); }

  /** The parsed sharding specification of a sharded scale. */
  shardingSpec(mip?: number | Vec3): ShardingSpec { return this.layer.shards(this.mipIndex(mip)).spec; }
  /**
   * Voxel shape of one shard of a sharded scale (CloudVolume's shard_shape): uploads
   * must cover whole shards of this shape, anchored at voxel_offset and truncated at
   * the volume's upper bound.
   */
  shardShape(mip?: number | Vec3): Vec3 { return this.layer.shards(this.mipIndex(mip)).layout.shardShape; }
  /** The uint64-keyed store over a sharded scale's shard files (chunk id = compressed Morton code). */
  shardedStore(mip?: number | Vec3): ShardedStore { return this.layer.shards(this.mipIndex(mip)).store; }
  /** The sharded layout of a scale: chunk ids and which chunks share a shard file. */
  shardLayout(mip?: number | Vec3): ShardedImageLayout { return this.layer.shards(this.mipIndex(mip)).layout; }
}
