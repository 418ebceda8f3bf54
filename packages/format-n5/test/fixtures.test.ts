import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Plugin } from "@cloudvolume/core";
import { fixturePath, hasFixture, runNodeScript, seededRandom, tempDir } from "@cloudvolume/testing";
import { CloudVolume } from "./cloudvolume.js";
import { n5 } from "../src/index.js";
import { CLI, cliCompression, cropFortran, ensureBuilt, findCompression, firstDiff, groundTruthXyz, n5PluginArgs, pool, randomBoxes } from "./helpers.js";

/*
 * Every N5 array of the shared fixtures (written by zarr-python's N5Store: padded end blocks;
 * the TensorStore golden files too), read exactly through CloudVolume.open and through the
 * CLI's `download`, whole and in 20 random sub-boxes, against each fixture's expected/*.bin
 * (the zarr view in C order, which is N5's Fortran x, y, z order).
 *
 * Arrays whose compression needs a plugin that does not exist yet (bzip2, blosc: another
 * engineer's packages) are skipped with the reason; they run once a plugin is found (in
 * cloudvolume's default set or as a workspace package).
 */

interface FixtureArray {
  title: string;
  fixture: string;
  /** Path of the dataset or multiscale group inside the fixture directory. */
  path: string;
  dtype: string;
  /** The compression plugin it needs (undefined: raw). */
  compression?: string;
  mips?: number;
}

const ARRAYS: FixtureArray[] = [
  { title: "n5_u16_gzip (dataset s0)", fixture: "n5_u16_gzip", path: "data.n5/s0", dtype: "uint16", compression: "gzip" },
  { title: "n5_u16_gzip (the group data.n5: s0 as mip 0)", fixture: "n5_u16_gzip", path: "data.n5", dtype: "uint16", compression: "gzip" },
  { title: "n5_u64_raw (root dataset)", fixture: "n5_u64_raw", path: "data.n5", dtype: "uint64" },
  ...["raw", "gzip", "bzip2", "xz", "blosc"].map((c) => ({
    title: `thirdparty_n5_tensorstore_testdata/${c}`, fixture: "thirdparty_n5_tensorstore_testdata", path: c, dtype: "uint16", compression: c === "raw" ? undefined : c,
  })),
];

const BPV: Record<string, number> = { uint16: 2, uint64: 8 };
const SUBBOXES = 20;

/** Plugins each compression needs for CloudVolume.open (undefined: none found yet). */
const apiPlugins = new Map<string, Plugin | undefined>();
const cliPlugins = new Map<string, string | undefined>();
for (const c of new Set(ARRAYS.map((a) => a.compression).filter((c): c is string => c !== undefined))) {
  apiPlugins.set(c, await findCompression(c));
  cliPlugins.set(c, await cliCompression(c));
}

function apiSkip(a: FixtureArray): string | undefined {
  if (!hasFixture(a.fixture)) return `fixture ${a.fixture} is not in ${fixturePath("")}`;
  if (a.compression && !apiPlugins.get(a.compression)) return `no "${a.compression}" compression plugin yet (its codec package has not landed)`;
  return undefined;
}

function cliSkip(a: FixtureArray): string | undefined {
  const api = apiSkip(a);
  if (api) return api;
  if (a.compression && !cliPlugins.get(a.compression)) return `the CLI has no "${a.compression}" compression (not in cloudvolume's default set, no built package with it)`;
  return undefined;
}

describe("N5 fixtures through CloudVolume.open", () => {
  for (const a of ARRAYS) {
    const reason = apiSkip(a);
    const title = reason ? `${a.title} [skipped: ${reason}]` : a.title;
    it.skipIf(reason !== undefined)(`${title}: whole array and ${SUBBOXES} random sub-boxes read exactly`, async () => {
      const gt = groundTruthXyz(a.fixture);
      expect(gt.dtype).toBe(a.dtype);
      const bpv = BPV[a.dtype];
      const plugins: Plugin[] = [n5()];
      if (a.compression) plugins.push(apiPlugins.get(a.compression)!);
      const vol = await CloudVolume.open(`n5://file://${join(fixturePath(a.fixture), a.path)}`, { plugins });
      try {
        expect(vol.dtype).toBe(a.dtype);
        expect(vol.numChannels).toBe(1);
        expect(vol.info.scales).toHaveLength(1);
        expect([...vol.bounds.min, ...vol.bounds.max]).toEqual([0, 0, 0, ...gt.shape]);
        const whole = await vol.download([0, 0, 0, ...gt.shape]);
        const bytes = new Uint8Array(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength);
        expect(firstDiff(bytes, gt.bytes), "first differing byte of the whole array").toBe(-1);
        const rand = seededRandom(0x5eed ^ a.title.length * 7919);
        for (const [lo, hi] of randomBoxes(gt.shape, SUBBOXES, rand)) {
          const cut = await vol.download([...lo, ...hi]);
          const got = new Uint8Array(cut.data.buffer, cut.data.byteOffset, cut.data.byteLength);
          expect(firstDiff(got, cropFortran(gt.bytes, gt.shape, bpv, lo, hi)), `box ${lo}-${hi}`).toBe(-1);
        }
      } finally {
        await vol.close();
      }
    });
  }
});

describe("N5 fixtures through the CLI (cloudvolume download)", () => {
  beforeAll(ensureBuilt, 300_000);

  for (const a of ARRAYS) {
    const reason = cliSkip(a);
    const title = reason ? `${a.title} [skipped: ${reason}]` : a.title;
    it.skipIf(reason !== undefined)(`${title}: whole array and ${SUBBOXES} random sub-boxes`, async () => {
      const gt = groundTruthXyz(a.fixture);
      const bpv = BPV[a.dtype];
      const args = [...n5PluginArgs()];
      const via = a.compression ? cliPlugins.get(a.compression) : "default";
      if (via !== "default") args.push("--plugin", via!);
      const url = `n5://file://${join(fixturePath(a.fixture), a.path)}`;
      const dir = tempDir("cv-n5-cli-");
      const rand = seededRandom(0xc11 ^ a.title.length * 104729);
      const boxes: Array<[number[], number[]]> = [[[0, 0, 0], [...gt.shape]], ...randomBoxes(gt.shape, SUBBOXES, rand)];
      await pool(boxes, 4, async ([lo, hi], i) => {
        const out = join(dir, `b${i}.bin`);
        const r = await runNodeScript(CLI, ["download", url, "--bbox", [...lo, ...hi].join(","), "--out", out, ...args]);
        expect(r.code, `download ${lo}-${hi}: ${r.stderr}`).toBe(0);
        const got = new Uint8Array(readFileSync(out));
        expect(firstDiff(got, cropFortran(gt.bytes, gt.shape, bpv, lo, hi)), `box ${lo}-${hi}`).toBe(-1);
      });
    }, 120_000);
  }
});
