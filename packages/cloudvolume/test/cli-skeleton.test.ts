import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath, tempDir, runNodeScript } from "@cloudvolume/testing";
import { Skeleton } from "@cloudvolume/format-precomputed";

/** `cloudvolume skeleton get <path> <segid> --out FILE.swc|FILE.json`, run as users run it (dist/cli.js). */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const run = promisify(execFile);

const cv = (...args: string[]) => runNodeScript(cli, args);

beforeAll(async () => {
  if (!existsSync(cli)) await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

function expectedArrays(name: string, id: string): { vertices: number[][]; edges: number[][]; radius: number[]; vertex_types: number[] } {
  const exp = JSON.parse(readFileSync(join(fixturePath(name), "expected.json"), "utf8"));
  const arrays = exp.skeletons[id].arrays;
  const read = (k: string) => {
    const b = readFileSync(join(fixturePath(name), "expected", arrays[k].file));
    const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    const T = { float32: Float32Array, uint32: Uint32Array, uint8: Uint8Array }[arrays[k].dtype as "float32"];
    return Array.from(new T(buf));
  };
  const rows = (a: number[], n: number) => Array.from({ length: a.length / n }, (_, i) => a.slice(i * n, i * n + n));
  return { vertices: rows(read("vertices"), 3), edges: rows(read("edges"), 2), radius: read("radius"), vertex_types: read("vertex_types") };
}

describe("cloudvolume skeleton get", () => {
  for (const [name, id] of [["pc_skeleton_unsharded", "9223372036854775819"], ["pc_skeleton_sharded", "18446744073709551614"], ["pc_skeleton_sharded", "4294967301"]]) {
    it(`${name} ${id} --out .json is the expected arrays`, async () => {
      const out = join(tempDir(), "s.json");
      const r = await cv("skeleton", "get", fixturePath(name), id, "--out", out);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const got = JSON.parse(readFileSync(out, "utf8"));
      const exp = expectedArrays(name, id);
      expect(Object.keys(got)).toEqual(["vertices", "edges", "attributes"]);
      expect(got.vertices).toEqual(exp.vertices);
      expect(got.edges).toEqual(exp.edges);
      expect(got.attributes).toEqual({ radius: exp.radius, vertex_types: exp.vertex_types });
    });
  }

  it("--out .swc writes SWC that reads back as the same skeleton", async () => {
    const out = join(tempDir(), "s.swc");
    const r = await cv("skeleton", "get", fixturePath("pc_skeleton_sharded"), "1000", "--out", out);
    expect(r.code).toBe(0);
    const text = readFileSync(out, "utf8");
    const swc = Skeleton.fromSwc(text);
    const exp = expectedArrays("pc_skeleton_sharded", "1000");
    const ref = new Skeleton({
      vertices: exp.vertices.flat(), edges: exp.edges.flat(),
      attributes: { radius: Float32Array.from(exp.radius), vertex_types: Uint8Array.from(exp.vertex_types) },
    });
    expect(swc.equivalent(ref)).toBe(true);
  });

  it("missing id, bad segid and bad --out are errors with exit codes 1 and 2", async () => {
    const out = join(tempDir(), "s.json");
    const missing = await cv("skeleton", "get", fixturePath("pc_skeleton_unsharded"), "12345", "--out", out);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/skeleton 12345 not found.*skeletons\/12345/);
    expect((await cv("skeleton", "get", fixturePath("pc_skeleton_unsharded"), "-3", "--out", out)).code).toBe(2);
    expect((await cv("skeleton", "get", fixturePath("pc_skeleton_unsharded"), "1", "--out", join(tempDir(), "x.txt"))).code).toBe(2);
    expect((await cv("skeleton", "put", fixturePath("pc_skeleton_unsharded"), "1")).code).toBe(2);
  });
});
