import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { CompressionPlugin, Plugin } from "@cloudvolume/core";
import { readGroundTruth } from "@cloudvolume/testing";
import { defaultPlugins } from "./cloudvolume.js";

export const PKG = fileURLToPath(new URL("..", import.meta.url));
export const REPO = join(PKG, "..", "..");
export const CLI = join(REPO, "packages", "cloudvolume", "dist", "cli.js");
export const N5_DIST = join(PKG, "dist", "index.js");
export const XZ_DIST = join(REPO, "packages", "codec-xz", "dist", "index.js");

/** Build what the CLI tests run (the CLI, this package and codec-xz) when a dist is missing. */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(CLI) && existsSync(N5_DIST) && existsSync(XZ_DIST)) return;
  await promisify(execFile)("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume...", "--filter=@cloudvolume/format-n5...", "--filter=@cloudvolume/codec-xz"], { cwd: REPO });
}

function pluginsIn(mod: Record<string, unknown>): Plugin[] {
  const out: Plugin[] = [];
  const take = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(take);
    else if (v && typeof v === "object" && typeof (v as Plugin).kind === "string" && typeof (v as Plugin).load === "function") out.push(v as Plugin);
  };
  take(mod.default);
  take(mod.plugins);
  return out;
}

const hasName = (p: Plugin, name: string): p is CompressionPlugin => p.kind === "compression" && p.names.includes(name);

/** Workspace packages that may provide a compression (other engineers' packages land there). */
const PROVIDERS: Record<string, string[]> = {
  gzip: ["codec-gzip"], zlib: ["codec-gzip"], bzip2: ["codec-bzip2"], blosc: ["codec-blosc"], lz4: ["codec-lz4"], zstd: ["codec-zstd"], xz: ["codec-xz"],
};

/**
 * A compression plugin for `name`, wherever one is: cloudvolume's default set, else a
 * workspace package's source (vitest aliases @cloudvolume/<dir> to it) whose default export
 * (or a zero-argument exported factory) gives one. Undefined when none exists yet.
 */
export async function findCompression(name: string): Promise<CompressionPlugin | undefined> {
  const d = defaultPlugins().find((p) => hasName(p, name));
  if (d) return d as CompressionPlugin;
  for (const dir of PROVIDERS[name] ?? []) {
    if (!existsSync(join(REPO, "packages", dir, "src", "index.ts"))) continue;
    const spec = `@cloudvolume/${dir}`;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const found = pluginsIn(mod).find((p) => hasName(p, name));
    if (found) return found;
    for (const v of Object.values(mod)) {
      if (typeof v !== "function" || v.length !== 0) continue;
      try {
        const p = (v as () => unknown)();
        if (p && typeof p === "object" && hasName(p as Plugin, name)) return p as CompressionPlugin;
      } catch {
        // not a factory
      }
    }
  }
  return undefined;
}

/**
 * How the CLI gets a compression: "default" (its built-in set has it), a `--plugin` module
 * path (a built workspace package whose default export has it), or undefined.
 */
export async function cliCompression(name: string): Promise<"default" | string | undefined> {
  if (defaultPlugins().some((p) => hasName(p, name))) return "default";
  for (const dir of PROVIDERS[name] ?? []) {
    const dist = join(REPO, "packages", dir, "dist", "index.js");
    if (!existsSync(dist)) continue;
    try {
      const mod = (await import(/* @vite-ignore */ pathToFileURL(dist).href)) as Record<string, unknown>;
      if (pluginsIn(mod).some((p) => hasName(p, name))) return dist;
    } catch {
      // not loadable
    }
  }
  return undefined;
}

/** `--plugin` arguments the CLI needs for n5 (until cloudvolume's default set has it). */
export function n5PluginArgs(): string[] {
  return defaultPlugins().some((p) => p.kind === "format" && p.names.includes("n5")) ? [] : ["--plugin", N5_DIST];
}

/** A fixture's ground truth as Fortran (x fastest) bytes and its x, y, z shape: the reverse of the C-order (zarr view) shape. */
export function groundTruthXyz(fixture: string): { bytes: Uint8Array; shape: [number, number, number]; dtype: string } {
  const gt = readGroundTruth(fixture);
  if (gt.order !== "C") throw new Error(`${fixture}: expected a C-order (zarr view) ground truth`);
  const rev = [...gt.shape].reverse();
  return { bytes: gt.bytes, shape: [rev[0], rev[1] ?? 1, rev[2] ?? 1], dtype: gt.dtype };
}

/** The bytes of box [lo, hi) of a Fortran array of `shape` with `bpv` bytes per voxel. */
export function cropFortran(bytes: Uint8Array, shape: readonly number[], bpv: number, lo: readonly number[], hi: readonly number[]): Uint8Array {
  const sx = hi[0] - lo[0], sy = hi[1] - lo[1], sz = hi[2] - lo[2];
  const out = new Uint8Array(sx * sy * sz * bpv);
  let o = 0;
  for (let z = lo[2]; z < hi[2]; z++)
    for (let y = lo[1]; y < hi[1]; y++) {
      const s = ((z * shape[1] + y) * shape[0] + lo[0]) * bpv;
      out.set(bytes.subarray(s, s + sx * bpv), o);
      o += sx * bpv;
    }
  return out;
}

/** `n` random boxes inside `shape`, from a seeded generator. */
export function randomBoxes(shape: readonly number[], n: number, rand: () => number): Array<[number[], number[]]> {
  const boxes: Array<[number[], number[]]> = [];
  for (let k = 0; k < n; k++) {
    const lo: number[] = [], hi: number[] = [];
    for (let d = 0; d < 3; d++) {
      const a = Math.floor(rand() * shape[d]);
      const b = a + 1 + Math.floor(rand() * (shape[d] - a));
      lo.push(a);
      hi.push(b);
    }
    boxes.push([lo, hi]);
  }
  return boxes;
}

/** First differing byte of two buffers, for messages; -1 when equal. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Run `fn` over `items`, `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}
