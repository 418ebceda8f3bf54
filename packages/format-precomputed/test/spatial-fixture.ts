import { gzipSync } from "node:zlib";

/**
 * A hand-built spatial index (written from the spec and CloudVolume's rules, not by
 * our writer): voxel bounds [10,5,2]-[110,85,32] at resolution [4,4,40] are the
 * physical bounds [40,20,80]-[440,340,1280]; chunk_size [128,128,512] (physical)
 * makes a 4x3x3 grid of files anchored at [40,20,80], the last cell of each axis
 * cut at the bounds. Every label gets a random physical box inside the bounds and is
 * written into each file whose cell its box overlaps (with positive volume),
 * clipped to that cell, as igneous's tasks do.
 */

export const BOUNDS = { min: [10, 5, 2], max: [110, 85, 32] } as const;
export const RESOLUTION = [4, 4, 40] as const;
export const CHUNK = [128, 128, 512] as const;
export const PMIN = [40, 20, 80];
export const PMAX = [440, 340, 1280];

export type Box = [number, number, number, number, number, number];

import { seededRandom as rng } from "@cloudvolume/testing";
export { rng };

/** The grid cells: [name, cell box]. */
export function cells(): Array<[string, Box]> {
  const out: Array<[string, Box]> = [];
  for (let z = PMIN[2]; z < PMAX[2]; z += CHUNK[2]) {
    for (let y = PMIN[1]; y < PMAX[1]; y += CHUNK[1]) {
      for (let x = PMIN[0]; x < PMAX[0]; x += CHUNK[0]) {
        const b: Box = [x, y, z, Math.min(x + CHUNK[0], PMAX[0]), Math.min(y + CHUNK[1], PMAX[1]), Math.min(z + CHUNK[2], PMAX[2])];
        out.push([`${b[0]}-${b[3]}_${b[1]}-${b[4]}_${b[2]}-${b[5]}.spatial`, b]);
      }
    }
  }
  return out;
}

export interface SpatialData {
  /** label -> its whole physical box. */
  labels: Map<bigint, Box>;
  /** file base name -> JSON text. */
  files: Map<string, string>;
}

export const BIG_LABELS = [(1n << 53n) + 1n, (1n << 63n) + 5n, (1n << 64n) - 1n, 9007199254740993n * 3n];

export function buildSpatialData(seed = 1, count = 60): SpatialData {
  const r = rng(seed);
  const labels = new Map<bigint, Box>();
  const ids: bigint[] = [...BIG_LABELS];
  while (ids.length < count) ids.push(BigInt(1 + Math.floor(r() * 100000)));
  for (const id of ids) {
    const b = [0, 0, 0, 0, 0, 0] as Box;
    for (let i = 0; i < 3; i++) {
      const a = PMIN[i] + Math.floor(r() * (PMAX[i] - PMIN[i]));
      const c = PMIN[i] + Math.floor(r() * (PMAX[i] - PMIN[i]));
      b[i] = Math.min(a, c);
      b[i + 3] = Math.max(a, c) + 1;
    }
    labels.set(id, b);
  }
  // A label in a corner, only reached by the whole-bounds fast path of a query that misses it.
  labels.set(7n, [40, 20, 80, 41, 21, 81]);
  const files = new Map<string, string>();
  for (const [name, cell] of cells()) {
    const parts: string[] = [];
    for (const [id, b] of labels) {
      const clip: Box = [
        Math.max(b[0], cell[0]), Math.max(b[1], cell[1]), Math.max(b[2], cell[2]),
        Math.min(b[3], cell[3]), Math.min(b[4], cell[4]), Math.min(b[5], cell[5]),
      ];
      if (clip[0] < clip[3] && clip[1] < clip[4] && clip[2] < clip[5]) parts.push(`"${id}": [${clip.join(", ")}]`);
    }
    files.set(name, `{${parts.join(", ")}}`);
  }
  return { labels, files };
}

/** How a file is stored: plain, gzip with a transfer encoding (.gz), or gzip bytes under the plain name. */
export function storage(i: number): "plain" | "encoded" | "magic" {
  return (["plain", "encoded", "magic"] as const)[i % 3];
}

export function gz(text: string): Uint8Array {
  return new Uint8Array(gzipSync(Buffer.from(text)));
}

/** Labels whose box strictly intersects `q` (cropped to the bounds), or every label when the grid-grown box covers the bounds. */
export function bruteForce(data: SpatialData, q: Box): bigint[] {
  const c: Box = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++) {
    c[i] = Math.min(Math.max(q[i], PMIN[i]), PMAX[i]);
    c[i + 3] = Math.max(Math.min(q[i + 3], PMAX[i]), c[i]);
  }
  let whole = true;
  let empty = false;
  for (let i = 0; i < 3; i++) {
    const lo = Math.floor((c[i] - PMIN[i]) / CHUNK[i]) * CHUNK[i] + PMIN[i];
    const hi = Math.ceil((c[i + 3] - PMIN[i]) / CHUNK[i]) * CHUNK[i] + PMIN[i];
    if (lo > PMIN[i] || hi < PMAX[i]) whole = false;
    if (hi - lo < 1) empty = true;
  }
  if (empty) return [];
  const out: bigint[] = [];
  for (const [id, b] of data.labels) {
    if (whole || (b[0] < c[3] && b[1] < c[4] && b[2] < c[5] && b[3] > c[0] && b[4] > c[1] && b[5] > c[2])) out.push(id);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
