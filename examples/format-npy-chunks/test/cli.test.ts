import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { copyFixture, readGroundTruth, runNodeScript, tempDir, type ScriptResult } from "@cloudvolume/testing";

/**
 * The built `cloudvolume` CLI (cloudvolume/dist/cli.js, found through this package's
 * devDependency) with this package's BUILT entry (dist/index.js) as --plugin or in
 * CLOUDVOLUME_PLUGINS, in child processes as a user runs them. Needs `pnpm build`;
 * builds on demand when a dist is missing.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const plugin = join(pkg, "dist", "index.js");
const cli = join(dirname(createRequire(join(pkg, "package.json")).resolve("cloudvolume/package.json")), "dist", "cli.js");
const run = promisify(execFile);

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CLOUDVOLUME_PLUGINS;
  return env;
}
const cv = (args: string[], env: NodeJS.ProcessEnv = {}) => runNodeScript(cli, args, { env: { ...cleanEnv(), ...env } });

function ok(r: ScriptResult): ScriptResult {
  expect(r.code, `exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 500)}`).toBe(0);
  return r;
}

/** A non-zero exit with exactly one line on stderr (and nothing on stdout); returns the line. */
function oneLineError(r: ScriptResult): string {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n");
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[1]).toBe("");
  return lines[0];
}

beforeAll(async () => {
  if (!existsSync(cli) || !existsSync(plugin)) {
    await run("pnpm", ["exec", "turbo", "run", "build", "--filter=@cloudvolume-examples/format-npy-chunks..."], { cwd: join(pkg, "..", "..") });
  }
}, 300_000);

/** A uint16, 2-channel npychunks layer made and filled by the CLI (create + upload, with --plugin); returns its url and voxels. */
async function cliLayer(): Promise<{ dir: string; url: string; data: Uint16Array; bbox: string }> {
  const dir = tempDir("npychunks-cli-");
  const url = `npychunks://file://${join(dir, "layer")}`;
  ok(await cv(["create", url, "--plugin", plugin, "--type", "image", "--dtype", "uint16", "--encoding", "npy", "--resolution", "4,4,40",
    "--size", "10,9,5", "--chunk-size", "4,4,4", "--voxel-offset", "1,-2,0", "--channels", "2"]));
  const data = new Uint16Array(10 * 9 * 5 * 2).map((_, i) => (i * 40503 + 7) & 0xffff);
  writeFileSync(join(dir, "in.bin"), new Uint8Array(data.buffer));
  ok(await cv(["upload", url, "--bbox", "1,-2,0,11,7,5", "--in", join(dir, "in.bin"), "--plugin", plugin]));
  return { dir, url, data, bbox: "1,-2,0,11,7,5" };
}

describe("cloudvolume CLI with --plugin <examples/format-npy-chunks/dist/index.js>", () => {
  it("create and upload write npychunks.json and padded .npy chunk files", async () => {
    const { dir } = await cliLayer();
    const header = JSON.parse(readFileSync(join(dir, "layer", "npychunks.json"), "utf8"));
    expect(header).toEqual({ format: "npychunks", version: 1, type: "image", dtype: "uint16", channels: 2, size: [10, 9, 5], chunk_size: [4, 4, 4], voxel_offset: [1, -2, 0], resolution: [4, 4, 40] });
    const files = readdirSync(join(dir, "layer", "c"));
    expect(files).toHaveLength(3 * 3 * 2);
    for (const f of files) {
      expect(f).toMatch(/^\d+\.\d+\.\d+\.npy$/);
      expect(statSync(join(dir, "layer", "c", f)).size, f).toBe(128 + 4 * 4 * 4 * 2 * 2);
    }
  });

  it("info and download, --plugin before and after the positional", async () => {
    const { dir, url, data, bbox } = await cliLayer();
    for (const [i, args] of [
      ["--plugin", plugin, "info", url],
      ["info", "--plugin", plugin, url],
      ["info", url, "--plugin", plugin],
      ["info", url, `--plugin=${plugin}`],
    ].entries()) {
      const info = JSON.parse(ok(await cv(args)).stdout);
      expect(info, `form ${i}`).toEqual({
        type: "image", data_type: "uint16", num_channels: 2,
        scales: [{ key: "0", size: [10, 9, 5], voxel_offset: [1, -2, 0], resolution: [4, 4, 40], chunk_sizes: [[4, 4, 4]], encoding: "npy" }],
      });
    }
    for (const [i, args] of [
      ["--plugin", plugin, "download", url, "--bbox", bbox, "--out", join(dir, "o0.bin")],
      ["download", url, "--bbox", bbox, "--out", join(dir, "o1.bin"), "--plugin", plugin],
      ["download", "--plugin", plugin, url, "--bbox", bbox, "--out", join(dir, "o2.bin")],
      // worker threads know only the built-in plugins: with --plugin the CLI reads on this thread
      ["download", url, "--bbox", bbox, "--parallel", "2", "--out", join(dir, "o3.bin"), "--plugin", plugin],
    ].entries()) {
      ok(await cv(args));
      expect(readFileSync(join(dir, `o${i}.bin`)).equals(Buffer.from(data.buffer)), `download form ${i}`).toBe(true);
    }
    // a sub-box: x 3..7, y 0..2, z 4..5, both channels
    ok(await cv(["download", url, "--bbox", "3,0,4,7,2,5", "--out", join(dir, "sub.bin"), "--plugin", plugin]));
    const sub = new Uint16Array(new Uint8Array(readFileSync(join(dir, "sub.bin"))).buffer);
    expect(sub.length).toBe(4 * 2 * 1 * 2);
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 4; x++) expect(sub[x + 4 * (y + 2 * c)]).toBe(data[(x + 2) + 10 * ((y + 2) + 9 * (4 + 5 * c))]);
  });

  it("the same through CLOUDVOLUME_PLUGINS", async () => {
    const { dir, url, data, bbox } = await cliLayer();
    const env = { CLOUDVOLUME_PLUGINS: plugin };
    expect(JSON.parse(ok(await cv(["info", url], env)).stdout).scales[0].encoding).toBe("npy");
    ok(await cv(["download", url, "--bbox", bbox, "--out", join(dir, "env.bin")], env));
    expect(readFileSync(join(dir, "env.bin")).equals(Buffer.from(data.buffer))).toBe(true);
    // with a second (blank) entry and spaces, as a shell profile might have it
    ok(await cv(["info", url], { CLOUDVOLUME_PLUGINS: ` ${plugin} , ` }));
  });

  it("without the plugin: non-zero exit, one line naming --plugin", async () => {
    const { url } = await cliLayer();
    for (const args of [["info", url], ["download", url, "--bbox", "1,-2,0,11,7,5", "--out", join(tempDir(), "x.bin")]]) {
      const line = oneLineError(await cv(args));
      expect(line).toContain("npychunks");
      expect(line).toContain("--plugin");
      expect(line).toContain("CLOUDVOLUME_PLUGINS");
    }
  });

  it("cp a Precomputed fixture into npychunks and back, voxels equal to the fixture's ground truth", async () => {
    for (const name of ["pc_image_u8_raw_ragged_offset", "pc_image_u8_2ch_raw", "pc_image_u16_raw"]) {
      const src = copyFixture(name); // read-only fixtures: cp reads a copy
      const gt = readGroundTruth(name);
      const srcInfo = JSON.parse(readFileSync(join(src, "info"), "utf8"));
      const s = srcInfo.scales[0];
      const bbox = [...s.voxel_offset, ...s.voxel_offset.map((o: number, d: number) => o + s.size[d])].join(",");
      const dir = tempDir("npychunks-cp-");
      const np = `npychunks://file://${join(dir, "np")}`;

      ok(await cv(["cp", src, np, "--plugin", plugin]));
      const header = JSON.parse(readFileSync(join(dir, "np", "npychunks.json"), "utf8"));
      expect(header, name).toMatchObject({ dtype: srcInfo.data_type, channels: srcInfo.num_channels, size: s.size, chunk_size: s.chunk_sizes[0], voxel_offset: s.voxel_offset, resolution: s.resolution });
      const grid = s.size.map((n: number, d: number) => Math.ceil(n / s.chunk_sizes[0][d]));
      expect(readdirSync(join(dir, "np", "c")), name).toHaveLength(grid[0] * grid[1] * grid[2]);
      ok(await cv(["download", np, "--bbox", bbox, "--out", join(dir, "np.bin"), "--plugin", plugin]));
      expect(readFileSync(join(dir, "np.bin")).equals(Buffer.from(gt.bytes)), `${name}: npychunks copy vs ground truth`).toBe(true);

      // back to Precomputed (npy is no Precomputed encoding: pick raw), read without any plugin
      const back = `file://${join(dir, "back")}`;
      ok(await cv(["cp", np, back, "--encoding", "raw", "--plugin", plugin]));
      const backInfo = JSON.parse(readFileSync(join(dir, "back", "info"), "utf8"));
      expect(backInfo.scales).toHaveLength(1);
      expect(backInfo.scales[0]).toMatchObject({ encoding: "raw", size: s.size, voxel_offset: s.voxel_offset, chunk_sizes: s.chunk_sizes });
      ok(await cv(["download", back, "--bbox", bbox, "--out", join(dir, "back.bin")]));
      expect(readFileSync(join(dir, "back.bin")).equals(Buffer.from(gt.bytes)), `${name}: round trip vs ground truth`).toBe(true);
    }
  });

  it("cp of what npychunks cannot hold fails with one line naming the field", async () => {
    const dir = tempDir("npychunks-cp-");
    const multi = copyFixture("pc_image_u8_multiscale");
    let line = oneLineError(await cv(["cp", multi, `npychunks://file://${join(dir, "a")}`, "--plugin", plugin]));
    expect(line).toContain("scales");
    expect(line).toContain("got 3 scales");
    const jpeg = copyFixture("pc_image_u8_jpeg");
    line = oneLineError(await cv(["cp", jpeg, `npychunks://file://${join(dir, "b")}`, "--plugin", plugin]));
    expect(line).toContain("scales[0].encoding");
    expect(line).toContain("--encoding npy");
    // ... and with --encoding npy the lossy source copies (its decoded voxels, stored as npy)
    ok(await cv(["cp", jpeg, `npychunks://file://${join(dir, "c")}`, "--encoding", "npy", "--plugin", plugin]));
    expect(JSON.parse(readFileSync(join(dir, "c", "npychunks.json"), "utf8")).dtype).toBe("uint8");
    // the engine refuses sharding for this format
    line = oneLineError(await cv(["cp", copyFixture("pc_image_u8_raw"), `npychunks://file://${join(dir, "d")}`, "--sharded", "--plugin", plugin]));
    expect(line).toContain("npychunks");
    expect(line).toMatch(/shard/);
    // refused before the destination's metadata is written: nothing is left behind
    for (const d of ["a", "b", "d"]) expect(existsSync(join(dir, d, "npychunks.json")), `${d}/npychunks.json`).toBe(false);
  });

  it("cp from npychunks to Precomputed without --encoding is refused before any info is written", async () => {
    const { dir, url } = await cliLayer();
    const line = oneLineError(await cv(["cp", url, `file://${join(dir, "pc")}`, "--plugin", plugin]));
    expect(line).toContain('cannot write encoding "npy"');
    expect(line).toContain("--encoding");
    expect(existsSync(join(dir, "pc", "info"))).toBe(false);
  });
});
