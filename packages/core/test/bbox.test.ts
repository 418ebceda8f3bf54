import { describe, expect, it } from "vitest";
import { Bbox, toVec3, type Vec3 } from "../src/bbox.js";
import { CloudVolumeError } from "../src/errors.js";
import { expectCode, rng } from "./helpers.js";

const arr = (b: Bbox) => b.toArray();

/** Largest grid line <= v on the grid {off + k*c}, found by stepping (independent of floor/ceil math). */
function gridLineBelow(v: number, c: number, off: number): number {
  let g = off;
  while (g > v) g -= c;
  while (g + c <= v) g += c;
  return g;
}
/** Smallest grid line >= v. */
function gridLineAbove(v: number, c: number, off: number): number {
  let g = off;
  while (g < v) g += c;
  while (g - c >= v) g -= c;
  return g;
}

describe("Bbox.from", () => {
  it("accepts six-number arrays", () => {
    expect(arr(Bbox.from([1, 2, 3, 4, 5, 6]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(arr(Bbox.from([-3, -2, -1, 0, 0, 0]))).toEqual([-3, -2, -1, 0, 0, 0]);
  });

  it("returns a Bbox unchanged", () => {
    const b = new Bbox([0, 0, 0], [1, 1, 1]);
    expect(Bbox.from(b)).toBe(b);
  });

  it("accepts comma strings, with whitespace and negatives", () => {
    expect(arr(Bbox.from("0,1,2,10,11,12"))).toEqual([0, 1, 2, 10, 11, 12]);
    expect(arr(Bbox.from(" -4, 5 ,6,7,8 , 9"))).toEqual([-4, 5, 6, 7, 8, 9]);
  });

  it("accepts the file-name form", () => {
    const b = Bbox.from("0-64_64-128_10-20");
    expect(b.min).toEqual([0, 64, 10]);
    expect(b.max).toEqual([64, 128, 20]);
  });

  it("accepts file names with negative coordinates including a negative max", () => {
    const b = Bbox.from("-5-3_-10--2_0-4");
    expect(b.min).toEqual([-5, -10, 0]);
    expect(b.max).toEqual([3, -2, 4]);
    const c = Bbox.fromFilename("-20--10_-7--3_-1-0");
    expect(arr(c)).toEqual([-20, -7, -1, -10, -3, 0]);
  });

  it("fromFilename strips directories and tolerates suffixes", () => {
    expect(arr(Bbox.fromFilename("8_8_8/0-64_0-64_0-32.gz"))).toEqual([0, 0, 0, 64, 64, 32]);
    expect(arr(Bbox.fromFilename("a/b/c/-64-0_128-192_7-9"))).toEqual([-64, 128, 7, 0, 192, 9]);
  });

  it("accepts {min, max}", () => {
    expect(arr(Bbox.from({ min: [1, 2, 3], max: [4, 5, 6] }))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("does not alias the caller's arrays", () => {
    const min = [1, 2, 3];
    const b = Bbox.from({ min, max: [4, 5, 6] });
    min[0] = 99;
    expect(b.min[0]).toBe(1);
  });

  const bad: unknown[] = [
    [1, 2, 3],
    [1, 2, 3, 4, 5, 6, 7],
    [1, 2, 3, 4, 5, NaN],
    [1, 2, 3, 4, 5, Infinity],
    [1, 2, 3, 4, 5, "6"],
    "",
    "1,2,3,4,5",
    "1,2,3,,5,6",
    "1,2,3,4,5,x",
    "a_b",
    "0-64_0-64",
    "x0-x1_y0-y1_z0-z1",
    { min: [1, 2], max: [3, 4, 5] },
    { min: [1, 2, 3] },
    { min: [0, 0, 0], max: [1, 1, NaN] },
    null,
    undefined,
    42,
    {},
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input) ?? String(input)} with INVALID_ARGUMENT`, () => {
      const e = expectCode(() => Bbox.from(input as never), "INVALID_ARGUMENT");
      expect(e).toBeInstanceOf(CloudVolumeError);
    });
  }

  it("names the argument in the message", () => {
    const e = expectCode(() => Bbox.from([1, 2], "cutout bbox"), "INVALID_ARGUMENT");
    expect(e.message).toContain("cutout bbox");
  });
});

describe("toVec3", () => {
  it("parses strings and arrays", () => {
    expect(toVec3("1, 2,3")).toEqual([1, 2, 3]);
    expect(toVec3([4, 5, 6])).toEqual([4, 5, 6]);
  });
  it("rejects bad input", () => {
    for (const v of ["1,2", "1,,2", [1, 2, 3, 4], [1, NaN, 2], 7, null]) expectCode(() => toVec3(v, "offset"), "INVALID_ARGUMENT");
  });
});

describe("toFilename", () => {
  it("formats as x0-x1_y0-y1_z0-z1", () => {
    expect(new Bbox([0, 64, -10], [64, 128, -2]).toFilename()).toBe("0-64_64-128_-10--2");
  });

  it("round trips through fromFilename and from(), including negatives", () => {
    const r = rng(1);
    for (let i = 0; i < 500; i++) {
      const min = [r.int(-1000, 1000), r.int(-1000, 1000), r.int(-1000, 1000)];
      const max = [min[0] + r.int(0, 500), min[1] + r.int(-500, 500), min[2] + r.int(0, 50)];
      const b = new Bbox(min, max);
      const name = b.toFilename();
      expect(arr(Bbox.fromFilename(name)), name).toEqual([...min, ...max]);
      expect(arr(Bbox.from(name)), name).toEqual([...min, ...max]);
    }
  });
});

describe("size, volume, isEmpty, equals", () => {
  it("computes size and volume", () => {
    const b = new Bbox([1, 2, 3], [4, 6, 8]);
    expect(b.size()).toEqual([3, 4, 5]);
    expect(b.volume()).toBe(60);
  });
  it("treats zero or negative extents as empty with volume 0", () => {
    expect(new Bbox([0, 0, 0], [0, 5, 5]).isEmpty()).toBe(true);
    expect(new Bbox([0, 0, 0], [5, 5, -1]).isEmpty()).toBe(true);
    expect(new Bbox([0, 0, 0], [5, -1, -1]).volume()).toBe(0);
    expect(new Bbox([0, 0, 0], [1, 1, 1]).isEmpty()).toBe(false);
  });
  it("equals compares both corners", () => {
    expect(new Bbox([0, 0, 0], [1, 2, 3]).equals(new Bbox([0, 0, 0], [1, 2, 3]))).toBe(true);
    expect(new Bbox([0, 0, 0], [1, 2, 3]).equals(new Bbox([0, 0, 0], [1, 2, 4]))).toBe(false);
    expect(new Bbox([0, 0, 1], [1, 2, 3]).equals(new Bbox([0, 0, 0], [1, 2, 3]))).toBe(false);
  });
  it("fromSlices", () => {
    expect(arr(Bbox.fromSlices([[0, 10], [5, 6], [-3, 3]]))).toEqual([0, 5, -3, 10, 6, 3]);
    expectCode(() => Bbox.fromSlices([[0, 1]]), "INVALID_ARGUMENT");
  });
  it("translate", () => {
    expect(arr(new Bbox([0, 1, 2], [3, 4, 5]).translate([10, -1, 0]))).toEqual([10, 0, 2, 13, 3, 5]);
  });
});

describe("intersection / intersects / containsBbox / containsPoint / clamp (vs brute force)", () => {
  const r = rng(7);
  const randBox = () => {
    const min = [r.int(-6, 6), r.int(-6, 6), r.int(-6, 6)];
    return new Bbox(min, [min[0] + r.int(-1, 6), min[1] + r.int(-1, 6), min[2] + r.int(-1, 6)]);
  };
  /** Set of voxels as "x,y,z" strings. */
  const voxels = (b: Bbox) => {
    const s = new Set<string>();
    for (let z = b.min[2]; z < b.max[2]; z++)
      for (let y = b.min[1]; y < b.max[1]; y++) for (let x = b.min[0]; x < b.max[0]; x++) s.add(`${x},${y},${z}`);
    return s;
  };

  it("matches voxel-set semantics on random boxes", () => {
    for (let i = 0; i < 400; i++) {
      const a = randBox();
      const b = randBox();
      const va = voxels(a);
      const vb = voxels(b);
      const both = [...va].filter((v) => vb.has(v));
      const inter = a.intersection(b);
      expect(voxels(inter).size).toBe(both.length);
      for (const v of both) expect(voxels(inter).has(v)).toBe(true);
      expect(inter.isEmpty()).toBe(both.length === 0);
      expect(a.intersects(b)).toBe(both.length > 0);
      expect(inter.volume()).toBe(both.length);

      // containsBbox for non-empty boxes: every voxel of b is in a.
      if (!b.isEmpty() && !a.isEmpty()) {
        expect(a.containsBbox(b)).toBe([...vb].every((v) => va.has(v)));
      }

      // clamp: clamped voxels are exactly b ∩ a; the result lies inside a.
      const c = b.clamp(a);
      expect(voxels(c).size).toBe(both.length);
      if (!a.isEmpty()) {
        for (let k = 0; k < 3; k++) {
          expect(c.min[k]).toBeGreaterThanOrEqual(a.min[k]);
          expect(c.max[k]).toBeLessThanOrEqual(a.max[k]);
          expect(c.max[k]).toBeGreaterThanOrEqual(c.min[k]);
        }
      }

      const p: Vec3 = [r.int(-7, 12), r.int(-7, 12), r.int(-7, 12)];
      expect(a.containsPoint(p)).toBe(va.has(p.join(",")));
    }
  });

  it("clamp examples", () => {
    const bounds = new Bbox([0, 0, 0], [50, 50, 50]);
    expect(arr(new Bbox([-5, 0, 0], [100, 10, 10]).clamp(bounds))).toEqual([0, 0, 0, 50, 10, 10]);
    const above = new Bbox([60, 60, 60], [70, 70, 70]).clamp(bounds);
    expect(above.isEmpty()).toBe(true);
    expect(bounds.containsBbox(above)).toBe(true);
    const below = new Bbox([-10, -10, -10], [-5, -5, -5]).clamp(bounds);
    expect(below.isEmpty()).toBe(true);
    expect(bounds.containsBbox(below)).toBe(true);
  });

  it("containsBbox includes the boundary", () => {
    const a = new Bbox([0, 0, 0], [10, 10, 10]);
    expect(a.containsBbox(a)).toBe(true);
    expect(a.containsBbox(new Bbox([0, 0, 0], [10, 10, 11]))).toBe(false);
    expect(a.containsBbox(new Bbox([-1, 0, 0], [10, 10, 10]))).toBe(false);
  });
});

describe("expandToChunkSize / shrinkToChunkSize", () => {
  const chunk: Vec3 = [16, 16, 8];
  const off: Vec3 = [3, 5, 7];

  it("expands to a grid anchored at the offset", () => {
    expect(arr(new Bbox([4, 6, 8], [20, 22, 16]).expandToChunkSize(chunk, off))).toEqual([3, 5, 7, 35, 37, 23]);
    // Already aligned: unchanged.
    expect(arr(new Bbox([19, 21, 15], [35, 37, 23]).expandToChunkSize(chunk, off))).toEqual([19, 21, 15, 35, 37, 23]);
  });

  it("expands negative coordinates", () => {
    expect(arr(new Bbox([-20, -3, -9], [-1, 0, 1]).expandToChunkSize(chunk, off))).toEqual([-29, -11, -9, 3, 5, 7]);
    expect(arr(new Bbox([-20, -3, -9], [-1, 0, 1]).expandToChunkSize([16, 16, 16]))).toEqual([-32, -16, -16, 0, 0, 16]);
  });

  it("defaults the offset to zero", () => {
    expect(arr(new Bbox([1, 17, 31], [2, 33, 33]).expandToChunkSize([16, 16, 16]))).toEqual([0, 16, 16, 16, 48, 48]);
  });

  it("shrinks to the grid", () => {
    expect(arr(new Bbox([4, 6, 8], [52, 50, 26]).shrinkToChunkSize(chunk, off))).toEqual([19, 21, 15, 51, 37, 23]);
    expect(arr(new Bbox([-29, -11, -10], [4, 6, 8]).shrinkToChunkSize(chunk, off))).toEqual([-29, -11, -9, 3, 5, 7]);
  });

  it("shrinking a box smaller than a chunk gives an empty box (max never below min)", () => {
    const s = new Bbox([4, 6, 8], [10, 10, 10]).shrinkToChunkSize(chunk, off);
    expect(s.isEmpty()).toBe(true);
    for (let k = 0; k < 3; k++) expect(s.max[k]).toBeGreaterThanOrEqual(s.min[k]);
  });

  it("matches a stepping reference on random boxes and grids", () => {
    const r = rng(3);
    for (let i = 0; i < 500; i++) {
      const c: Vec3 = [r.int(1, 20), r.int(1, 20), r.int(1, 20)];
      const o: Vec3 = [r.int(-30, 30), r.int(-30, 30), r.int(-30, 30)];
      const min = [r.int(-100, 100), r.int(-100, 100), r.int(-100, 100)];
      const max = [min[0] + r.int(0, 60), min[1] + r.int(0, 60), min[2] + r.int(0, 60)];
      const b = new Bbox(min, max);
      const e = b.expandToChunkSize(c, o);
      const s = b.shrinkToChunkSize(c, o);
      for (let k = 0; k < 3; k++) {
        expect(e.min[k]).toBe(gridLineBelow(min[k], c[k], o[k]));
        expect(e.max[k]).toBe(gridLineAbove(max[k], c[k], o[k]));
        const smin = gridLineAbove(min[k], c[k], o[k]);
        const smax = Math.max(smin, gridLineBelow(max[k], c[k], o[k]));
        expect(s.min[k]).toBe(smin);
        expect(s.max[k]).toBe(smax);
      }
      expect(e.containsBbox(b)).toBe(true);
      if (!s.isEmpty()) expect(b.containsBbox(s)).toBe(true);
    }
  });
});

describe("isAlignedTo", () => {
  const chunk: Vec3 = [16, 16, 8];
  const off: Vec3 = [3, 5, 7];
  const bounds = new Bbox([3, 5, 7], [53, 50, 27]);

  it("accepts grid boxes", () => {
    expect(new Bbox([19, 5, 7], [35, 21, 15]).isAlignedTo(chunk, off)).toBe(true);
    expect(new Bbox([19, 5, 7], [35, 21, 15]).isAlignedTo(chunk, off, bounds)).toBe(true);
  });

  it("treats the volume's upper bound as a grid line", () => {
    expect(bounds.isAlignedTo(chunk, off, bounds)).toBe(true);
    expect(new Bbox([51, 37, 23], [53, 50, 27]).isAlignedTo(chunk, off, bounds)).toBe(true);
    // Without bounds the same boxes are not aligned.
    expect(bounds.isAlignedTo(chunk, off)).toBe(false);
    expect(new Bbox([51, 37, 23], [53, 50, 27]).isAlignedTo(chunk, off)).toBe(false);
  });

  it("rejects misaligned minima or maxima", () => {
    expect(new Bbox([4, 5, 7], [35, 21, 15]).isAlignedTo(chunk, off, bounds)).toBe(false);
    expect(new Bbox([19, 5, 7], [34, 21, 15]).isAlignedTo(chunk, off, bounds)).toBe(false);
    expect(new Bbox([19, 5, 7], [35, 21, 16]).isAlignedTo(chunk, off, bounds)).toBe(false);
    // A box starting at the upper bound is not aligned merely because its min equals bounds.max.
    expect(new Bbox([0, 0, 0], [16, 16, 8]).isAlignedTo(chunk, off, bounds)).toBe(false);
  });

  it("handles negative coordinates", () => {
    expect(new Bbox([-13, -11, -1], [3, 5, 7]).isAlignedTo(chunk, off)).toBe(true);
    expect(new Bbox([-12, -11, -1], [3, 5, 7]).isAlignedTo(chunk, off)).toBe(false);
    expect(new Bbox([-32, -16, -8], [0, 0, 0]).isAlignedTo([16, 16, 8], [0, 0, 0])).toBe(true);
  });

  it("agrees with expandToChunkSize on random boxes", () => {
    const r = rng(11);
    for (let i = 0; i < 300; i++) {
      const min = [r.int(-40, 40), r.int(-40, 40), r.int(-40, 40)];
      const b = new Bbox(min, [min[0] + r.int(1, 40), min[1] + r.int(1, 40), min[2] + r.int(1, 40)]);
      expect(b.isAlignedTo(chunk, off)).toBe(b.expandToChunkSize(chunk, off).equals(b));
    }
  });
});

describe("rescale", () => {
  it("floors min and ceils max", () => {
    expect(arr(Bbox.from([1, 1, 1, 5, 5, 5]).rescale([2, 2, 1]))).toEqual([0, 0, 1, 3, 3, 5]);
    expect(arr(Bbox.from([0, 0, 0, 64, 64, 64]).rescale([2, 2, 2]))).toEqual([0, 0, 0, 32, 32, 32]);
    expect(arr(Bbox.from([-3, -3, 0, -1, 3, 1]).rescale([2, 2, 1]))).toEqual([-2, -2, 0, 0, 2, 1]);
  });

  it("upsamples with fractional factors", () => {
    expect(arr(Bbox.from([0, 0, 1, 3, 3, 5]).rescale([0.5, 0.5, 1]))).toEqual([0, 0, 1, 6, 6, 5]);
    expect(arr(Bbox.from([1, 2, 3, 4, 5, 6]).rescale([1 / 3, 1 / 3, 1 / 3]))).toEqual([3, 6, 9, 12, 15, 18]);
  });

  it("never yields negative zero", () => {
    const b = Bbox.from([-4, -4, -4, -1, -1, -1]).rescale([2, 2, 2]);
    for (const v of b.toArray()) expect(Object.is(v, -0)).toBe(false);
  });

  it("covers the original box tightly (random integer factors)", () => {
    const r = rng(5);
    for (let i = 0; i < 300; i++) {
      const f: Vec3 = [r.int(1, 4), r.int(1, 4), r.int(1, 4)];
      const min = [r.int(-50, 50), r.int(-50, 50), r.int(-50, 50)];
      const max = [min[0] + r.int(1, 30), min[1] + r.int(1, 30), min[2] + r.int(1, 30)];
      const s = new Bbox(min, max).rescale(f);
      for (let k = 0; k < 3; k++) {
        // Reference: the voxels of the coarse grid touched by [min, max).
        let lo = Infinity, hi = -Infinity;
        for (let v = min[k]; v < max[k]; v++) {
          const cell = Math.floor(v / f[k]);
          lo = Math.min(lo, cell);
          hi = Math.max(hi, cell + 1);
        }
        expect(s.min[k]).toBe(lo);
        expect(s.max[k]).toBe(hi);
      }
    }
  });
});
