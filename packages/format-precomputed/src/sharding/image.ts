import { Bbox, CloudVolumeError, gridShape, type Vec3 } from "@cloudvolume/core";
import { compressedMortonCode, lowBitsPerAxis, mortonBits } from "./morton.js";
import { shardLocation, type ShardingSpec } from "./spec.js";

/** One shard file of a sharded image scale and every chunk that belongs in it. */
export interface ImageShard {
  filename: string;
  shard: bigint;
  /** Grid positions of the shard's chunks that lie in the volume, x fastest, then y, then z. */
  positions: Vec3[];
}

/**
 * The geometry of one sharded image scale: chunk grid (anchored at voxel_offset), chunk
 * ids (compressed Morton codes, volume.md "Sharded chunk storage") and which chunks
 * share a shard file. Pure arithmetic: no I/O.
 */
export class ShardedImageLayout {
  readonly grid: Vec3;
  readonly bits: Vec3;
  /** The brick of chunks sharing every Morton bit above preshift_bits + minishard_bits. */
  readonly brickChunks: Vec3;
  /**
   * True when every shard file holds exactly one brick: identity hash and no Morton bits
   * left over above preshift + minishard + shard bits. Then shards are boxes of
   * `shardShape` voxels anchored at voxel_offset, as CloudVolume writes them; otherwise a
   * shard gathers several bricks (or, with murmurhash, scattered chunks).
   */
  readonly singleBrick: boolean;

  constructor(
    readonly spec: ShardingSpec,
    readonly size: Vec3,
    readonly chunkSize: Vec3,
    readonly offset: Vec3,
  ) {
    this.grid = gridShape(size, chunkSize);
    this.bits = mortonBits(this.grid);
    const total = this.bits[0] + this.bits[1] + this.bits[2];
    if (total > 64) {
      throw new CloudVolumeError("INVALID_METADATA", `a chunk grid of ${this.grid.join("x")} needs ${total} bits of compressed Morton code, more than 64; use larger chunks`);
    }
    const owned = lowBitsPerAxis(this.grid, spec.preshiftBits + spec.minishardBits);
    this.brickChunks = [2 ** owned[0], 2 ** owned[1], 2 ** owned[2]];
    this.singleBrick = spec.hash === "identity" && total <= spec.preshiftBits + spec.minishardBits + spec.shardBits;
  }

  get bounds(): Bbox {
    const o = this.offset;
    return new Bbox(o, [o[0] + this.size[0], o[1] + this.size[1], o[2] + this.size[2]]);
  }

  /** The shard brick in voxels (image_shard_shape_from_spec); a shard may extend past the volume. */
  get shardShape(): Vec3 {
    return [this.brickChunks[0] * this.chunkSize[0], this.brickChunks[1] * this.chunkSize[1], this.brickChunks[2] * this.chunkSize[2]];
  }

  gridOf(chunk: Bbox): Vec3 {
    return [
      Math.floor((chunk.min[0] - this.offset[0]) / this.chunkSize[0]),
      Math.floor((chunk.min[1] - this.offset[1]) / this.chunkSize[1]),
      Math.floor((chunk.min[2] - this.offset[2]) / this.chunkSize[2]),
    ];
  }

  /** The voxel box of grid cell `g`, truncated at the volume's upper edge (volume.md). */
  chunkBox(g: Vec3): Bbox {
    const min: Vec3 = [this.offset[0] + g[0] * this.chunkSize[0], this.offset[1] + g[1] * this.chunkSize[1], this.offset[2] + g[2] * this.chunkSize[2]];
    return new Bbox(min, [min[0] + this.chunkSize[0], min[1] + this.chunkSize[1], min[2] + this.chunkSize[2]]).clamp(this.bounds);
  }

  chunkId(g: Vec3): bigint {
    return compressedMortonCode(g, this.grid);
  }

  /** Every shard with at least one chunk in grid box [gmin, gmax), with all of its chunks. */
  shardsTouching(gmin: Vec3, gmax: Vec3): ImageShard[] {
    const lo: Vec3 = [Math.max(0, gmin[0]), Math.max(0, gmin[1]), Math.max(0, gmin[2])];
    const hi: Vec3 = [Math.min(this.grid[0], gmax[0]), Math.min(this.grid[1], gmax[1]), Math.min(this.grid[2], gmax[2])];
    if (hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]) return [];
    if (this.singleBrick) {
      const b = this.brickChunks;
      const out: ImageShard[] = [];
      for (let bz = Math.floor(lo[2] / b[2]); bz * b[2] < hi[2]; bz++) {
        for (let by = Math.floor(lo[1] / b[1]); by * b[1] < hi[1]; by++) {
          for (let bx = Math.floor(lo[0] / b[0]); bx * b[0] < hi[0]; bx++) {
            const positions: Vec3[] = [];
            for (let z = bz * b[2]; z < Math.min((bz + 1) * b[2], this.grid[2]); z++) {
              for (let y = by * b[1]; y < Math.min((by + 1) * b[1], this.grid[1]); y++) {
                for (let x = bx * b[0]; x < Math.min((bx + 1) * b[0], this.grid[0]); x++) positions.push([x, y, z]);
              }
            }
            const loc = shardLocation(this.spec, this.chunkId(positions[0]));
            out.push({ filename: loc.filename, shard: loc.shard, positions });
          }
        }
      }
      return out;
    }
    // General case: group the whole grid by shard file (x fastest), keep the touched ones.
    const byFile = new Map<string, ImageShard>();
    const touched = new Set<string>();
    for (let z = 0; z < this.grid[2]; z++) {
      for (let y = 0; y < this.grid[1]; y++) {
        for (let x = 0; x < this.grid[0]; x++) {
          const loc = shardLocation(this.spec, this.chunkId([x, y, z]));
          let s = byFile.get(loc.filename);
          if (!s) byFile.set(loc.filename, (s = { filename: loc.filename, shard: loc.shard, positions: [] }));
          s.positions.push([x, y, z]);
          if (x >= lo[0] && x < hi[0] && y >= lo[1] && y < hi[1] && z >= lo[2] && z < hi[2]) touched.add(loc.filename);
        }
      }
    }
    return [...byFile.values()].filter((s) => touched.has(s.filename));
  }

  /** Grid box [gmin, gmax) of the chunks overlapping a voxel box. */
  gridRange(box: Bbox): [Vec3, Vec3] {
    const c = this.chunkSize;
    const o = this.offset;
    const gmin: Vec3 = [Math.floor((box.min[0] - o[0]) / c[0]), Math.floor((box.min[1] - o[1]) / c[1]), Math.floor((box.min[2] - o[2]) / c[2])];
    const gmax: Vec3 = [Math.ceil((box.max[0] - o[0]) / c[0]), Math.ceil((box.max[1] - o[1]) / c[1]), Math.ceil((box.max[2] - o[2]) / c[2])];
    return [gmin, gmax];
  }

  /** The voxel box a shard's chunks cover when it is one brick (clamped to the volume). */
  shardBox(s: ImageShard): Bbox {
    let box = this.chunkBox(s.positions[0]);
    for (const p of s.positions) {
      const c = this.chunkBox(p);
      box = new Bbox([Math.min(box.min[0], c.min[0]), Math.min(box.min[1], c.min[1]), Math.min(box.min[2], c.min[2])], [Math.max(box.max[0], c.max[0]), Math.max(box.max[1], c.max[1]), Math.max(box.max[2], c.max[2])]);
    }
    return box;
  }
}
