import { execFile } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fixturePath, readExpected, readGroundTruth, tempDir } from "@cloudvolume/testing";
import { CloudVolume } from "../src/index.js";

/**
 * Issue 3's fixtures through the public API and the CLI: compressed_segmentation
 * and png bit for bit, jpeg within RMSE < 3 of the ground truth (the RGB one
 * decoded correctly, unlike CloudVolume's own reader).
 */
const LOSSLESS = ["pc_seg_u32_cseg", "pc_seg_u64_cseg", "pc_seg_u64_cseg_gzip_ragged", "pc_seg_fib25_cseg", "pc_seg_fib25_u32_cseg", "pc_image_u8_png"];
const LOSSY = ["pc_image_u8_jpeg", "pc_image_rgb_jpeg"];

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

function subBox(gt: Uint8Array, shape: number[], bpv: number, min: number[], max: number[]): Buffer {
  const [sx, sy, sz] = [max[0] - min[0], max[1] - min[1], max[2] - min[2]];
  const out = Buffer.alloc(sx * sy * sz * bpv);
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) {
    const src = (min[0] + shape[0] * (min[1] + y + shape[1] * (min[2] + z))) * bpv;
    out.set(gt.subarray(src, src + sx * bpv), (sx * (y + sy * z)) * bpv);
  }
  return out;
}

describe.each(LOSSLESS)("lossless fixture %s", (name) => {
  it("reads whole and 20 random sub-boxes bit for bit", async () => {
    const gt = readGroundTruth(name);
    const vol = await CloudVolume.open(fixturePath(name));
    const b = vol.bounds;
    const whole = await vol.download(b);
    expect(bytes(whole.data).equals(Buffer.from(gt.bytes))).toBe(true);
    const bpv = gt.bytes.length / gt.shape.reduce((p, q) => p * q, 1);
    let seed = 99;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20; i++) {
      const min = [0, 1, 2].map((d) => Math.floor(rand() * (b.max[d] - b.min[d])));
      const max = [0, 1, 2].map((d) => min[d] + 1 + Math.floor(rand() * (b.max[d] - b.min[d] - min[d])));
      const cut = await vol.download([min[0] + b.min[0], min[1] + b.min[1], min[2] + b.min[2], max[0] + b.min[0], max[1] + b.min[1], max[2] + b.min[2]]);
      expect(bytes(cut.data).equals(subBox(gt.bytes, gt.shape, bpv, min, max)), `${min}-${max}`).toBe(true);
    }
    await vol.close();
  });
});

describe.each(LOSSY)("jpeg fixture %s", (name) => {
  it("reads within RMSE < 3 of the ground truth", async () => {
    const gt = readGroundTruth(name);
    const vol = await CloudVolume.open(fixturePath(name));
    const cut = await vol.download(vol.bounds);
    expect(cut.shape).toEqual([gt.shape[0], gt.shape[1], gt.shape[2], gt.shape[3] ?? 1]);
    const e = rmse(cut.data as Uint8Array, gt.bytes);
    expect(e).toBeLessThan(3);
    const exp = readExpected(name) as { decoded_by_pillow_as2d_inverse?: string };
    if (exp.decoded_by_pillow_as2d_inverse) {
      // An independent decoder (Pillow) of the same file agrees with ours closely.
      const pillow = readFileSync(join(fixturePath(name), exp.decoded_by_pillow_as2d_inverse));
      expect(rmse(cut.data as Uint8Array, pillow)).toBeLessThan(3);
    }
  });
});

describe("writing compressed_segmentation as CloudVolume does", () => {
  it.each(["pc_seg_u32_cseg", "pc_seg_u64_cseg", "pc_seg_u64_cseg_gzip_ragged"])("%s: same file names and same bytes after gunzip", async (name) => {
    const meta = JSON.parse(readFileSync(join(fixturePath(name), "FIXTURE.json"), "utf8")) as { compress: string | boolean | null };
    const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
    const dir = tempDir();
    const vol = await CloudVolume.open(dir, { info, compress: meta.compress === false ? false : meta.compress === null ? undefined : (meta.compress as "gzip") });
    await vol.commitInfo();
    const gt = readGroundTruth(name);
    const data = vol.dtype === "uint64" ? new BigUint64Array(gt.bytes.slice().buffer) : new Uint32Array(gt.bytes.slice().buffer);
    await vol.upload(vol.bounds, data);
    const list = (root: string) => {
      const out: string[] = [];
      const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else out.push(relative(root, p)); } };
      walk(root);
      return out.filter((f) => !f.endsWith(".json")).sort();
    };
    expect(list(dir)).toEqual(list(fixturePath(name)));
    const plain = (p: string) => (p.endsWith(".gz") ? gunzipSync(readFileSync(p)) : readFileSync(p));
    for (const f of list(dir)) if (f !== "info") expect(plain(join(dir, f)).equals(plain(join(fixturePath(name), f))), f).toBe(true);
  });
});

describe("CLI download of codec fixtures", () => {
  const cli = join(fileURLToPath(new URL("..", import.meta.url)), "dist", "cli.js");
  const run = promisify(execFile);
  it.each([...LOSSLESS, ...LOSSY])("%s", async (name) => {
    const vol = await CloudVolume.open(fixturePath(name));
    const b = vol.bounds;
    const out = join(tempDir(), "out.bin");
    await run(process.execPath, [cli, "download", fixturePath(name), "--bbox", b.toArray().join(","), "--out", out]);
    const got = readFileSync(out);
    const gt = readGroundTruth(name);
    if (LOSSLESS.includes(name)) expect(got.equals(Buffer.from(gt.bytes))).toBe(true);
    else expect(rmse(got, gt.bytes)).toBeLessThan(3);
  });
});
