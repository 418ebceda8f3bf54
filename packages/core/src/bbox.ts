import { CloudVolumeError } from "./errors.js";

/** An integer (or, for physical boxes, real) 3-vector in x, y, z order. */
export type Vec3 = readonly [number, number, number];

export const vec3 = (x: number, y: number, z: number): Vec3 => [x, y, z];
export const vadd = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const vsub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const vmul = (a: Vec3, b: Vec3): Vec3 => [a[0] * b[0], a[1] * b[1], a[2] * b[2]];
export const vmin = (a: Vec3, b: Vec3): Vec3 => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.min(a[2], b[2])];
export const vmax = (a: Vec3, b: Vec3): Vec3 => [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.max(a[2], b[2])];
export const vequal = (a: Vec3, b: Vec3): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
export const vprod = (a: Vec3): number => a[0] * a[1] * a[2];

/** Parse "x,y,z" (or an array) into a Vec3, naming `what` on failure. */
export function toVec3(value: unknown, what = "vector"): Vec3 {
  let parts: unknown[];
  if (typeof value === "string") parts = value.split(",").map((s) => (s.trim() === "" ? NaN : Number(s)));
  else if (Array.isArray(value)) parts = value;
  else throw new CloudVolumeError("INVALID_ARGUMENT", `${what} must be three numbers, got ${JSON.stringify(value)}`);
  if (parts.length !== 3 || !parts.every((p) => typeof p === "number" && Number.isFinite(p))) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${what} must be three finite numbers, got ${JSON.stringify(value)}`);
  }
  return [parts[0] as number, parts[1] as number, parts[2] as number];
}

/** Anything a caller may pass where a box is expected. */
export type BboxLike = Bbox | readonly number[] | { min: readonly number[]; max: readonly number[] } | string;

/**
 * An axis-aligned box [min, max) in voxel (or physical) coordinates. Immutable:
 * every operation returns a new box.
 */
export class Bbox {
  readonly min: Vec3;
  readonly max: Vec3;

  constructor(min: Vec3 | readonly number[], max: Vec3 | readonly number[]) {
    this.min = [min[0], min[1], min[2]];
    this.max = [max[0], max[1], max[2]];
  }

  static from(like: BboxLike, what = "bbox"): Bbox {
    if (like instanceof Bbox) return like;
    if (typeof like === "string") {
      // Accept both "x0,y0,z0,x1,y1,z1" and the file-name form "x0-x1_y0-y1_z0-z1".
      if (like.includes("_")) return Bbox.fromFilename(like);
      return Bbox.from(like.split(",").map((s) => (s.trim() === "" ? NaN : Number(s))), what);
    }
    if (Array.isArray(like)) {
      if (like.length !== 6 || !like.every((v) => typeof v === "number" && Number.isFinite(v))) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `${what} must be six finite numbers [x0,y0,z0,x1,y1,z1], got ${JSON.stringify(like)}`);
      }
      return new Bbox([like[0], like[1], like[2]], [like[3], like[4], like[5]]);
    }
    const o = like as { min?: readonly number[]; max?: readonly number[] };
    if (o && Array.isArray(o.min) && Array.isArray(o.max)) return new Bbox(toVec3(o.min, `${what}.min`), toVec3(o.max, `${what}.max`));
    throw new CloudVolumeError("INVALID_ARGUMENT", `${what} must be a Bbox, [x0,y0,z0,x1,y1,z1], {min,max} or "x0-x1_y0-y1_z0-z1"`);
  }

  /** From Python-style slices: [start, stop) per axis. */
  static fromSlices(slices: readonly (readonly [number, number])[]): Bbox {
    if (slices.length < 3) throw new CloudVolumeError("INVALID_ARGUMENT", "fromSlices needs three [start, stop) pairs");
    return new Bbox([slices[0][0], slices[1][0], slices[2][0]], [slices[0][1], slices[1][1], slices[2][1]]);
  }

  /** Parse the Precomputed chunk file-name form `x0-x1_y0-y1_z0-z1` (negative numbers allowed). */
  static fromFilename(name: string): Bbox {
    const base = name.slice(name.lastIndexOf("/") + 1);
    const m = /^(-?\d+)-(-?\d+)_(-?\d+)-(-?\d+)_(-?\d+)-(-?\d+)/.exec(base);
    if (!m) throw new CloudVolumeError("INVALID_ARGUMENT", `not a chunk file name of the form x0-x1_y0-y1_z0-z1: ${JSON.stringify(name)}`);
    const n = m.slice(1).map(Number);
    return new Bbox([n[0], n[2], n[4]], [n[1], n[3], n[5]]);
  }

  toFilename(): string {
    const [a, b] = [this.min, this.max];
    return `${a[0]}-${b[0]}_${a[1]}-${b[1]}_${a[2]}-${b[2]}`;
  }

  toString(): string {
    return `Bbox(${this.min.join(",")}, ${this.max.join(",")})`;
  }

  toArray(): [number, number, number, number, number, number] {
    return [this.min[0], this.min[1], this.min[2], this.max[0], this.max[1], this.max[2]];
  }

  size(): Vec3 {
    return vsub(this.max, this.min);
  }

  volume(): number {
    const s = this.size();
    return s[0] <= 0 || s[1] <= 0 || s[2] <= 0 ? 0 : s[0] * s[1] * s[2];
  }

  isEmpty(): boolean {
    return this.max[0] <= this.min[0] || this.max[1] <= this.min[1] || this.max[2] <= this.min[2];
  }

  equals(o: Bbox): boolean {
    return vequal(this.min, o.min) && vequal(this.max, o.max);
  }

  /** Overlap of two boxes; may be empty (check with isEmpty). */
  intersection(o: Bbox): Bbox {
    return new Bbox(vmax(this.min, o.min), vmin(this.max, o.max));
  }

  intersects(o: Bbox): boolean {
    return !this.intersection(o).isEmpty();
  }

  /** True when `o` lies entirely inside this box. */
  containsBbox(o: Bbox): boolean {
    return (
      o.min[0] >= this.min[0] && o.min[1] >= this.min[1] && o.min[2] >= this.min[2] &&
      o.max[0] <= this.max[0] && o.max[1] <= this.max[1] && o.max[2] <= this.max[2]
    );
  }

  containsPoint(p: Vec3): boolean {
    return (
      p[0] >= this.min[0] && p[1] >= this.min[1] && p[2] >= this.min[2] &&
      p[0] < this.max[0] && p[1] < this.max[1] && p[2] < this.max[2]
    );
  }

  /** Clamp to `bounds` (the result never extends past them; may become empty). */
  clamp(bounds: Bbox): Bbox {
    const min = vmin(vmax(this.min, bounds.min), bounds.max);
    const max = vmax(vmin(this.max, bounds.max), min);
    return new Bbox(min, max);
  }

  translate(d: Vec3): Bbox {
    return new Bbox(vadd(this.min, d), vadd(this.max, d));
  }

  /** Grow outward to the chunk grid anchored at `offset` (min floors, max ceils). */
  expandToChunkSize(chunkSize: Vec3, offset: Vec3 = [0, 0, 0]): Bbox {
    const min = [0, 0, 0];
    const max = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      min[i] = Math.floor((this.min[i] - offset[i]) / chunkSize[i]) * chunkSize[i] + offset[i];
      max[i] = Math.ceil((this.max[i] - offset[i]) / chunkSize[i]) * chunkSize[i] + offset[i];
    }
    return new Bbox(min, max);
  }

  /** Shrink inward to the chunk grid anchored at `offset` (min ceils, max floors); may be empty. */
  shrinkToChunkSize(chunkSize: Vec3, offset: Vec3 = [0, 0, 0]): Bbox {
    const min = [0, 0, 0];
    const max = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      min[i] = Math.ceil((this.min[i] - offset[i]) / chunkSize[i]) * chunkSize[i] + offset[i];
      max[i] = Math.floor((this.max[i] - offset[i]) / chunkSize[i]) * chunkSize[i] + offset[i];
      if (max[i] < min[i]) max[i] = min[i];
    }
    return new Bbox(min, max);
  }

  /** True when the box lies on the chunk grid, treating the volume's upper bound as a grid line. */
  isAlignedTo(chunkSize: Vec3, offset: Vec3, bounds?: Bbox): boolean {
    for (let i = 0; i < 3; i++) {
      if ((this.min[i] - offset[i]) % chunkSize[i] !== 0) return false;
      const onGrid = (this.max[i] - offset[i]) % chunkSize[i] === 0;
      const atEdge = bounds !== undefined && this.max[i] === bounds.max[i];
      if (!onGrid && !atEdge) return false;
    }
    return true;
  }

  /**
   * Convert between mip levels. `factor` = resolution(to) / resolution(from) per axis.
   * Min floors and max ceils so the converted box always covers the original.
   */
  rescale(factor: Vec3): Bbox {
    const eps = 1e-9;
    const min = [0, 0, 0];
    const max = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      // `+ 0` turns the -0 that Math.ceil(-0.5) yields into 0 (Object.is / toEqual / inspect care).
      min[i] = Math.floor(this.min[i] / factor[i] + eps) + 0;
      max[i] = Math.ceil(this.max[i] / factor[i] - eps) + 0;
    }
    return new Bbox(min, max);
  }
}
