import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath, readExpected, readGroundTruth, requireReference, runReference, runNodeScript, tempDir, NO_REFERENCE } from "@cloudvolume/testing";
import { CloudVolume } from "../src/index.js";
import { ascending } from "./helpers.js";

/**
 * The float encodings (fpzip, kempressed, zfpc) through the default plugins, on the layers
 * CloudVolume wrote: CloudVolume.open downloads, unique and scatteredPoints, the built
 * CLI's download / unique / point, all equal to the ground truth (lossless fixtures) or to
 * the voxels CloudVolume's own decoder gave (lossy ones); then `cp --encoding E` and
 * `create --encoding E` + `upload` write layers that the real CloudVolume reads back to
 * what we read.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const cv = (...args: string[]) => runNodeScript(cli, args);
const ref = requireReference();

beforeAll(async () => {
  if (!existsSync(cli)) await promisify(execFile)("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

/** What a reader must give for the fixture: the ground truth, or decoded_by_reference.bin when lossy. */
function expectedVoxels(name: string): Float32Array {
  const exp = readExpected(name);
  const bytes = exp.decoded_by_reference ? new Uint8Array(readFileSync(join(fixturePath(name), exp.decoded_by_reference as string))) : readGroundTruth(name).bytes.slice();
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const FIXTURES = ["pc_float32_fpzip", "pc_float32_kempressed", "pc_float32_zfpc", "pc_float32_zfpc_reversible"];

describe("float-encoded layers", () => {
  for (const name of FIXTURES) {
    it(`${name}: download, unique and point through CloudVolume.open and the CLI`, async () => {
      const want = expectedVoxels(name);
      const [sx, sy] = readGroundTruth(name).shape;
      const at = (x: number, y: number, z: number) => want[x + sx * (y + sy * z)];
      const uniqueIn = (a: number[], b: number[]) => {
        const seen = new Set<number>();
        for (let z = a[2]; z < b[2]; z++) for (let y = a[1]; y < b[1]; y++) for (let x = a[0]; x < b[0]; x++) seen.add(at(x, y, z));
        return ascending([...seen]).map(String);
      };
      const vol = await CloudVolume.open(`file://${fixturePath(name)}`);
      const s = vol.bounds;
      try {
        const whole = await vol.download(s);
        expect(Buffer.from(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength).equals(bytesOf(want))).toBe(true);
        const box = [[3, 5, 1], [29, 31, 13]];
        expect([...(await vol.unique([...box[0], ...box[1]]))].map(String)).toEqual(uniqueIn(box[0], box[1]));
        expect((await vol.scatteredPoints([[30, 17, 7], [0, 0, 0]])).map(Number)).toEqual([at(30, 17, 7), at(0, 0, 0)]);
      } finally {
        await vol.close();
      }
      const dir = tempDir("cv-float-cli-");
      const bbox = [...s.min, ...s.max].join(",");
      let r = await cv("download", fixturePath(name), "--bbox", bbox, "--out", join(dir, "a.bin"));
      expect(r.code, r.stderr).toBe(0);
      expect(Buffer.from(readFileSync(join(dir, "a.bin"))).equals(bytesOf(want))).toBe(true);
      r = await cv("unique", fixturePath(name), "--bbox", "2,3,4,9,8,7");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split("\n").map(Number)).toEqual(uniqueIn([2, 3, 4], [9, 8, 7]).map(Number));
      r = await cv("point", fixturePath(name), "30,17,7");
      expect(r.code, r.stderr).toBe(0);
      expect(Number(r.stdout.trim())).toBe(at(30, 17, 7));
    }, 60_000);
  }

  const READ_BACK = `
import sys, numpy as np
from cloudvolume import CloudVolume
vol = CloudVolume("file://" + sys.argv[1], progress=False)
img = vol[:, :, :][..., 0]
assert img.dtype == np.float32, img.dtype
open(sys.argv[2], "wb").write(np.asfortranarray(img).tobytes(order="F"))
`;

  for (const encoding of ["fpzip", "kempressed", "zfpc"]) {
    it.skipIf(!ref)(`cp --encoding ${encoding} writes a layer the real CloudVolume reads as we do${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, async () => {
      const dir = tempDir(`cv-float-cp-${encoding}-`);
      const dst = join(dir, "img");
      const r = await cv("cp", fixturePath("pc_float32_fpzip"), `file://${dst}`, "--encoding", encoding);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(dst, "info"), "utf8")).scales[0].encoding).toBe(encoding);
      runReference(ref!, READ_BACK, [dst, join(dir, "py.bin")]);
      const vol = await CloudVolume.open(`file://${dst}`);
      const ours = await vol.download(vol.bounds);
      await vol.close();
      const theirs = readFileSync(join(dir, "py.bin"));
      expect(Buffer.from(ours.data.buffer, ours.data.byteOffset, ours.data.byteLength).equals(theirs), "CloudVolume reads what we read").toBe(true);
      // fpzip and zfpc (reversible by default) are lossless; kempressed rounds at +-2.
      const truth = new Float32Array(readGroundTruth("pc_float32_fpzip").bytes.slice().buffer);
      const back = new Float32Array(theirs.buffer.slice(theirs.byteOffset, theirs.byteOffset + theirs.byteLength));
      let worst = 0;
      for (let i = 0; i < truth.length; i++) worst = Math.max(worst, Math.abs(truth[i] - back[i]));
      expect(worst).toBeLessThanOrEqual(encoding === "kempressed" ? (readExpected("pc_float32_kempressed").max_abs_error_vs_ground_truth as number) : 0);
    }, 120_000);
  }

  it.skipIf(!ref)(`create --encoding zfpc, then upload: the real CloudVolume reads the voxels back${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, async () => {
    const dir = tempDir("cv-float-create-");
    const dst = join(dir, "img");
    let r = await cv("create", `file://${dst}`, "--type", "image", "--dtype", "float32", "--encoding", "zfpc", "--resolution", "4,4,40", "--size", "64,64,32", "--chunk-size", "32,32,16");
    expect(r.code, r.stderr).toBe(0);
    const input = join(dir, "in.bin");
    writeFileSync(input, readGroundTruth("pc_float32_fpzip").bytes);
    r = await cv("upload", `file://${dst}`, "--bbox", "0,0,0,64,64,32", "--in", input);
    expect(r.code, r.stderr).toBe(0);
    runReference(ref!, READ_BACK, [dst, join(dir, "py.bin")]);
    expect(readFileSync(join(dir, "py.bin")).equals(readFileSync(input))).toBe(true);
  }, 120_000);
});
