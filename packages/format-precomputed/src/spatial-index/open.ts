import { CloudVolumeError, joinKey, withRetry } from "@cloudvolume/core";
import type { ChunkedVolume } from "@cloudvolume/chunks";
import type { PrecomputedLayer } from "../layer.js";

type PrecomputedVolume = ChunkedVolume<PrecomputedLayer>;
import { SpatialIndex, type SpatialIndexDb, type SpatialIndexInfo } from "./spatial-index.js";

export type SpatialIndexKind = "mesh" | "skeleton";

export interface OpenSpatialIndexOptions {
  /** Mip whose bounds (and, without spatial_index.resolution, resolution) the index uses. Default: the volume's mip. */
  mip?: number;
  /** Answer from this database (see @cloudvolume/spatial-index-sqlite). */
  db?: SpatialIndexDb;
  signal?: AbortSignal;
}

/**
 * The directory of a layer's meshes or skeletons: info.mesh / info.skeletons,
 * else CloudVolume's defaults "mesh" / "skeletons".
 */
export function spatialIndexDir(vol: PrecomputedVolume, kind: SpatialIndexKind): string {
  const dir = kind === "mesh" ? vol.info.mesh : vol.info.skeletons;
  return typeof dir === "string" && dir !== "" ? dir : kind === "mesh" ? "mesh" : "skeletons";
}

/**
 * The spatial index of a layer's meshes or skeletons, from `<dir>/info`'s
 * `spatial_index` (CloudVolume: vol.mesh.spatial_index / vol.skeleton.spatial_index).
 * Undefined when that info is missing or has no spatial_index.
 */
export async function openSpatialIndex(vol: PrecomputedVolume, kind: SpatialIndexKind, opts: OpenSpatialIndexOptions = {}): Promise<SpatialIndex | undefined> {
  if (kind !== "mesh" && kind !== "skeleton") {
    throw new CloudVolumeError("INVALID_ARGUMENT", `spatial index kind must be "mesh" or "skeleton", got ${JSON.stringify(kind)}`);
  }
  const dir = spatialIndexDir(vol, kind);
  const key = joinKey(dir, "info");
  const bytes = await withRetry(() => vol.store.get(key, { signal: opts.signal }), vol.ctx.retry, opts.signal);
  if (!bytes) return undefined;
  let info: { spatial_index?: SpatialIndexInfo | null };
  try {
    info = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new CloudVolumeError("DECODE_FAILED", `${key} is not valid JSON: ${(cause as Error).message}`, { key, url: vol.url, cause });
  }
  const si = info?.spatial_index;
  if (!si) return undefined;
  if (typeof si !== "object" || !Array.isArray(si.chunk_size)) {
    throw new CloudVolumeError("INVALID_METADATA", `${key}: spatial_index must be {chunk_size: [x,y,z], resolution?: [x,y,z]}, got ${JSON.stringify(si)}`, { key, url: vol.url });
  }
  const mip = opts.mip ?? vol.mip;
  return new SpatialIndex({
    store: vol.store,
    dir,
    bounds: vol.bounds(mip),
    resolution: si.resolution ?? vol.resolution(mip),
    chunkSize: si.chunk_size,
    decode: async (data, encoding, k) => {
      const codec = await vol.ctx.compression(encoding);
      return codec ? codec.decode(data, { key: k }) : data;
    },
    concurrency: vol.ctx.concurrencyOf(vol.parsed.protocol),
    retry: vol.ctx.retry,
    db: opts.db,
    url: vol.url,
  });
}
