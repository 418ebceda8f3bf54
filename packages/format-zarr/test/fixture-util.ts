import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Bbox } from "@cloudvolume/core";
import { fixturePath, runNodeScript } from "@cloudvolume/testing";

export const PKG = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = join(PKG, "..", "..");
export const CLI = join(ROOT, "packages", "cloudvolume", "dist", "cli.js");
export const PLUGIN_MODULE = join(PKG, "test", "plugin-modules", "zarr-all.mjs");

/** Build the CLI and our packages when their dist is missing (as the cloudvolume CLI tests do). */
export async function ensureBuilt(): Promise<void> {
  const need = [CLI, join(PKG, "dist", "index.js"), join(ROOT, "packages", "codec-blosc", "dist", "index.js"), join(ROOT, "packages", "codec-bzip2", "dist", "node.js")];
  if (need.every(existsSync)) return;
  await promisify(execFile)("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume...", "--filter=@cloudvolume/format-zarr..."], { cwd: ROOT });
}

/** `cloudvolume <args>` with the zarr plugins. */
export const cv = (...args: string[]) => runNodeScript(CLI, ["--plugin", PLUGIN_MODULE, ...args]);

/** One array of the fixtures: where it is and its ground truth (C order over the zarr shape). */
export interface FixtureArray {
  name: string;
  version: 2 | 3;
  dir: string;
  shape: number[];
  dtype: string;
  truth: Uint8Array;
}

const SINGLE: Record<2 | 3, string[]> = {
  2: ["zarr2_u8_gzip", "zarr2_u16_blosc_forder", "zarr2_u16be_zstd", "zarr2_u64_raw_nested", "zarr2_f32_zlib_ragged_fill"],
  3: ["zarr3_u8_gzip", "zarr3_f32_transpose_bigendian", "zarr3_u64_zstd_ragged", "thirdparty_zarr3_tensorstore_single_res"],
};
const COLLECTIONS: Record<2 | 3, string> = { 2: "thirdparty_zarr2_from_zarr_python", 3: "thirdparty_zarr3_from_zarrita" };

/** The fixtures' zarr arrays of one version (never written by us) and the ones they mark as not numeric. */
export function fixtureArrays(version: 2 | 3 = 2): { arrays: FixtureArray[]; skipped: { name: string; dir: string; why: string }[] } {
  const arrays: FixtureArray[] = [];
  const skipped: { name: string; dir: string; why: string }[] = [];
  for (const f of SINGLE[version]) {
    const exp = JSON.parse(readFileSync(join(fixturePath(f), "expected.json"), "utf8"));
    arrays.push({ name: f, version, dir: join(fixturePath(f), exp.array_path), shape: exp.ground_truth.shape, dtype: exp.ground_truth.dtype, truth: new Uint8Array(readFileSync(join(fixturePath(f), exp.ground_truth.file))) });
  }
  const tp = COLLECTIONS[version];
  const exp = JSON.parse(readFileSync(join(fixturePath(tp), "expected.json"), "utf8"));
  for (const [name, a] of Object.entries(exp.arrays as Record<string, { file?: string; shape: number[]; dtype: string; skipped?: string }>)) {
    const dir = join(fixturePath(tp), exp.root, name);
    if (a.skipped) skipped.push({ name: `${tp}/${name}`, dir, why: a.skipped });
    else arrays.push({ name: `${tp}/${name}`, version, dir, shape: a.shape, dtype: a.dtype, truth: new Uint8Array(readFileSync(join(fixturePath(tp), a.file!))) });
  }
  return { arrays, skipped };
}

export const ITEMSIZE: Record<string, number> = { bool: 1, uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8, int64: 8, float32: 4, float64: 8 };

/** The engine's view of a zarr shape: x, y, z = the last three axes reversed (size 1 when absent), channels = the fourth from the end. */
export function xyzc(shape: number[]): [number, number, number, number] {
  const r = [...shape].reverse();
  return [r[0] ?? 1, r[1] ?? 1, r[2] ?? 1, r[3] ?? 1];
}

/** The expected Fortran (x, y, z, c) bytes of `box` (all channels) from the C-order ground truth. */
export function expectedBox(a: FixtureArray, box: Bbox): Uint8Array {
  const [X, Y, Z, C] = xyzc(a.shape);
  const bpv = ITEMSIZE[a.dtype];
  const s = box.size();
  const out = new Uint8Array(s[0] * s[1] * s[2] * C * bpv);
  let o = 0;
  for (let c = 0; c < C; c++)
    for (let z = box.min[2]; z < box.max[2]; z++)
      for (let y = box.min[1]; y < box.max[1]; y++) {
        const start = (box.min[0] + X * (y + Y * (z + Z * c))) * bpv;
        out.set(a.truth.subarray(start, start + s[0] * bpv), o);
        o += s[0] * bpv;
      }
  return out;
}

/** Seeded random sub-boxes inside [0, X) x [0, Y) x [0, Z). */
export function randomBoxes(a: FixtureArray, n: number, seed: number): Bbox[] {
  const [X, Y, Z] = xyzc(a.shape);
  let s = seed >>> 0 || 1;
  const rnd = (k: number) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % k;
  };
  const boxes: Bbox[] = [];
  for (let i = 0; i < n; i++) {
    const lo = [rnd(X), rnd(Y), rnd(Z)];
    const hi = [lo[0] + 1 + rnd(X - lo[0]), lo[1] + 1 + rnd(Y - lo[1]), lo[2] + 1 + rnd(Z - lo[2])];
    boxes.push(new Bbox(lo as [number, number, number], hi as [number, number, number]));
  }
  return boxes;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Run `fn` over `items`, `limit` at a time. */
export async function pool<T>(items: T[], limit: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

/** zarrita returns F-order arrays with F strides: gather them into C order. */
export function cOrderBytes(b: Uint8Array, shape: number[], stride: number[], bpv: number): Uint8Array {
  const n = shape.length;
  const c = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) { c[i] = s; s *= shape[i]; }
  if (c.every((v, i) => v === stride[i] || shape[i] === 1)) return b;
  const out = new Uint8Array(b.byteLength);
  const idx = new Array<number>(n).fill(0);
  for (let e = 0; e < s; e++) {
    let src = 0;
    for (let i = 0; i < n; i++) src += idx[i] * stride[i];
    out.set(b.subarray(src * bpv, src * bpv + bpv), e * bpv);
    for (let i = n - 1; i >= 0; i--) { if (++idx[i] < shape[i]) break; idx[i] = 0; }
  }
  return out;
}
