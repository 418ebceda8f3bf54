import { readFileSync, copyFileSync, cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { tempDir } from "@cloudvolume/testing";
// By path, not by package name: cloudvolume depends on this package, so a devDependency would be a build cycle.
import { CloudVolume } from "../../cloudvolume/src/index.js";
import { compressionPlugins } from "./helpers.js";
import { zarr } from "@cloudvolume/format-zarr";
import { cv, ensureBuilt, expectedBox, fixtureArrays, pool, randomBoxes, sameBytes, xyzc } from "./fixture-util.js";

/**
 * Every zarr v2 array of the fixtures (written by zarr-python 2 / numcodecs, never by us)
 * read exactly, through CloudVolume.open and through the built CLI's `download`: the whole
 * array and 20 seeded random sub-boxes each, against expected/*.bin. Missing chunks read as
 * the fill value with fillMissing (zarr2_f32_zlib_ragged_fill has only some chunks).
 */
const { arrays, skipped } = fixtureArrays();
const plugins = [zarr(), ...compressionPlugins()];

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe("zarr v2 fixtures through CloudVolume.open", () => {
  it("lists the 5 zarr2_* arrays and the 20 numeric zarr-python testdata arrays", () => {
    expect(arrays.length).toBe(5 + 20);
    expect(skipped.length).toBe(6);
  });

  for (const [i, a] of arrays.entries()) {
    it(`${a.name}: whole array and 20 random sub-boxes`, async () => {
      const vol = await CloudVolume.open(`zarr://file://${a.dir}`, { plugins, fillMissing: true });
      try {
        const [X, Y, Z, C] = xyzc(a.shape);
        expect(vol.bounds.size()).toEqual([X, Y, Z]);
        expect(vol.numChannels).toBe(C);
        const whole = await vol.download(vol.bounds);
        expect(whole.shape).toEqual([X, Y, Z, C]);
        const bytes = new Uint8Array(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength);
        expect(sameBytes(bytes, a.truth), "whole array").toBe(true);
        for (const box of randomBoxes(a, 20, 1000 + i)) {
          const cut = await vol.download(box);
          expect(sameBytes(new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength), expectedBox(a, box)), `sub-box ${box}`).toBe(true);
        }
      } finally {
        await vol.close();
      }
    });
  }

  for (const s of skipped) {
    it(`${s.name}: a string/object dtype is a clear UNSUPPORTED error (${s.why.split(" - ")[0]})`, async () => {
      const err = await CloudVolume.open(`zarr://file://${s.dir}`, { plugins }).then(() => undefined, (e: unknown) => e);
      expect(isCloudVolumeError(err, "UNSUPPORTED"), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/dtype/);
      expect((err as Error).message).toMatch(/\.zarray/);
    });
  }

  it("the cloudvolume package's default plugins read zarr (no plugins option), on worker threads too (parallel: 2)", async () => {
    const a = arrays.find((x) => x.name === "zarr2_u16_blosc_forder")!;
    const vol = await CloudVolume.open(`zarr://file://${a.dir}`, { parallel: 2 });
    try {
      const whole = await vol.download(vol.bounds);
      expect(whole.data.buffer).toBeInstanceOf(SharedArrayBuffer); // painted by the workers
      expect(sameBytes(new Uint8Array(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength), a.truth)).toBe(true);
    } finally {
      await vol.close();
    }
  });

  it("without fillMissing, a chunk zarr-python never wrote is NOT_FOUND naming its key (the engine's contract)", async () => {
    const a = arrays.find((x) => x.name === "zarr2_f32_zlib_ragged_fill")!;
    const vol = await CloudVolume.open(`zarr://file://${a.dir}`, { plugins });
    const err = await vol.download(vol.bounds).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND"), String(err)).toBe(true);
    expect((err as { key?: string }).key).toMatch(/^\d\.\d\.\d$/);
    await vol.close();
  });

  it("negative control: the same F-order chunks read as C order do not match (the comparison can fail)", async () => {
    const a = arrays.find((x) => x.name === "zarr2_u16_blosc_forder")!;
    const dir = tempDir("cv-zarr-forder-");
    cpSync(a.dir, dir, { recursive: true });
    const meta = JSON.parse(readFileSync(join(dir, ".zarray"), "utf8"));
    writeFileSync(join(dir, ".zarray"), JSON.stringify({ ...meta, order: "C" }));
    const vol = await CloudVolume.open(`zarr://file://${dir}`, { plugins });
    const whole = await vol.download(vol.bounds);
    expect(sameBytes(new Uint8Array(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength), a.truth)).toBe(false);
    await vol.close();
    void copyFileSync;
  });
});

describe("zarr v2 fixtures through `cloudvolume download` (built CLI)", () => {
  for (const [i, a] of arrays.entries()) {
    // The zarr2_* arrays get 20 sub-boxes each; the tiny zarr-python testdata arrays (4 to 27 voxels) 5.
    const n = a.name.startsWith("zarr2_") ? 20 : 5;
    it(`${a.name}: whole array and ${n} random sub-boxes`, async () => {
      const dir = tempDir("cv-zarr-cli-");
      const [X, Y, Z] = xyzc(a.shape);
      const boxes = [{ min: [0, 0, 0], max: [X, Y, Z] }, ...randomBoxes(a, n, 2000 + i)];
      await pool(boxes, 3, async (box, k) => {
        const out = join(dir, `${k}.bin`);
        const r = await cv("download", `zarr://file://${a.dir}`, "--bbox", [...box.min, ...box.max].join(","), "--fill-missing", "--out", out);
        expect(r.code, r.stderr).toBe(0);
        const want = k === 0 ? a.truth : expectedBox(a, box as never);
        expect(sameBytes(new Uint8Array(readFileSync(out)), want), `box ${[...box.min, ...box.max].join(",")}`).toBe(true);
      });
    }, 120_000);
  }
});
