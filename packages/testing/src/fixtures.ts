import { readFileSync, existsSync, cpSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * ../shared/fixtures, found from this file (packages/testing/src -> repo root -> ../shared)
 * or from $CLOUDVOLUME_FIXTURES. Read-only in CI: copy before writing.
 */
export const FIXTURES_DIR: string = (() => {
  if (process.env.CLOUDVOLUME_FIXTURES) return resolve(process.env.CLOUDVOLUME_FIXTURES);
  const here = dirname(fileURLToPath(import.meta.url));
  const repoRoot = resolve(here, "..", "..", "..");
  return resolve(repoRoot, "..", "shared", "fixtures");
})();

export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}

export function hasFixture(name: string): boolean {
  return existsSync(fixturePath(name));
}

export interface GroundTruth {
  bytes: Uint8Array;
  shape: number[];
  dtype: string;
  order: "F" | "C";
}

export interface FixtureExpected {
  kind: string;
  ground_truth: { file: string; shape: number[]; dtype: string; order: "F" | "C"; sha256: string };
  bounds_xyz?: { min: number[]; max: number[] };
  ground_truth_by_mip?: Record<string, string>;
  [k: string]: unknown;
}

export function readExpected(name: string): FixtureExpected {
  return JSON.parse(readFileSync(join(fixturePath(name), "expected.json"), "utf8")) as FixtureExpected;
}

/** Load a fixture's ground truth (or the one for `mip`), as raw little-endian bytes. */
export function readGroundTruth(name: string, mip?: number): GroundTruth {
  const exp = readExpected(name);
  const rel = mip === undefined || mip === 0 ? exp.ground_truth.file : exp.ground_truth_by_mip?.[String(mip)];
  if (!rel) throw new Error(`fixture ${name} has no ground truth for mip ${mip}`);
  const binPath = join(fixturePath(name), rel);
  const meta = JSON.parse(readFileSync(binPath.replace(/\.bin$/, ".json"), "utf8")) as { shape: number[]; dtype: string; order: "F" | "C" };
  const buf = readFileSync(binPath);
  return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), shape: meta.shape, dtype: meta.dtype, order: meta.order };
}

/** Copy a fixture to a fresh temporary directory (for tests that write). */
export function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cv-${name}-`));
  cpSync(fixturePath(name), dir, { recursive: true });
  return dir;
}

export function tempDir(prefix = "cv-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Every file below `root` as a sorted list of forward-slash relative paths, leaving
 * out the fixture's own metadata (`FIXTURE.json`, `expected.json`) and any `exclude`d
 * names: the layout a writer is compared on.
 */
export function listLayerFiles(root: string, exclude: readonly string[] = []): string[] {
  const skip = new Set(["FIXTURE.json", "expected.json", ...exclude]);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join("/"));
    }
  };
  walk(root);
  return out.filter((f) => !skip.has(f)).sort();
}
