import { describe, expect, it } from "vitest";
import { readGroundTruth, readExpected, fixturePath, seededRandom } from "@cloudvolume/testing";
import { CloudVolume, isCloudVolumeError } from "../src/index.js";

/**
 * Every fixture this encodings cover, written by the real CloudVolume
 * 12.14.4, read through our public API and compared bit for bit with the ground
 * truth: whole volumes, random sub-boxes (aligned or not), and boxes that leave
 * the bounds under each of bounded / autocrop / fillMissing.
 */
const FIXTURES = [
  "pc_image_u8_raw",
  "pc_image_u8_raw_gzip",
  "pc_image_u8_raw_br",
  "pc_image_u8_multiscale",
  "pc_image_u8_raw_ragged_offset",
  "pc_image_u8_2ch_raw",
  "pc_image_u16_raw",
  "pc_float32_raw",
  "pc_seg_u32_raw_gzip",
];

const rng = seededRandom;

/** Cut [min, max) out of a Fortran-ordered ground truth, per byte; voxels outside gtBox read as `fill`. */
function expectedCutout(gt: Uint8Array, gtShape: number[], gtMin: number[], bpv: number, min: number[], max: number[], channels: number, fill = 0): Uint8Array {
  const sx = max[0] - min[0], sy = max[1] - min[1], sz = max[2] - min[2];
  const out = new Uint8Array(sx * sy * sz * channels * bpv).fill(fill);
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < sz; z++)
      for (let y = 0; y < sy; y++)
        for (let x = 0; x < sx; x++) {
          const gx = min[0] + x - gtMin[0], gy = min[1] + y - gtMin[1], gz = min[2] + z - gtMin[2];
          if (gx < 0 || gy < 0 || gz < 0 || gx >= gtShape[0] || gy >= gtShape[1] || gz >= gtShape[2]) continue;
          const src = (gx + gtShape[0] * (gy + gtShape[1] * (gz + gtShape[2] * c))) * bpv;
          const dst = (x + sx * (y + sy * (z + sz * c))) * bpv;
          for (let b = 0; b < bpv; b++) out[dst + b] = gt[src + b];
        }
  return out;
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe.each(FIXTURES)("fixture %s", (name) => {
  const exp = readExpected(name);
  const mips = exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];

  it.each(mips)("reads the whole volume at mip %i bit for bit", async (mip) => {
    const gt = readGroundTruth(name, mip);
    const vol = await CloudVolume.open(fixturePath(name), { mip });
    const b = vol.bounds;
    const cut = await vol.download(b);
    expect(cut.shape).toEqual([gt.shape[0], gt.shape[1], gt.shape[2], gt.shape[3] ?? 1]);
    expect(cut.dtype).toBe(gt.dtype);
    expect(Buffer.from(bytes(cut.data)).equals(Buffer.from(gt.bytes))).toBe(true);
    await vol.close();
  });

  it("reads 25 random sub-boxes (aligned or not) bit for bit", async () => {
    const gt = readGroundTruth(name);
    const vol = await CloudVolume.open(`precomputed://file://${fixturePath(name)}`);
    const b = vol.bounds;
    const bpv = gt.bytes.length / gt.shape.reduce((p, q) => p * q, 1);
    const rand = rng(name.length * 7919);
    for (let i = 0; i < 25; i++) {
      const min = [0, 1, 2].map((d) => b.min[d] + Math.floor(rand() * (b.max[d] - b.min[d])));
      const max = [0, 1, 2].map((d) => min[d] + 1 + Math.floor(rand() * (b.max[d] - min[d])));
      const cut = await vol.download([...min, ...max]);
      const want = expectedCutout(gt.bytes, gt.shape, b.min as number[], bpv, min, max, vol.numChannels);
      expect(Buffer.from(bytes(cut.data)).equals(Buffer.from(want)), `box ${min}-${max}`).toBe(true);
    }
    await vol.close();
  });

  it("refuses a box outside the bounds by default, crops it with autocrop, pads it with bounded: false", async () => {
    const gt = readGroundTruth(name);
    const probe = await CloudVolume.open(fixturePath(name));
    const b = probe.bounds;
    const bpv = gt.bytes.length / gt.shape.reduce((p, q) => p * q, 1);
    const min = [b.min[0] - 5, b.min[1] + 3, b.min[2] - 2];
    const max = [b.min[0] + 20, b.max[1] + 4, b.min[2] + 9];
    const err = await probe.download([...min, ...max]).catch((e) => e);
    expect(isCloudVolumeError(err, "OUT_OF_BOUNDS")).toBe(true);
    expect(String(err.message)).toMatch(/outside the bounds/);

    const cropped = await CloudVolume.open(fixturePath(name), { autocrop: true });
    const c = await cropped.download([...min, ...max]);
    const cmin = [b.min[0], min[1], b.min[2]], cmax = [max[0], b.max[1], max[2]];
    expect(c.bbox.toArray()).toEqual([...cmin, ...cmax]);
    expect(Buffer.from(bytes(c.data)).equals(Buffer.from(expectedCutout(gt.bytes, gt.shape, b.min as number[], bpv, cmin, cmax, probe.numChannels)))).toBe(true);

    const unbounded = await CloudVolume.open(fixturePath(name), { bounded: false, backgroundColor: 7 });
    const u = await unbounded.download([...min, ...max]);
    expect(u.shape.slice(0, 3)).toEqual([25, max[1] - min[1], 11]);
    const want = expectedCutout(gt.bytes, gt.shape, b.min as number[], bpv, min, max, probe.numChannels, 0);
    // Outside voxels hold the background value 7 in the dtype's own representation.
    const bg = new (u.data.constructor as new (n: number) => ArrayBufferView & { [i: number]: number | bigint })(1);
    bg[0] = typeof u.data[0] === "bigint" ? 7n : 7;
    const bgBytes = bytes(bg);
    for (let z = 0; z < 11; z++) for (let y = 0; y < max[1] - min[1]; y++) for (let x = 0; x < 25; x++) {
      const inside = min[0] + x >= b.min[0] && min[1] + y < b.max[1] && min[2] + z >= b.min[2];
      if (!inside) for (let k = 0; k < bpv; k++) want[(x + 25 * (y + (max[1] - min[1]) * z)) * bpv + k] = bgBytes[k];
    }
    if (probe.numChannels === 1) expect(Buffer.from(bytes(u.data)).equals(Buffer.from(want))).toBe(true);
    await Promise.all([probe.close(), cropped.close(), unbounded.close()]);
  });
});

describe("fillMissing", () => {
  it("a missing chunk is NOT_FOUND naming the key, or background with fillMissing", async () => {
    const { copyFixture } = await import("@cloudvolume/testing");
    const { rm } = await import("node:fs/promises");
    const dir = copyFixture("pc_image_u8_raw_gzip");
    await rm(`${dir}/4_4_40/32-64_0-32_0-16.gz`);
    const vol = await CloudVolume.open(dir);
    const err = await vol.download([0, 0, 0, 64, 64, 32]).catch((e) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(err.key).toBe("4_4_40/32-64_0-32_0-16");
    expect(err.message).toContain("4_4_40/32-64_0-32_0-16");
    const filled = await CloudVolume.open(dir, { fillMissing: true, backgroundColor: 3 });
    const cut = await filled.download([0, 0, 0, 64, 64, 32]);
    const gt = readGroundTruth("pc_image_u8_raw_gzip");
    for (let z = 0; z < 32; z++) for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      const i = x + 64 * (y + 64 * z);
      const missing = x >= 32 && y < 32 && z < 16;
      if ((cut.data[i] as number) !== (missing ? 3 : gt.bytes[i])) throw new Error(`voxel ${x},${y},${z}`);
    }
  });
});
