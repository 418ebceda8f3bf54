import {
  CloudVolumeError, isCloudVolumeError, throwIfAborted,
  type Bbox, type ByteCodec, type ShardRef, type ShardedChunks, type Vec3,
} from "@cloudvolume/core";
import type { ShardedImageLayout } from "./image.js";
import type { ShardedStore } from "./reader.js";
import type { ShardingSpec } from "./spec.js";
import { encodeShard } from "./writer.js";

/**
 * A sharded Precomputed scale as the chunk engine's shard adapter (core's ShardedChunks):
 * chunk boxes to compressed Morton ids (sharded.md "Sharded image chunks"), ids to shard
 * files through the ShardedStore, and whole shard files built by encodeShard.
 */
export class PrecomputedShards implements ShardedChunks {
  readonly signature: string;

  constructor(
    readonly spec: ShardingSpec,
    readonly layout: ShardedImageLayout,
    readonly store: ShardedStore,
    private readonly where: { url: string; mip: number; voxelOffset: Vec3; bounds: Bbox; chunkSize: Vec3 },
    private readonly gzip: () => Promise<ByteCodec>,
  ) {
    this.signature = JSON.stringify(spec);
  }

  get brick(): Vec3 | undefined {
    return this.layout.singleBrick ? this.layout.shardShape : undefined;
  }

  locate(chunk: Bbox): { shard: string; id: bigint } {
    const id = this.layout.chunkId(this.layout.gridOf(chunk));
    return { id, shard: this.store.shardKey(id).split("/").pop()! };
  }

  keyOf(shard: string): string {
    return this.store.keyOf(shard);
  }

  shardsTouching(region: Bbox): ShardRef[] {
    const [gmin, gmax] = this.layout.gridRange(region);
    return this.layout.shardsTouching(gmin, gmax).map((s) => ({ shard: s.filename, chunks: s.positions.map((p) => this.layout.chunkBox(p)) }));
  }

  alignmentHint(bbox: Bbox): string {
    const { voxelOffset, bounds, chunkSize } = this.where;
    const shape = this.layout.shardShape;
    const b = this.layout.brickChunks;
    return this.layout.singleBrick
      ? `its shards are ${shape.join("x")} voxels (${b.join("x")} chunks of ${chunkSize.join("x")}) anchored at ${voxelOffset.join(",")} and truncated at the upper bound ${bounds.max.join(",")}; ` +
          `write ${bbox.expandToChunkSize(shape, voxelOffset).clamp(bounds)} or pieces aligned to that grid`
      : `this sharding spec (${this.spec.hash} hash, ${this.spec.shardBits} shard bits) puts chunks from all over the volume into one shard file, so write the whole volume ${bounds}`;
  }

  getMany(ids: readonly bigint[], opts: { signal?: AbortSignal; raw?: boolean } = {}): Promise<Map<bigint, Uint8Array>> {
    return this.store.getMany(ids, opts);
  }

  has(ids: readonly bigint[], opts: { signal?: AbortSignal } = {}): Promise<Set<bigint>> {
    return this.store.has(ids, opts);
  }

  /** Build one shard file (data, then minishard indices, as CloudVolume lays it out) and put it; delete it when empty. */
  async writeShard(shard: string, entries: ReadonlyArray<readonly [bigint, Uint8Array]>, opts: { cacheControl?: string; signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(opts.signal);
    if (entries.length === 0) {
      await this.store.deleteShard(shard, opts.signal);
      return;
    }
    const key = this.store.keyOf(shard);
    const needsGzip = this.spec.dataEncoding === "gzip" || this.spec.minishardIndexEncoding === "gzip";
    let built;
    try {
      built = await encodeShard(this.spec, entries.map(([id, bytes]) => [id, bytes] as [bigint, Uint8Array]), { gzip: needsGzip ? await this.gzip() : undefined });
    } catch (cause) {
      if (isCloudVolumeError(cause)) throw cause;
      throw new CloudVolumeError("ENCODE_FAILED", `cannot build shard file ${key}: ${(cause as Error)?.message ?? cause}`, { url: this.where.url, key, cause });
    }
    if (built.filename !== shard) throw new CloudVolumeError("ENCODE_FAILED", `internal: chunks for ${shard} hashed to ${built.filename}`, { url: this.where.url, key });
    await this.store.putShard(shard, built.data, { cacheControl: opts.cacheControl }, opts.signal);
  }

  putShard(shard: string, bytes: Uint8Array, opts: { cacheControl?: string; signal?: AbortSignal } = {}): Promise<void> {
    return this.store.putShard(shard, bytes, { cacheControl: opts.cacheControl }, opts.signal);
  }

  deleteShard(shard: string, signal?: AbortSignal): Promise<void> {
    return this.store.deleteShard(shard, signal);
  }
}
