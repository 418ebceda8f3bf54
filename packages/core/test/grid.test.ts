import { describe, expect, it } from "vitest";
import { Bbox, type Vec3 } from "../src/bbox.js";
import { chunkIndexOf, chunksInRegion, gridShape } from "../src/grid.js";
import { rng } from "./helpers.js";

const chunk: Vec3 = [16, 16, 8];
const off: Vec3 = [3, 5, 7];
// A 50x45x20 volume at voxel offset (3,5,7).
const bounds = new Bbox([3, 5, 7], [53, 50, 27]);

describe("chunksInRegion", () => {
  it("yields every chunk of the full region, edge chunks truncated, x fastest", () => {
    const chunks = [...chunksInRegion(bounds, chunk, off, bounds)].map((b) => b.toArray());
    expect(chunks.length).toBe(4 * 3 * 3);
    // Independent expectation: grid lines per axis, last cell cut at the bound.
    const xs = [[3, 19], [19, 35], [35, 51], [51, 53]];
    const ys = [[5, 21], [21, 37], [37, 50]];
    const zs = [[7, 15], [15, 23], [23, 27]];
    const expected: number[][] = [];
    for (const z of zs) for (const y of ys) for (const x of xs) expected.push([x[0], y[0], z[0], x[1], y[1], z[1]]);
    expect(chunks).toEqual(expected);
  });

  it("yields only the chunks overlapping a partial region (whole chunks, not cut to the region)", () => {
    const region = new Bbox([20, 5, 7], [36, 21, 15]);
    const chunks = [...chunksInRegion(region, chunk, off, bounds)].map((b) => b.toArray());
    expect(chunks).toEqual([
      [19, 5, 7, 35, 21, 15],
      [35, 5, 7, 51, 21, 15],
    ]);
  });

  it("clips a region that sticks out of the volume", () => {
    const region = new Bbox([-100, -100, -100], [4, 6, 8]);
    expect([...chunksInRegion(region, chunk, off, bounds)].map((b) => b.toArray())).toEqual([[3, 5, 7, 19, 21, 15]]);
    const corner = new Bbox([52, 49, 26], [1000, 1000, 1000]);
    expect([...chunksInRegion(corner, chunk, off, bounds)].map((b) => b.toArray())).toEqual([[51, 37, 23, 53, 50, 27]]);
  });

  it("yields nothing for a region fully outside the volume or empty", () => {
    expect([...chunksInRegion(new Bbox([100, 100, 100], [200, 200, 200]), chunk, off, bounds)]).toEqual([]);
    expect([...chunksInRegion(new Bbox([-50, -50, -50], [3, 5, 7]), chunk, off, bounds)]).toEqual([]);
    expect([...chunksInRegion(new Bbox([53, 5, 7], [60, 50, 27]), chunk, off, bounds)]).toEqual([]);
    expect([...chunksInRegion(new Bbox([10, 10, 10], [10, 20, 20]), chunk, off, bounds)]).toEqual([]);
  });

  it("tiles the region exactly on random volumes (vs a per-voxel reference)", () => {
    const r = rng(21);
    for (let i = 0; i < 60; i++) {
      const c: Vec3 = [r.int(1, 7), r.int(1, 7), r.int(1, 7)];
      const o: Vec3 = [r.int(-10, 10), r.int(-10, 10), r.int(-10, 10)];
      const b = new Bbox(o, [o[0] + r.int(1, 20), o[1] + r.int(1, 20), o[2] + r.int(1, 20)]);
      const rmin = [r.int(-15, 25), r.int(-15, 25), r.int(-15, 25)];
      const region = new Bbox(rmin, [rmin[0] + r.int(0, 20), rmin[1] + r.int(0, 20), rmin[2] + r.int(0, 20)]);
      const chunks = [...chunksInRegion(region, c, o, b)];

      // Reference: the set of grid cells (by index) that contain a voxel of region ∩ bounds.
      const want = new Set<string>();
      for (let z = region.min[2]; z < region.max[2]; z++)
        for (let y = region.min[1]; y < region.max[1]; y++)
          for (let x = region.min[0]; x < region.max[0]; x++) {
            if (x < b.min[0] || y < b.min[1] || z < b.min[2] || x >= b.max[0] || y >= b.max[1] || z >= b.max[2]) continue;
            want.add([Math.floor((x - o[0]) / c[0]), Math.floor((y - o[1]) / c[1]), Math.floor((z - o[2]) / c[2])].join(","));
          }
      const got = chunks.map((ch) => chunkIndexOf(ch.min, c, o).join(","));
      expect(new Set(got).size).toBe(got.length); // no duplicates
      expect(new Set(got)).toEqual(want);
      for (const ch of chunks) {
        // Each chunk is its grid cell cut to bounds.
        const idx = chunkIndexOf(ch.min, c, o);
        const cell = new Bbox(
          [o[0] + idx[0] * c[0], o[1] + idx[1] * c[1], o[2] + idx[2] * c[2]],
          [o[0] + (idx[0] + 1) * c[0], o[1] + (idx[1] + 1) * c[1], o[2] + (idx[2] + 1) * c[2]],
        );
        expect(ch.equals(cell.intersection(b))).toBe(true);
      }
    }
  });
});

describe("gridShape", () => {
  it("rounds partial chunks up", () => {
    expect(gridShape([50, 45, 20], [16, 16, 8])).toEqual([4, 3, 3]);
    expect(gridShape([64, 64, 64], [64, 64, 64])).toEqual([1, 1, 1]);
    expect(gridShape([1, 65, 128], [64, 64, 64])).toEqual([1, 2, 2]);
  });
});

describe("chunkIndexOf", () => {
  it("floors toward negative infinity", () => {
    expect(chunkIndexOf([-1, -16, -17], [16, 16, 16], [0, 0, 0])).toEqual([-1, -1, -2]);
    expect(chunkIndexOf([0, 15, 16], [16, 16, 16], [0, 0, 0])).toEqual([0, 0, 1]);
  });
  it("respects the offset", () => {
    expect(chunkIndexOf([2, 4, 6], chunk, off)).toEqual([-1, -1, -1]);
    expect(chunkIndexOf([3, 5, 7], chunk, off)).toEqual([0, 0, 0]);
    expect(chunkIndexOf([52, 49, 26], chunk, off)).toEqual([3, 2, 2]);
    expect(chunkIndexOf([-13, -11, -1], chunk, off)).toEqual([-1, -1, -1]);
    expect(chunkIndexOf([-14, -12, -2], chunk, off)).toEqual([-2, -2, -2]);
  });
});
