import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath, readGroundTruth, reference, runReference, runNodeScript, tempDir, NO_REFERENCE } from "@cloudvolume/testing";
import { CloudVolume } from "../src/index.js";
import { truth } from "./helpers.js";

/**
 * compresso layers written by CloudVolume (pc_seg_u64_compresso, pc_seg_fib25_compresso)
 * through the default plugins: CloudVolume.open downloads, unique and point, the built
 * CLI's download / unique / point, and `cp --encoding compresso` into a new layer that the
 * real CloudVolume (reference install) reads back to the same voxels.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const cv = (...args: string[]) => runNodeScript(cli, args);
const FIXTURES = ["pc_seg_u64_compresso", "pc_seg_fib25_compresso"];
const ref = reference();
if (!ref && process.env.CI) throw new Error(NO_REFERENCE);

beforeAll(async () => {
  if (!existsSync(cli)) await promisify(execFile)("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

describe("compresso layers", () => {
  for (const name of FIXTURES) {
    it(`${name}: download, unique and point through CloudVolume.open and the CLI`, async () => {
      const t = truth(name);
      const gt = readGroundTruth(name);
      const vol = await CloudVolume.open(`file://${fixturePath(name)}`);
      try {
        const whole = await vol.download(vol.bounds);
        expect(Buffer.from(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength).equals(Buffer.from(gt.bytes))).toBe(true);
        const box = [[3, 5, 1], [41, 37, 13]];
        expect([...(await vol.unique([...box[0], ...box[1]]))].map(String)).toEqual(t.uniqueIn(box[0], box[1]).map(String));
        expect((await vol.scatteredPoints([[30, 33, 7], [0, 0, 0]])).map(String)).toEqual([String(t.at(30, 33, 7)), String(t.at(0, 0, 0))]);
      } finally {
        await vol.close();
      }
      const dir = tempDir("cv-compresso-cli-");
      const s = vol.bounds;
      let r = await cv("download", fixturePath(name), "--bbox", [...s.min, ...s.max].join(","), "--out", join(dir, "a.bin"));
      expect(r.code, r.stderr).toBe(0);
      expect(Buffer.from(readFileSync(join(dir, "a.bin"))).equals(Buffer.from(gt.bytes))).toBe(true);
      r = await cv("unique", fixturePath(name), "--bbox", [...s.min, ...s.max].join(","));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split("\n")).toEqual(t.uniqueIn(s.min, s.max).map(String));
      r = await cv("point", fixturePath(name), "30,33,7");
      expect(r.stdout.trim()).toBe(String(t.at(30, 33, 7)));
    }, 60_000);
  }

  it.skipIf(!ref)(`cp --encoding compresso writes what the real CloudVolume reads back${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, async () => {
    const dir = tempDir("cv-compresso-cp-");
    const r = await cv("cp", fixturePath("pc_seg_u64_cseg"), `file://${join(dir, "seg")}`, "--encoding", "compresso");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "seg", "info"), "utf8")).scales[0].encoding).toBe("compresso");
    const out = join(dir, "py.bin");
    runReference(ref!, `
import sys, numpy as np
from cloudvolume import CloudVolume
vol = CloudVolume("file://" + sys.argv[1], progress=False)
img = vol[:, :, :][..., 0]
open(sys.argv[2], "wb").write(np.asfortranarray(img).tobytes(order="F"))
`, [join(dir, "seg"), out]);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(readGroundTruth("pc_seg_u64_cseg").bytes))).toBe(true);
  }, 120_000);
});
