import { cpSync, readFileSync, writeFileSync } from "node:fs";
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
 * Every zarr v3 array of the fixtures (zarrita.js, python zarrita, TensorStore; never us)
 * read exactly through CloudVolume.open (zarr:// and zarr3://) and the built CLI's
 * `download`: the whole array and seeded random sub-boxes, against expected/*.bin. The
 * sharded ones (sharding_indexed, crc32c index) go through the engine's sharded path;
 * "filled" arrays have inner chunks missing from their shards (read as the fill value).
 */
const { arrays } = fixtureArrays(3);
const plugins = [zarr(), ...compressionPlugins()];
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe("zarr v3 fixtures through CloudVolume.open", () => {
  it("lists the 3 zarr3_* arrays, TensorStore's single_res and the 33 python-zarrita arrays", () => {
    expect(arrays.length).toBe(3 + 1 + 33);
    expect(arrays.filter((a) => a.name.includes("sharded")).length).toBe(15);
  });

  for (const [i, a] of arrays.entries()) {
    it(`${a.name}: whole array and 20 random sub-boxes`, async () => {
      const scheme = i % 2 === 0 ? "zarr" : "zarr3";
      const vol = await CloudVolume.open(`${scheme}://file://${a.dir}`, { plugins, fillMissing: true });
      try {
        const [X, Y, Z, C] = xyzc(a.shape);
        expect(vol.bounds.size()).toEqual([X, Y, Z]);
        expect(vol.numChannels).toBe(C);
        expect(vol.isSharded(0)).toBe(a.name.includes("sharded"));
        const whole = await vol.download(vol.bounds);
        expect(sameBytes(bytesOf(whole.data), a.truth), "whole array").toBe(true);
        for (const box of randomBoxes(a, 20, 3000 + i)) {
          const cut = await vol.download(box);
          expect(sameBytes(bytesOf(cut.data), expectedBox(a, box)), `sub-box ${box}`).toBe(true);
        }
      } finally {
        await vol.close();
      }
    });
  }

  it("a v3 array opened as zarr2:// is a clear error saying it is v3", async () => {
    const err = await CloudVolume.open(`zarr2://file://${arrays[0].dir}`, { plugins }).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "INVALID_METADATA"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/zarr v3 layer \(it has zarr\.json\)/);
  });

  const sharded = arrays.find((a) => a.name.endsWith("3d.chunked.mixed.compressed.sharded.i2"))!;

  it("a corrupt shard index fails its crc32c: DECODE_FAILED naming the shard, never wrong voxels", async () => {
    const dir = tempDir("cv-zarr3-crc-");
    cpSync(sharded.dir, dir, { recursive: true });
    const shard = join(dir, "c", "0", "0", "0");
    const b = readFileSync(shard);
    b[b.length - 10] ^= 0x01; // inside the index, before its checksum
    writeFileSync(shard, b);
    const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins });
    const err = await vol.download(vol.bounds).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/crc32c mismatch/);
    expect((err as Error).message).toMatch(/c\/0\/0\/0/);
    await vol.close();
  });

  it("a truncated shard is DECODE_FAILED naming it; a corrupt inner chunk is DECODE_FAILED too", async () => {
    const dir = tempDir("cv-zarr3-trunc-");
    cpSync(sharded.dir, dir, { recursive: true });
    const shard = join(dir, "c", "0", "0", "0");
    const b = readFileSync(shard);
    writeFileSync(shard, b.subarray(0, 30));
    const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins });
    const err = await vol.download(vol.bounds).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/c\/0\/0\/0/);
    // The index intact, the first inner chunk's gzip bytes garbled.
    const c = Buffer.from(b);
    for (let k = 10; k < 20; k++) c[k] ^= 0x5a;
    writeFileSync(shard, c);
    const err2 = await vol.download(vol.bounds).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err2, "DECODE_FAILED"), String(err2)).toBe(true);
    await vol.close();
  });

  it("without fillMissing, an inner chunk missing from its shard is NOT_FOUND (the engine's contract)", async () => {
    const a = arrays.find((x) => x.name.endsWith("2d.chunked.compressed.sharded.filled.i2"))!;
    const vol = await CloudVolume.open(`zarr3://file://${a.dir}`, { plugins });
    const err = await vol.download(vol.bounds).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND"), String(err)).toBe(true);
    await vol.close();
  });

  it("negative control: transposed chunks read without their transpose codec do not match", async () => {
    const a = arrays.find((x) => x.name === "zarr3_f32_transpose_bigendian")!;
    const dir = tempDir("cv-zarr3-transpose-");
    cpSync(a.dir, dir, { recursive: true });
    const meta = JSON.parse(readFileSync(join(dir, "zarr.json"), "utf8"));
    writeFileSync(join(dir, "zarr.json"), JSON.stringify({ ...meta, codecs: meta.codecs.slice(1) }));
    const vol = await CloudVolume.open(`zarr3://file://${dir}`, { plugins });
    const whole = await vol.download(vol.bounds);
    expect(sameBytes(bytesOf(whole.data), a.truth)).toBe(false);
    await vol.close();
  });
});

describe("zarr v3 fixtures through `cloudvolume download` (built CLI)", () => {
  for (const [i, a] of arrays.entries()) {
    const n = a.name.startsWith("zarr3_") ? 20 : 3;
    it(`${a.name}: whole array and ${n} random sub-boxes`, async () => {
      const dir = tempDir("cv-zarr3-cli-");
      const [X, Y, Z] = xyzc(a.shape);
      const boxes = [{ min: [0, 0, 0], max: [X, Y, Z] }, ...randomBoxes(a, n, 4000 + i)];
      await pool(boxes, 3, async (box, k) => {
        const out = join(dir, `${k}.bin`);
        const r = await cv("download", `zarr3://file://${a.dir}`, "--bbox", [...box.min, ...box.max].join(","), "--fill-missing", "--out", out);
        expect(r.code, r.stderr).toBe(0);
        const want = k === 0 ? a.truth : expectedBox(a, box as never);
        expect(sameBytes(new Uint8Array(readFileSync(out)), want), `box ${[...box.min, ...box.max].join(",")}`).toBe(true);
      });
    }, 120_000);
  }
});
