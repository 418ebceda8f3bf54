import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { copyFixture, fixturePath, runNodeScript } from "@cloudvolume/testing";
import { truth } from "./helpers.js";

/**
 * The operation commands (exists, delete, unique, point) as users run them: the built
 * dist/cli.js in a child process, outputs checked against the fixtures' ground truth.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const run = promisify(execFile);

const cv = (...args: string[]) => runNodeScript(cli, args);

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

beforeAll(async () => {
  if (!existsSync(cli)) await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

describe("cloudvolume CLI operations", () => {
  it("unique prints one label per line, ascending, for the whole volume and a box", async () => {
    for (const name of ["pc_seg_u64_cseg", "pc_seg_u32_raw_gzip", "pc_seg_u64_cseg_sharded"]) {
      const t = truth(name);
      let r = await cv("unique", fixturePath(name), "--bbox", "0,0,0,64,64,32");
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(t.uniqueIn([0, 0, 0], [64, 64, 32]).map(String));
      r = await cv("unique", `file://${fixturePath(name)}`, "--bbox=5,9,3,41,22,19");
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(t.uniqueIn([5, 9, 3], [41, 22, 19]).map(String));
    }
    const m1 = truth("pc_image_u8_multiscale", 1);
    const r = await cv("unique", fixturePath("pc_image_u8_multiscale"), "--bbox", "2,3,4,20,9,30", "--mip", "1");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(m1.uniqueIn([2, 3, 4], [20, 9, 30]).map(String));
  });

  it("point prints the value (mip 0 coordinates; channels space-separated)", async () => {
    const t = truth("pc_seg_u64_cseg");
    for (const p of [[0, 0, 0], [63, 63, 31], [17, 40, 9]]) {
      const r = await cv("point", fixturePath("pc_seg_u64_cseg"), p.join(","));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${t.at(p[0], p[1], p[2])}\n`);
    }
    const c2 = truth("pc_image_u8_2ch_raw");
    let r = await cv("point", fixturePath("pc_image_u8_2ch_raw"), "30,12,7");
    expect(r.stdout).toBe(`${c2.at(30, 12, 7, 0)} ${c2.at(30, 12, 7, 1)}\n`);
    const m1 = truth("pc_image_u8_multiscale", 1);
    r = await cv("point", fixturePath("pc_image_u8_multiscale"), "13,40,7", "--mip", "1");
    expect(r.stdout).toBe(`${m1.at(6, 20, 7)}\n`);
    const rag = truth("pc_image_u8_raw_ragged_offset");
    r = await cv("point", fixturePath("pc_image_u8_raw_ragged_offset"), "3,5,7");
    expect(r.stdout).toBe(`${rag.at(3, 5, 7)}\n`);
    r = await cv("point", fixturePath("pc_image_u8_raw_ragged_offset"), "-1,5,7");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outside the bounds/);
    r = await cv("point", fixturePath("pc_image_u8_raw_ragged_offset"), "1,2");
    expect(r.code).toBe(2);
  });

  it("exists reports counts and missing chunks (exit 0); delete removes aligned chunks and refuses the rest", async () => {
    const dir = copyFixture("pc_seg_u32_raw_gzip");
    let r = await cv("exists", dir, "--bbox", "0,0,0,64,64,32");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(["8 of 8 chunks exist (mip 0)"]);
    rmSync(join(dir, "4_4_40", "32-64_0-32_16-32.gz"));
    r = await cv("exists", dir, "--bbox", "0,0,0,64,64,32");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(["7 of 8 chunks exist (mip 0)", "missing 4_4_40/32-64_0-32_16-32"]);
    r = await cv("delete", dir, "--bbox", "0,0,0,30,32,16");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not aligned/);
    expect(existsSync(join(dir, "4_4_40", "0-32_0-32_0-16.gz"))).toBe(true);
    r = await cv("delete", dir, "--bbox", "0,0,0,64,32,16");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(["deleted 2 chunk file(s)"]);
    r = await cv("exists", dir, "--bbox", "0,0,0,64,64,32");
    expect(lines(r.stdout)).toEqual([
      "5 of 8 chunks exist (mip 0)", "missing 4_4_40/0-32_0-32_0-16", "missing 4_4_40/32-64_0-32_0-16", "missing 4_4_40/32-64_0-32_16-32",
    ]);
    const sharded = copyFixture("pc_seg_u64_cseg_sharded");
    r = await cv("delete", sharded, "--bbox", "0,0,16,64,64,32");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(["deleted 1 shard file(s)"]);
    r = await cv("exists", sharded, "--bbox", "0,0,0,64,64,32");
    expect(lines(r.stdout)[0]).toBe("4 of 8 chunks exist (mip 0)");
  });

  it("usage lists the operation commands; bad input exits 2", async () => {
    const r = await cv("help");
    for (const c of ["exists <path> --bbox", "delete <path> --bbox", "unique <path> --bbox", "point <path> x,y,z"]) expect(r.stdout).toContain(c);
    expect((await cv("unique", fixturePath("pc_seg_u64_cseg"))).code).toBe(2);
    expect((await cv("exists", fixturePath("pc_seg_u64_cseg"), "--bbox", "1,2,3")).code).toBe(2);
    expect((await cv("delete", fixturePath("pc_seg_u64_cseg"), "--bbox", "0,0,0,1,1,1", "--bogus")).code).toBe(2);
  });
});
