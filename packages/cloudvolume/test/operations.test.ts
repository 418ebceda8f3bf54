import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bytesOf, type TypedArray } from "@cloudvolume/core";
import { compressedSegmentationCodec } from "@cloudvolume/codec-compressed-segmentation";
import { copyFixture, fixturePath, tempDir } from "@cloudvolume/testing";
import { CloudVolume, createNewInfo, type RenumberedCutout } from "../src/index.js";
import { ascending, countingCseg, randomBox, rejects, rng, truth } from "./helpers.js";

/**
 * Volume operations (issue 5) against the fixtures' ground truth: every answer is
 * computed independently from the ground-truth array, never from our own reader.
 */

const SEG = ["pc_seg_u64_cseg", "pc_seg_u32_cseg", "pc_seg_u32_raw_gzip", "pc_seg_u64_cseg_sharded", "pc_seg_u64_cseg_gzip_ragged"];
const IMG = ["pc_image_u8_raw_ragged_offset", "pc_image_u8_2ch_raw", "pc_image_u8_png"];

const list = (a: TypedArray) => Array.from(a as ArrayLike<number | bigint>);

describe("unique", () => {
  it.each([...SEG, ...IMG])("%s: whole volume and random sub-boxes equal the ground truth's set", async (name) => {
    const t = truth(name);
    const vol = await CloudVolume.open(fixturePath(name));
    const whole = await vol.unique(vol.bounds);
    expect(whole).toBeInstanceOf(t.dtype === "uint64" ? BigUint64Array : t.values.constructor);
    expect(list(whole)).toEqual(t.uniqueIn(t.min, t.max));
    const r = rng(name.length * 7919);
    for (let i = 0; i < 12; i++) {
      const box = randomBox(r, t.min, t.max);
      expect(list(await vol.unique(box)), `box ${box}`).toEqual(t.uniqueIn(box.slice(0, 3), box.slice(3)));
    }
    await vol.close();
  });

  it.each(["pc_seg_u64_cseg", "pc_seg_u64_cseg_sharded"])("%s: chunks inside the box come from the lookup tables, only cut chunks are decoded", async (name) => {
    const t = truth(name);
    const spy = countingCseg();
    const vol = await CloudVolume.open(fixturePath(name), { plugins: [spy.plugin] });
    expect(list(await vol.unique([0, 0, 0, 64, 64, 32]))).toEqual(t.uniqueIn([0, 0, 0], [64, 64, 32]));
    expect(spy.calls).toMatchObject({ decode: 0, labels: 8 }); // 2x2x2 chunks of 32x32x16
    spy.reset();
    // x in [0, 32) holds whole chunks, x in [32, 48) cuts the other four.
    expect(list(await vol.unique([0, 0, 0, 48, 64, 32]))).toEqual(t.uniqueIn([0, 0, 0], [48, 64, 32]));
    expect(spy.calls).toMatchObject({ decode: 4, labels: 4 });
    spy.reset();
    expect(list(await vol.unique([3, 5, 1, 20, 30, 9]))).toEqual(t.uniqueIn([3, 5, 1], [20, 30, 9]));
    expect(spy.calls).toMatchObject({ decode: 1, labels: 0 });
    await vol.close();
    expect(compressedSegmentationCodec.labels).toBeTypeOf("function");
  });

  it("missing chunks give the background (fillMissing) or NOT_FOUND; an unbounded box adds the background", async () => {
    const dir = copyFixture("pc_seg_u32_raw_gzip");
    rmSync(join(dir, "4_4_40", "0-32_0-32_0-16.gz"));
    const t = truth("pc_seg_u32_raw_gzip");
    await rejects((await CloudVolume.open(dir)).unique([0, 0, 0, 64, 64, 32]), "NOT_FOUND", "0-32_0-32_0-16");
    const filled = await CloudVolume.open(dir, { fillMissing: true, backgroundColor: 7 });
    const rest = new Set([...t.uniqueIn([32, 0, 0], [64, 64, 32]), ...t.uniqueIn([0, 32, 0], [64, 64, 32]), ...t.uniqueIn([0, 0, 16], [64, 64, 32]), 7]);
    expect(list(await filled.unique([0, 0, 0, 64, 64, 32]))).toEqual(ascending([...rest] as number[]));
    const unbounded = await CloudVolume.open(fixturePath("pc_seg_u32_raw_gzip"), { bounded: false, backgroundColor: 123456 });
    expect(list(await unbounded.unique([60, 60, 30, 70, 70, 40]))).toEqual(ascending([...t.uniqueIn([60, 60, 30], [64, 64, 32]), 123456] as number[]));
    await rejects((await CloudVolume.open(fixturePath("pc_seg_u32_raw_gzip"))).unique([60, 60, 30, 70, 70, 40]), "OUT_OF_BOUNDS");
  });
});

describe("scatteredPoints and downloadPoint", () => {
  it.each([...SEG, ...IMG])("%s: values at random points, in input order", async (name) => {
    const t = truth(name);
    const vol = await CloudVolume.open(fixturePath(name));
    const r = rng(17 + name.length);
    const pts: number[][] = [];
    for (let i = 0; i < 150; i++) pts.push([0, 1, 2].map((d) => t.min[d] + Math.floor(r() * (t.max[d] - t.min[d]))));
    pts.push(pts[0]); // a repeated point
    const got = await vol.scatteredPoints(pts);
    expect(got).toEqual(pts.map((p) => t.at(p[0], p[1], p[2])));
    await vol.close();
  });

  it("compressed_segmentation points are read with readVoxel, one fetch per chunk, no decode", async () => {
    for (const name of ["pc_seg_u64_cseg", "pc_seg_u64_cseg_sharded", "pc_seg_u64_cseg_gzip_ragged"]) {
      const t = truth(name);
      const spy = countingCseg();
      const vol = await CloudVolume.open(fixturePath(name), { plugins: [spy.plugin] });
      const pts = [[t.min[0], t.min[1], t.min[2]], [t.max[0] - 1, t.max[1] - 1, t.max[2] - 1], [t.min[0] + 9, t.min[1] + 3, t.min[2] + 5]];
      expect(await vol.scatteredPoints(pts)).toEqual(pts.map((p) => t.at(p[0], p[1], p[2])));
      expect(spy.calls).toMatchObject({ decode: 0, readVoxel: 3 });
      await vol.close();
    }
  });

  it("points are mip 0 coordinates converted to the mip (floor), as CloudVolume's point_to_mip", async () => {
    const m1 = truth("pc_image_u8_multiscale", 1);
    const m2 = truth("pc_image_u8_multiscale", 2);
    const vol = await CloudVolume.open(fixturePath("pc_image_u8_multiscale"));
    const pts = [[0, 0, 0], [63, 63, 31], [13, 40, 7], [5, 9, 30]];
    // mip 1 is 8x8x40 (x, y halved), mip 2 16x16x80 (x, y quartered, z halved).
    expect(await vol.scatteredPoints(pts, { mip: 1 })).toEqual(pts.map((p) => m1.at(Math.floor(p[0] / 2), Math.floor(p[1] / 2), p[2])));
    expect(await vol.scatteredPoints(pts, { mip: 2 })).toEqual(pts.map((p) => m2.at(Math.floor(p[0] / 4), Math.floor(p[1] / 4), Math.floor(p[2] / 2))));
    const cut = await vol.downloadPoint([13, 40, 7], { mip: 1 });
    expect(cut.shape).toEqual([1, 1, 1, 1]);
    expect(cut.bbox.toArray()).toEqual([6, 20, 7, 7, 21, 8]);
    expect(cut.data[0]).toBe(m1.at(6, 20, 7));
    await vol.close();
  });

  it("points outside the bounds: OUT_OF_BOUNDS, or the background when unbounded; missing chunks as download", async () => {
    const t = truth("pc_seg_u64_cseg");
    await rejects((await CloudVolume.open(fixturePath("pc_seg_u64_cseg"))).scatteredPoints([[1, 2, 3], [64, 0, 0]]), "OUT_OF_BOUNDS");
    const unbounded = await CloudVolume.open(fixturePath("pc_seg_u64_cseg"), { bounded: false, backgroundColor: 5 });
    expect(await unbounded.scatteredPoints([[1, 2, 3], [64, 0, 0], [-1, 0, 0]])).toEqual([t.at(1, 2, 3), 5n, 5n]);
    const dir = copyFixture("pc_seg_u32_raw_gzip");
    rmSync(join(dir, "4_4_40", "32-64_0-32_0-16.gz"));
    await rejects((await CloudVolume.open(dir)).scatteredPoints([[40, 3, 3]]), "NOT_FOUND");
    const u = truth("pc_seg_u32_raw_gzip");
    expect(await (await CloudVolume.open(dir, { fillMissing: true })).scatteredPoints([[40, 3, 3], [3, 3, 3]])).toEqual([0, u.at(3, 3, 3)]);
  });

  it("downloadPoint boxes are centred as CloudVolume's download_point", async () => {
    const t = truth("pc_seg_u32_cseg");
    const vol = await CloudVolume.open(fixturePath("pc_seg_u32_cseg"));
    const one = await vol.downloadPoint([20, 30, 10]);
    expect(one.bbox.toArray()).toEqual([20, 30, 10, 21, 31, 11]);
    expect(one.data[0]).toBe(t.at(20, 30, 10));
    const box = await vol.downloadPoint([20, 30, 10], { size: [8, 4, 1] });
    expect(box.bbox.toArray()).toEqual([16, 28, 10, 24, 32, 11]);
    expect(list(box.data)).toEqual(t.cutout([16, 28, 10], [24, 32, 11]));
    // size // 2 on each side: an odd size gives one voxel less, exactly as CloudVolume.
    expect((await vol.downloadPoint([20, 30, 10], { size: 3 })).bbox.toArray()).toEqual([19, 29, 9, 21, 31, 11]);
    await rejects(vol.downloadPoint([20, 30, 10], { size: 0 }), "INVALID_ARGUMENT");
    await rejects(vol.downloadPoint([1, 2] as unknown as number[]), "INVALID_ARGUMENT");
    await vol.close();
  });
});

describe("download options: renumber, label, segids", () => {
  it.each(["pc_seg_u64_cseg", "pc_seg_u32_raw_gzip", "pc_seg_u64_cseg_sharded", "pc_image_u8_raw_ragged_offset", "pc_image_u8_2ch_raw"])(
    "%s: renumber gives 1..N in uint16 and a remap that restores the labels",
    async (name) => {
      const t = truth(name);
      const vol = await CloudVolume.open(fixturePath(name));
      const r = rng(99);
      for (const box of [[...t.min, ...t.max], randomBox(r, t.min, t.max), randomBox(r, t.min, t.max)]) {
        const got: RenumberedCutout = await vol.download(box, { renumber: true });
        const original = t.cutout(box.slice(0, 3), box.slice(3));
        expect(got.dtype).toBe("uint16");
        expect(got.data).toBeInstanceOf(Uint16Array);
        expect(got.shape).toEqual([box[3] - box[0], box[4] - box[1], box[5] - box[2], t.shape[3]]);
        // CloudVolume's remap starts as { background: background }.
        const zero = t.dtype === "uint64" ? 0n : 0;
        expect(got.remap.get(zero)).toBe(0);
        const labels = t.uniqueIn(box.slice(0, 3), box.slice(3)).filter((v) => v !== zero);
        expect(ascending([...got.remap.keys()])).toEqual(ascending([zero, ...labels]));
        // New labels are 1..N, one to one, ascending with the old ones.
        expect(labels.map((l) => got.remap.get(l))).toEqual(labels.map((_, i) => i + 1));
        const back = new Map([...got.remap].map(([k, v]) => [v, k]));
        expect(list(got.data).map((v) => back.get(v as number))).toEqual(original);
      }
      await vol.close();
    },
  );

  it("renumber widens to uint32 past 65535 labels and refuses float layers", async () => {
    const dir = tempDir();
    const info = createNewInfo({ layerType: "segmentation", dataType: "uint64", encoding: "raw", resolution: [1, 1, 1], voxelOffset: [0, 0, 0], volumeSize: [64, 64, 20], chunkSize: [64, 64, 20] });
    const vol = await CloudVolume.open(`file://${dir}`, { info });
    await vol.commitInfo();
    const data = new BigUint64Array(64 * 64 * 20).map((_, i) => BigInt(i) * 1000003n + (1n << 40n));
    await vol.upload([0, 0, 0, 64, 64, 20], data);
    const got = await vol.download([0, 0, 0, 64, 64, 20], { renumber: true });
    expect(got.dtype).toBe("uint32");
    expect(got.remap.size).toBe(data.length + 1);
    for (const i of [0, 1, 65534, 65535, 81919]) {
      expect(got.data[i]).toBe(i + 1);
      expect(got.remap.get(data[i])).toBe(i + 1);
    }
    const small = await vol.download([0, 0, 0, 64, 64, 15], { renumber: true });
    expect(small.dtype).toBe("uint16"); // 61440 labels: the next one (61441) still fits
    await rejects((await CloudVolume.open(fixturePath("pc_float32_raw"))).download([0, 0, 0, 4, 4, 4], { renumber: true }), "INVALID_ARGUMENT");
  });

  it.each(["pc_seg_u64_cseg", "pc_seg_u64_cseg_sharded", "pc_seg_u32_raw_gzip", "pc_seg_u64_cseg_gzip_ragged", "pc_image_u8_2ch_raw"])(
    "%s: label masks equal ground truth == label",
    async (name) => {
      const t = truth(name);
      const vol = await CloudVolume.open(fixturePath(name));
      const r = rng(4242);
      const all = t.uniqueIn(t.min, t.max);
      const big = t.dtype === "uint64";
      const picks = [all[0], all[all.length - 1], all[Math.floor(all.length / 2)], big ? 999999999999n : 250];
      for (const box of [[...t.min, ...t.max], randomBox(r, t.min, t.max)]) {
        const original = t.cutout(box.slice(0, 3), box.slice(3));
        for (const label of picks) {
          const mask = await vol.download(box, { label });
          expect(mask.dtype).toBe("uint8");
          expect(mask.shape).toEqual([box[3] - box[0], box[4] - box[1], box[5] - box[2], t.shape[3]]);
          expect(list(mask.data)).toEqual(original.map((v) => (v === label ? 1 : 0)));
        }
      }
      await vol.close();
    },
  );

  it("label masks skip (do not decode) compressed_segmentation chunks without the label", async () => {
    const t = truth("pc_seg_u64_cseg");
    const spy = countingCseg();
    const vol = await CloudVolume.open(fixturePath("pc_seg_u64_cseg"), { plugins: [spy.plugin] });
    const mask = await vol.download([0, 0, 0, 64, 64, 32], { label: 123456789123n });
    expect(list(mask.data).every((v) => v === 0)).toBe(true);
    expect(spy.calls).toMatchObject({ decode: 0, contains: 8 });
    spy.reset();
    // A label in the first chunk only: that chunk is decoded, the other seven are not.
    const first = new Set(t.uniqueIn([0, 0, 0], [32, 32, 16]));
    const elsewhere = new Set([...t.uniqueIn([32, 0, 0], [64, 64, 32]), ...t.uniqueIn([0, 32, 0], [64, 64, 32]), ...t.uniqueIn([0, 0, 16], [64, 64, 32])]);
    const only = [...first].find((v) => !elsewhere.has(v));
    expect(only).toBeDefined();
    const m = await vol.download([0, 0, 0, 64, 64, 32], { label: only! });
    expect(spy.calls.decode).toBe(1);
    expect(list(m.data)).toEqual(t.cutout([0, 0, 0], [64, 64, 32]).map((v) => (v === only ? 1 : 0)));
    await rejects(vol.download([0, 0, 0, 8, 8, 8], { label: 1, renumber: true }), "INVALID_ARGUMENT");
    await vol.close();
  });

  it("segids keeps the listed labels and zeroes the rest; preserveZeros masks with the maximum", async () => {
    for (const name of ["pc_seg_u64_cseg", "pc_seg_u32_raw_gzip"]) {
      const t = truth(name);
      const vol = await CloudVolume.open(fixturePath(name));
      const box = [5, 7, 2, 60, 50, 30];
      const zero = t.dtype === "uint64" ? 0n : 0;
      const inBox = t.uniqueIn(box.slice(0, 3), box.slice(3)).filter((v) => v !== zero);
      const keep = [inBox[0], inBox[inBox.length - 1], inBox[Math.floor(inBox.length / 3)]];
      expect(new Set(keep).size).toBe(3);
      const original = t.cutout(box.slice(0, 3), box.slice(3));
      const max = t.dtype === "uint64" ? 2n ** 64n - 1n : 2 ** 32 - 1;
      const got = await vol.download(box, { segids: keep });
      expect(got.dtype).toBe(t.dtype);
      expect(list(got.data)).toEqual(original.map((v) => (keep.includes(v) ? v : zero)));
      const pz = await vol.download(box, { segids: keep, preserveZeros: true });
      expect(list(pz.data)).toEqual(original.map((v) => (keep.includes(v) || v === zero ? v : max)));
      // segids, then renumber: the kept labels become 1..3, in ascending order, the rest 0.
      const rn = await vol.download(box, { segids: keep, renumber: true });
      expect(ascending([...keep]).map((k) => rn.remap.get(k))).toEqual([1, 2, 3]);
      expect(rn.remap.size).toBe(4);
      expect(list(rn.data)).toEqual(original.map((v) => (keep.includes(v) ? rn.remap.get(v) : 0)));
      await vol.close();
    }
  });
});

describe("exists, delete, hasData, locks", () => {
  it("unsharded: exists per chunk file, aligned deletes, hasData", async () => {
    const dir = copyFixture("pc_seg_u32_raw_gzip");
    const t = truth("pc_seg_u32_raw_gzip");
    const vol = await CloudVolume.open(dir, { fillMissing: true });
    const names = ["0-32_0-32_0-16", "32-64_0-32_0-16", "0-32_32-64_0-16", "32-64_32-64_0-16", "0-32_0-32_16-32", "32-64_0-32_16-32", "0-32_32-64_16-32", "32-64_32-64_16-32"];
    expect(await vol.exists([0, 0, 0, 64, 64, 32])).toEqual(Object.fromEntries(names.map((n) => [`4_4_40/${n}`, true])));
    expect(Object.keys(await vol.exists([40, 2, 20, 41, 3, 21]))).toEqual(["4_4_40/32-64_0-32_16-32"]);
    expect(await vol.hasData()).toBe(true);
    await rejects(vol.delete([0, 0, 0, 30, 32, 16]), "ALIGNMENT");
    expect(existsSync(join(dir, "4_4_40", "0-32_0-32_0-16.gz"))).toBe(true);
    expect(await vol.delete([0, 0, 0, 32, 32, 16])).toEqual(["4_4_40/0-32_0-32_0-16"]);
    expect(existsSync(join(dir, "4_4_40", "0-32_0-32_0-16.gz"))).toBe(false);
    const after = await vol.exists([0, 0, 0, 64, 64, 32]);
    expect(Object.entries(after).filter(([, v]) => !v).map(([k]) => k)).toEqual(["4_4_40/0-32_0-32_0-16"]);
    const cut = await vol.download([0, 0, 0, 64, 64, 32]);
    const gt = t.cutout([0, 0, 0], [64, 64, 32]);
    list(cut.data).forEach((v, i) => {
      const x = i % 64, y = Math.floor(i / 64) % 64, z = Math.floor(i / 4096);
      if (x < 32 && y < 32 && z < 16) expect(v).toBe(0);
      else if (v !== gt[i]) expect.fail(`voxel ${x},${y},${z}: ${v} != ${gt[i]}`);
    });
    expect((await vol.delete([0, 0, 0, 64, 64, 32])).length).toBe(8);
    expect(readdirSync(join(dir, "4_4_40"))).toEqual([]);
    expect(await vol.hasData()).toBe(false);
  });

  it("the volume's upper bound counts as a grid line for deletes (ragged edge chunks)", async () => {
    const dir = copyFixture("pc_image_u8_raw_ragged_offset");
    const vol = await CloudVolume.open(dir);
    await rejects(vol.delete([51, 5, 7, 52, 21, 15]), "ALIGNMENT");
    expect(await vol.delete([51, 5, 7, 53, 21, 15])).toEqual(["8_8_33/51-53_5-21_7-15"]);
    expect(existsSync(join(dir, "8_8_33", "51-53_5-21_7-15"))).toBe(false);
    expect(Object.values(await vol.exists(vol.bounds)).filter((v) => !v).length).toBe(1);
  });

  it("sharded: exists per chunk from the shard indices, deletes whole shards only", async () => {
    const dir = copyFixture("pc_seg_u64_cseg_sharded");
    const t = truth("pc_seg_u64_cseg_sharded");
    const vol = await CloudVolume.open(dir, { fillMissing: true });
    const all = await vol.exists([0, 0, 0, 64, 64, 32]);
    expect(Object.keys(all).length).toBe(8);
    expect(Object.values(all).every(Boolean)).toBe(true);
    await rejects(vol.delete([0, 0, 0, 32, 32, 16]), "ALIGNMENT", "shard");
    expect(await vol.delete([0, 0, 0, 64, 64, 16])).toHaveLength(1);
    expect(readdirSync(join(dir, "4_4_40")).filter((f) => f.endsWith(".shard"))).toHaveLength(1);
    const after = await vol.exists([0, 0, 0, 64, 64, 32]);
    expect(Object.entries(after).filter(([, v]) => v).map(([k]) => k).sort()).toEqual(
      ["0-32_0-32_16-32", "32-64_0-32_16-32", "0-32_32-64_16-32", "32-64_32-64_16-32"].map((n) => `4_4_40/${n}`).sort(),
    );
    expect(list(await vol.unique([0, 0, 0, 64, 64, 32]))).toEqual(ascending([0n, ...t.uniqueIn([0, 0, 16], [64, 64, 32])]).filter((v, i, a) => a.indexOf(v) === i));
    expect(await vol.hasData()).toBe(true);
  });

  it("sharded exists reports a chunk left out of its shard (deleteBlackUploads) as missing", async () => {
    // Write one sharded shard with a chunk left out (deleteBlackUploads): exists reports that chunk missing.
    const dir = tempDir();
    const info = JSON.parse(readFileSync(join(fixturePath("pc_seg_u64_cseg_sharded"), "info"), "utf8"));
    const vol = await CloudVolume.open(`file://${dir}`, { info, deleteBlackUploads: true });
    await vol.commitInfo();
    const data = new BigUint64Array(64 * 64 * 16).map((_, i) => ((i % 64) < 32 && Math.floor(i / 64) % 64 < 32 ? 0n : BigInt(i + 1)));
    await vol.upload([0, 0, 0, 64, 64, 16], data);
    const got = await vol.exists([0, 0, 0, 64, 64, 16]);
    expect(got).toEqual({ "4_4_40/0-32_0-32_0-16": false, "4_4_40/32-64_0-32_0-16": true, "4_4_40/0-32_32-64_0-16": true, "4_4_40/32-64_32-64_0-16": true });
  });

  it("locks: lockMips/unlockMips commit `locked`; locked scales refuse upload, delete, transfer and file uploads", async () => {
    const dir = copyFixture("pc_image_u8_raw_ragged_offset");
    const vol = await CloudVolume.open(dir);
    await vol.lockMip(0);
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).scales[0].locked).toBe(true);
    expect(vol.lockedMips).toEqual([0]);
    const again = await CloudVolume.open(dir);
    await rejects(again.delete(again.bounds), "READ_ONLY", "locked");
    await rejects(again.upload([3, 5, 7, 19, 21, 15], new Uint8Array(16 * 16 * 8)), "READ_ONLY", "locked");
    const src = await CloudVolume.open(fixturePath("pc_image_u8_raw_ragged_offset"));
    await rejects(src.transferTo(again), "READ_ONLY", "locked");
    await rejects(src.transferTo(again, { encoding: "png" }), "READ_ONLY", "locked");
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).scales[0].encoding).toBe("raw");
    const file = join(tempDir(), "in.bin");
    writeFileSync(file, new Uint8Array(16 * 16 * 8));
    await rejects(again.uploadFromFile([3, 5, 7, 19, 21, 15], file), "READ_ONLY", "locked");
    expect(Object.values(await again.exists(again.bounds)).every(Boolean)).toBe(true);
    await rejects(vol.lockMips([0, 1]), "INVALID_ARGUMENT");
    await again.unlockMips(0);
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).scales[0].locked).toBe(false);
    expect(again.lockedMips).toEqual([]);
    expect(await again.delete([3, 5, 7, 19, 21, 15])).toEqual(["8_8_33/3-19_5-21_7-15"]);
  });

  it("deletes and locks are refused through a redirect", async () => {
    const target = copyFixture("pc_seg_u32_raw_gzip");
    const stub = tempDir();
    writeFileSync(join(stub, "info"), JSON.stringify({ redirect: `file://${target}` }));
    const vol = await CloudVolume.open(stub);
    await rejects(vol.delete([0, 0, 0, 32, 32, 16]), "READ_ONLY", "redirect");
    await rejects(vol.lockMip(0), "READ_ONLY", "redirect");
    expect(existsSync(join(target, "4_4_40", "0-32_0-32_0-16.gz"))).toBe(true);
  });
});

describe("downloadFiles", () => {
  it("unsharded: stored chunk files by key, decompressed or as stored, undefined when missing", async () => {
    const dir = copyFixture("pc_seg_u32_raw_gzip");
    rmSync(join(dir, "4_4_40", "32-64_32-64_16-32.gz"));
    const vol = await CloudVolume.open(dir);
    const files = await vol.downloadFiles([10, 10, 10, 64, 64, 32]);
    expect([...files.keys()]).toHaveLength(8);
    for (const [key, bytes] of files) {
      if (key.endsWith("32-64_32-64_16-32")) expect(bytes).toBeUndefined();
      else expect(Buffer.from(bytes!).equals(gunzipSync(readFileSync(join(dir, `${key}.gz`))))).toBe(true);
    }
    const raw = await vol.downloadFiles([0, 0, 0, 32, 32, 16], { decompress: false });
    expect([...raw.keys()]).toEqual(["4_4_40/0-32_0-32_0-16"]);
    expect(Buffer.from(raw.get("4_4_40/0-32_0-32_0-16")!).equals(readFileSync(join(dir, "4_4_40", "0-32_0-32_0-16.gz")))).toBe(true);
  });

  it("sharded: every chunk's encoded bytes, decodable to the ground truth", async () => {
    const t = truth("pc_seg_u64_cseg_sharded");
    const vol = await CloudVolume.open(fixturePath("pc_seg_u64_cseg_sharded"));
    const files = await vol.downloadFiles(vol.bounds);
    expect(files.size).toBe(8);
    for (const [key, bytes] of files) {
      const [x0, x1, y0, y1, z0, z1] = key.split("/")[1].split(/[-_]/).map(Number);
      const voxels = compressedSegmentationCodec.decode(bytes!, { shape: [x1 - x0, y1 - y0, z1 - z0], channels: 1, dtype: "uint64", params: vol.scale }) as Uint8Array;
      expect(Array.from(new BigUint64Array(voxels.buffer, voxels.byteOffset, voxels.byteLength / 8))).toEqual(t.cutout([x0, y0, z0], [x1, y1, z1]));
    }
  });
});

describe("transferTo with encoding, compress and blockSize", () => {
  async function copyOf(name: string, opts: { encoding?: string; compress?: "gzip" | "br" | false } = {}) {
    const src = await CloudVolume.open(fixturePath(name));
    const info = structuredClone(src.info);
    const dir = tempDir();
    const dst = await CloudVolume.open(`file://${dir}`, { info });
    await dst.commitInfo();
    const stats = await src.transferTo(dst, opts);
    return { src, dst, dir, stats };
  }

  it.each([
    ["pc_seg_u32_raw_gzip", "compressed_segmentation", "raw"],
    ["pc_seg_u64_cseg", "raw", "compressed_segmentation"],
    ["pc_seg_u64_cseg_gzip_ragged", "raw", "compressed_segmentation"],
    ["pc_image_u8_raw_ragged_offset", "png", "raw"],
    ["pc_image_u8_2ch_raw", "png", "raw"],
  ])("%s -> %s -> %s is exact", async (name, via, back) => {
    const t = truth(name);
    const { dst: mid, dir, stats } = await copyOf(name, { encoding: via });
    expect(stats.recoded).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).scales[0].encoding).toBe(via);
    expect(list((await mid.download(mid.bounds)).data)).toEqual(t.cutout(t.min, t.max));
    const info = structuredClone(mid.info);
    const dir2 = tempDir();
    const end = await CloudVolume.open(`file://${dir2}`, { info });
    await end.commitInfo();
    await mid.transferTo(end, { encoding: back });
    expect(end.encoding).toBe(back);
    expect(list((await end.download(end.bounds)).data)).toEqual(t.cutout(t.min, t.max));
    if (back === "raw" && name === "pc_seg_u32_raw_gzip") {
      // Back where it started: the same decompressed chunk bytes as the fixture's files.
      for (const f of readdirSync(join(fixturePath(name), "4_4_40"))) {
        expect(gunzipSync(readFileSync(join(dir2, "4_4_40", f))).equals(gunzipSync(readFileSync(join(fixturePath(name), "4_4_40", f))))).toBe(true);
      }
    }
    if (via === "compressed_segmentation") {
      const f = readdirSync(join(dir, "4_4_40"))[0];
      expect(f.endsWith(".gz")).toBe(true); // CloudVolume gzips compressed_segmentation by default
    }
  });

  it("compress overrides the destination's transfer compression for this transfer", async () => {
    const { dir, dst } = await copyOf("pc_seg_u32_raw_gzip", { compress: "br" });
    expect(readdirSync(join(dir, "4_4_40")).every((f) => f.endsWith(".br"))).toBe(true);
    expect(dst.writeCompression()).toBe("gzip"); // restored afterwards
    const none = await copyOf("pc_seg_u32_raw_gzip", { compress: false });
    expect(readdirSync(join(none.dir, "4_4_40")).every((f) => !/\.(gz|br)$/.test(f))).toBe(true);
    expect(list((await none.dst.download(none.dst.bounds)).data)).toEqual(truth("pc_seg_u32_raw_gzip").cutout([0, 0, 0], [64, 64, 32]));
  });

  it("blockSize sets the unit of work of grid-changing transfers: each source chunk is decoded once per block", async () => {
    const t = truth("pc_seg_u64_cseg");
    const run = async (blockSize?: number | [number, number, number]) => {
      const spy = countingCseg();
      const src = await CloudVolume.open(fixturePath("pc_seg_u64_cseg"), { plugins: [spy.plugin] });
      const info = createNewInfo({ layerType: "segmentation", dataType: "uint64", encoding: "raw", resolution: [4, 4, 40], voxelOffset: [0, 0, 0], volumeSize: [64, 64, 32], chunkSize: [16, 16, 8] });
      const dst = await CloudVolume.open(`file://${tempDir()}`, { info });
      await dst.commitInfo();
      const stats = await src.transferTo(dst, { blockSize });
      expect(stats.chunks).toBe(4 * 4 * 4);
      expect(list((await dst.download(dst.bounds)).data)).toEqual(t.cutout([0, 0, 0], [64, 64, 32]));
      return spy.calls.decode;
    };
    expect(await run()).toBe(64); // one destination chunk at a time: every source chunk is read 8 times
    expect(await run([64, 64, 32])).toBe(8); // one block: every source chunk once
    expect(await run(2)).toBe(64 / 8); // 2x2x2 destination chunks = one source chunk per block
    await rejects(run(0), "INVALID_ARGUMENT");
  });

  it("memoryCutout: a mem:// copy of the chunks around the box, re-encoded if asked, deleted on close", async () => {
    const t = truth("pc_seg_u64_cseg");
    const vol = await CloudVolume.open(fixturePath("pc_seg_u64_cseg"));
    const cut = await vol.memoryCutout([10, 10, 5, 40, 30, 20], { encoding: "raw" });
    expect(cut.url).toMatch(/^mem:\/\//);
    expect(cut.encoding).toBe("raw");
    expect(vol.encoding).toBe("compressed_segmentation");
    const present = Object.entries(await cut.exists(cut.bounds)).filter(([, v]) => v).map(([k]) => k);
    expect(present.length).toBe(4); // the box expands to [0,64) x [0,32) x [0,32): 2x1x2 chunks
    expect(list((await cut.download([0, 0, 0, 64, 32, 32])).data)).toEqual(t.cutout([0, 0, 0], [64, 32, 32]));
    await rejects(cut.download([0, 32, 0, 32, 64, 16]), "NOT_FOUND");
    const url = cut.url;
    await cut.close();
    await rejects(CloudVolume.open(url), "NOT_FOUND");
    const sharded = await (await CloudVolume.open(fixturePath("pc_seg_u64_cseg_sharded"))).memoryCutout([0, 0, 0, 8, 8, 8]);
    expect(sharded.isSharded()).toBe(false);
    expect(list((await sharded.download([0, 0, 0, 32, 32, 16])).data)).toEqual(t.cutout([0, 0, 0], [32, 32, 16]));
    await sharded.close();
  });
});

describe("downloadToFile and uploadFromFile", () => {
  it.each(["pc_image_u8_2ch_raw", "pc_seg_u64_cseg", "pc_image_u8_raw_ragged_offset"])("%s: raw Fortran bytes, in one slab or many", async (name) => {
    const t = truth(name);
    const vol = await CloudVolume.open(fixturePath(name));
    const dir = tempDir();
    const whole = join(dir, "whole.bin");
    const box = await vol.downloadToFile(vol.bounds, whole);
    expect(box.toArray()).toEqual([...t.min, ...t.max]);
    expect(Buffer.from(readFileSync(whole)).equals(Buffer.from(bytesOf(t.values)))).toBe(true);
    const sub = [t.min[0] + 3, t.min[1] + 2, t.min[2] + 1, t.max[0] - 1, t.max[1] - 4, t.max[2] - 2];
    const slabs = join(dir, "sub.bin");
    await vol.downloadToFile(sub, slabs, { slabBytes: 1 }); // one chunk row per slab
    const expected = t.cutout(sub.slice(0, 3), sub.slice(3));
    const bpv = t.values.BYTES_PER_ELEMENT;
    const got = readFileSync(slabs);
    expect(got.length).toBe(expected.length * bpv);
    expect(Array.from(new (t.values.constructor as new (b: ArrayBuffer) => TypedArray)(got.buffer.slice(got.byteOffset, got.byteOffset + got.length)) as ArrayLike<number | bigint>)).toEqual(expected);
    expect(readdirSync(dir).sort()).toEqual(["sub.bin", "whole.bin"]); // no temporary files left
    // And back: upload the whole file into a fresh layer with the same info, slab by slab.
    const dst = await CloudVolume.open(`file://${tempDir()}`, { info: structuredClone(vol.info) });
    await dst.commitInfo();
    await dst.uploadFromFile(dst.bounds, whole, { slabBytes: 1 });
    expect(list((await dst.download(dst.bounds)).data)).toEqual(t.cutout(t.min, t.max));
  });

  it("a failed download leaves no file and no temporary; uploads check size and alignment before writing", async () => {
    const src = copyFixture("pc_seg_u32_raw_gzip");
    rmSync(join(src, "4_4_40", "32-64_32-64_16-32.gz"));
    const vol = await CloudVolume.open(src);
    const dir = tempDir();
    await rejects(vol.downloadToFile(vol.bounds, join(dir, "x.bin"), { slabBytes: 1 }), "NOT_FOUND");
    expect(readdirSync(dir)).toEqual([]);
    const dst = await CloudVolume.open(`file://${tempDir()}`, { info: structuredClone(vol.info) });
    await dst.commitInfo();
    const f = join(dir, "small.bin");
    writeFileSync(f, new Uint8Array(10));
    await rejects(dst.uploadFromFile([0, 0, 0, 64, 64, 32], f), "INVALID_ARGUMENT", "needs");
    writeFileSync(f, new Uint8Array(64 * 64 * 20 * 4));
    await rejects(dst.uploadFromFile([0, 0, 0, 64, 64, 20], f), "ALIGNMENT");
    expect(await dst.hasData()).toBe(false);
    await rejects(dst.uploadFromFile([0, 0, 0, 64, 64, 20], join(dir, "nope.bin")), "NOT_FOUND");
  });
});

describe("bboxToMip", () => {
  it("converts boxes between mips (min floors, max ceils)", async () => {
    const vol = await CloudVolume.open(fixturePath("pc_image_u8_multiscale"));
    expect(vol.bboxToMip([3, 5, 7, 63, 61, 31], 0, 1).toArray()).toEqual([1, 2, 7, 32, 31, 31]);
    expect(vol.bboxToMip([1, 2, 7, 32, 31, 31], 1, 0).toArray()).toEqual([2, 4, 7, 64, 62, 31]);
  });
});
