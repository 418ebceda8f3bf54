import { Bbox, type Vec3 } from "./bbox.js";

/**
 * Iterate the chunks of a grid anchored at `offset` with `chunkSize` that overlap
 * `region`, each truncated to `bounds` (Precomputed edge chunks are truncated, not
 * padded: volume.md "Chunk grid"). Order: x fastest, then y, then z.
 */
export function* chunksInRegion(region: Bbox, chunkSize: Vec3, offset: Vec3, bounds: Bbox): Generator<Bbox> {
  const r = region.clamp(bounds);
  if (r.isEmpty()) return;
  const g = r.expandToChunkSize(chunkSize, offset);
  for (let z = g.min[2]; z < g.max[2]; z += chunkSize[2]) {
    for (let y = g.min[1]; y < g.max[1]; y += chunkSize[1]) {
      for (let x = g.min[0]; x < g.max[0]; x += chunkSize[0]) {
        const c = new Bbox([x, y, z], [x + chunkSize[0], y + chunkSize[1], z + chunkSize[2]]).clamp(bounds);
        if (!c.isEmpty()) yield c;
      }
    }
  }
}

/** Grid dimensions (number of chunks per axis) of a volume. */
export function gridShape(size: Vec3, chunkSize: Vec3): Vec3 {
  return [Math.ceil(size[0] / chunkSize[0]), Math.ceil(size[1] / chunkSize[1]), Math.ceil(size[2] / chunkSize[2])];
}

/** Grid position of the chunk containing voxel `p`. */
export function chunkIndexOf(p: Vec3, chunkSize: Vec3, offset: Vec3): Vec3 {
  return [
    Math.floor((p[0] - offset[0]) / chunkSize[0]),
    Math.floor((p[1] - offset[1]) / chunkSize[1]),
    Math.floor((p[2] - offset[2]) / chunkSize[2]),
  ];
}
