import { execFile } from "node:child_process";
import { readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath, readGroundTruth, tempDir, runNodeScript } from "@cloudvolume/testing";

/**
 * The CLI as users run it: the built dist/cli.js in a child process (the same
 * file `pnpm -s cloudvolume` runs). Built on demand when dist is missing.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const run = promisify(execFile);

const cv = (...args: string[]) => runNodeScript(cli, args);

beforeAll(async () => {
  if (!existsSync(cli)) await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

describe("cloudvolume CLI", () => {
  it("info prints the info JSON", async () => {
    const r = await cv("info", fixturePath("pc_image_u8_raw"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(fixturePath("pc_image_u8_raw"), "info"), "utf8")));
  });

  it("download writes raw Fortran-order bytes for every path form", async () => {
    const gt = readGroundTruth("pc_image_u8_raw_ragged_offset");
    const dir = tempDir();
    const p = fixturePath("pc_image_u8_raw_ragged_offset");
    for (const [i, path] of [p, `file://${p}`, `precomputed://file://${p}`].entries()) {
      const out = join(dir, `o${i}.bin`);
      const r = await cv("download", path, "--bbox", "3,5,7,53,50,27", "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out).equals(Buffer.from(gt.bytes))).toBe(true);
    }
    const out = join(dir, "sub.bin");
    const r = await cv("download", p, "--bbox=10,12,8,20,14,9", `--out=${out}`);
    expect(r.code, r.stderr).toBe(0);
    const got = readFileSync(out);
    expect(got.length).toBe(10 * 2 * 1);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 10; x++) expect(got[x + 10 * y]).toBe(gt.bytes[(x + 7) + 50 * ((y + 7) + 45 * 1)]);
  });

  it("download --mip and --fill-missing", async () => {
    const dir = tempDir();
    const out = join(dir, "m1.bin");
    const r = await cv("download", fixturePath("pc_image_u8_multiscale"), "--bbox", "0,0,0,32,32,32", "--mip", "1", "--out", out);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out).equals(Buffer.from(readGroundTruth("pc_image_u8_multiscale", 1).bytes))).toBe(true);
  });

  it("create, upload (aligned and --non-aligned, negative offsets), download round trip, cp with re-encoding", async () => {
    const dir = tempDir();
    const layer = join(dir, "layer");
    let r = await cv("create", `file://${layer}`, "--type", "segmentation", "--dtype", "uint32", "--encoding", "raw",
      "--resolution", "8,8,40", "--size", "20,18,6", "--chunk-size", "8,8,4", "--voxel-offset", "-4,-3,-2", "--compress", "br");
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(layer, "info"), "utf8"));
    expect(info.scales[0]).toMatchObject({ size: [20, 18, 6], voxel_offset: [-4, -3, -2], chunk_sizes: [[8, 8, 4]], encoding: "raw", key: "8_8_40" });
    const n = 20 * 18 * 6;
    const data = new Uint32Array(n).map((_, i) => i * 2654435761);
    writeFileSync(join(dir, "in.bin"), new Uint8Array(data.buffer));
    r = await cv("upload", layer, "--bbox", "-4,-3,-2,16,15,4", "--in", join(dir, "in.bin"));
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(layer, "8_8_40")).every((f) => f.endsWith(".br"))).toBe(true);

    const patch = new Uint32Array(3 * 3 * 1).fill(77);
    writeFileSync(join(dir, "patch.bin"), new Uint8Array(patch.buffer));
    r = await cv("upload", layer, "--bbox=-1,-1,0,2,2,1", "--in", join(dir, "patch.bin"));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/not aligned/);
    r = await cv("upload", layer, "--bbox=-1,-1,0,2,2,1", "--in", join(dir, "patch.bin"), "--non-aligned");
    expect(r.code, r.stderr).toBe(0);
    for (let z = 0; z < 1; z++) for (let y = -1; y < 2; y++) for (let x = -1; x < 2; x++) data[(x + 4) + 20 * ((y + 3) + 18 * (z + 2))] = 77;

    r = await cv("download", layer, "--bbox", "-4,-3,-2,16,15,4", "--out", join(dir, "out.bin"));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "out.bin")).equals(Buffer.from(data.buffer))).toBe(true);

    const copy = join(dir, "copy");
    r = await cv("cp", layer, `precomputed://file://${copy}`, "--compress", "gzip");
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(copy, "8_8_40")).every((f) => f.endsWith(".gz"))).toBe(true);
    r = await cv("download", copy, "--bbox", "-4,-3,-2,16,15,4", "--out", join(dir, "copy.bin"));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "copy.bin")).equals(Buffer.from(data.buffer))).toBe(true);
  });

  it("cp of a CloudVolume layer copies stored bytes untouched, re-encodes on --compress, refuses a mismatched destination", async () => {
    const dir = tempDir();
    const src = fixturePath("pc_image_u8_multiscale");
    const same = join(dir, "same");
    let r = await cv("cp", src, same);
    expect(r.code, r.stderr).toBe(0);
    for (const key of ["4_4_40", "8_8_40", "16_16_80"]) {
      for (const f of readdirSync(join(src, key))) expect(readFileSync(join(same, key, f)).equals(readFileSync(join(src, key, f))), f).toBe(true);
    }
    const plain = join(dir, "plain");
    r = await cv("cp", src, plain, "--compress", "none");
    expect(r.code, r.stderr).toBe(0);
    for (const mip of [0, 1, 2]) {
      const gt = readGroundTruth("pc_image_u8_multiscale", mip);
      const s = gt.shape;
      const out = join(dir, `m${mip}.bin`);
      r = await cv("download", plain, "--bbox", `0,0,0,${s[0]},${s[1]},${s[2]}`, "--mip", String(mip), "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out).equals(Buffer.from(gt.bytes))).toBe(true);
    }
    expect(readdirSync(join(plain, "4_4_40")).some((f) => f.endsWith(".gz"))).toBe(false);
    r = await cv("cp", fixturePath("pc_image_u16_raw"), plain);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/already exists and does not match the source \(data_type uint8 vs uint16\)/);
  });

  it("cp --sharded writes shard files (CloudVolume's parameters) and cp --unsharded turns them back into chunk files", async () => {
    const dir = tempDir();
    const src = fixturePath("pc_image_u8_multiscale");
    const sharded = join(dir, "sharded");
    let r = await cv("cp", src, sharded, "--sharded");
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(sharded, "info"), "utf8"));
    // mip 0: 64x64x32 in 32x32x16 chunks = 8 chunks, one shard (preshift 3).
    expect(info.scales[0].sharding).toEqual({
      "@type": "neuroglancer_uint64_sharded_v1", data_encoding: "gzip", hash: "identity", minishard_bits: 0,
      minishard_index_encoding: "gzip", preshift_bits: 3, shard_bits: 0,
    });
    for (const key of ["4_4_40", "8_8_40", "16_16_80"]) expect(readdirSync(join(sharded, key))).toEqual(["0.shard"]);
    const plain = join(dir, "plain");
    r = await cv("cp", sharded, plain, "--unsharded", "--compress", "none");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(plain, "info"), "utf8")).scales.every((s: { sharding?: unknown }) => s.sharding === undefined)).toBe(true);
    expect(readdirSync(join(plain, "4_4_40")).sort()).toEqual(readdirSync(join(src, "4_4_40")).map((f) => f.replace(/\.gz$/, "")).sort());
    for (const [layer, mip] of [[sharded, 0], [sharded, 2], [plain, 0], [plain, 1]] as const) {
      const gt = readGroundTruth("pc_image_u8_multiscale", mip);
      const s = gt.shape;
      const out = join(dir, `o-${mip}-${layer === plain}.bin`);
      r = await cv("download", layer, "--bbox", `0,0,0,${s[0]},${s[1]},${s[2]}`, "--mip", String(mip), "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out).equals(Buffer.from(gt.bytes)), `${layer} mip ${mip}`).toBe(true);
    }
    // Plain cp of a sharded layer keeps it sharded, shard files copied as stored.
    const copy = join(dir, "copy");
    r = await cv("cp", fixturePath("pc_seg_u64_cseg_sharded"), copy);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ["0.shard", "1.shard"]) {
      expect(readFileSync(join(copy, "4_4_40", f)).equals(readFileSync(join(fixturePath("pc_seg_u64_cseg_sharded"), "4_4_40", f))), f).toBe(true);
    }
    // An existing unsharded destination is not switched to shards.
    r = await cv("cp", src, plain, "--sharded");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/already exists and does not match the source \(mip 0 is not sharded\)/);
    r = await cv("cp", src, join(dir, "x"), "--sharded", "--unsharded");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/contradict/);
  });

  it.each([
    [["download", "x", "--bbox", "0,0,0,1,1"], /--bbox must be six integers/],
    [["download", "/nonexistent/layer", "--bbox", "0,0,0,1,1,1", "--out", "/tmp/x.bin"], /no info file/],
    [["frobnicate"], /unknown command/],
    [["info", "s3x://bucket/layer"], /no storage plugin for "s3x"/],
    [["create", "/tmp/never", "--type", "image", "--dtype", "uint7", "--encoding", "raw", "--resolution", "1,1,1", "--size", "1,1,1", "--chunk-size", "1,1,1"], /--dtype must be one of/],
    [["download", fixturePath("pc_image_u8_raw"), "--bbox", "0,0,0,65,1,1", "--out", "/tmp/x.bin"], /outside the bounds/],
    [["download", fixturePath("pc_image_u8_raw"), "--bogus", "1"], /unknown option --bogus/],
  ])("bad input %j exits non-zero with one line", async (args, pattern) => {
    const r = await cv(...(args as string[]));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });
});
