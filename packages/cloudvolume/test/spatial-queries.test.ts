import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { copyFixture } from "@cloudvolume/testing";
import { CloudVolume, isCloudVolumeError } from "../src/index.js";

/**
 * vol.mesh.getByBbox / getBbox over CloudVolume's legacy mesh fixture, with a
 * spatial index written by hand from the spec: one .spatial file per 512^3 nm
 * cell listing each label's physical box. The expected labels are worked out
 * here from those boxes, not by our query code.
 */
describe("spatial queries on vol.mesh", () => {
  it("getByBbox returns the meshes whose indexed box intersects, getBbox the indexed box", async () => {
    const dir = copyFixture("pc_mesh_legacy");
    const info = JSON.parse(readFileSync(join(dir, "info"), "utf8"));
    const res = info.scales[0].resolution as number[];
    const size = info.scales[0].size as number[];
    // Physical bounds 256 x 256 x 1280 nm, cut into 128 x 128 x 640 cells (8 files).
    const cell = [size[0] * res[0] / 2, size[1] * res[1] / 2, size[2] * res[2] / 2];
    writeFileSync(join(dir, "mesh", "info"), JSON.stringify({ "@type": "neuroglancer_legacy_mesh", spatial_index: { resolution: res, chunk_size: cell } }));
    const files: Record<string, Record<string, number[]>> = {};
    for (const x of [0, 1]) for (const y of [0, 1]) for (const z of [0, 1]) {
      files[`${x * cell[0]}-${(x + 1) * cell[0]}_${y * cell[1]}-${(y + 1) * cell[1]}_${z * cell[2]}-${(z + 1) * cell[2]}`] = {};
    }
    files["0-128_0-128_0-640"]["1099511627783"] = [0, 0, 0, 40, 40, 400];
    files["0-128_0-128_0-640"]["1663341875487337577"] = [100, 100, 400, 120, 120, 600];
    files["128-256_0-128_0-640"]["18446744073709551615"] = [200, 0, 0, 256, 60, 200];
    for (const [name, body] of Object.entries(files)) {
      // Both storage forms CloudVolume reads: plain and gzipped.
      if (name.startsWith("0-128")) writeFileSync(join(dir, "mesh", `${name}.spatial`), JSON.stringify(body));
      else writeFileSync(join(dir, "mesh", `${name}.spatial.gz`), gzipSync(JSON.stringify(body)));
    }
    const vol = await CloudVolume.open(dir);

    const hits = await vol.mesh.getByBbox([0, 0, 0, 50, 50, 100]);
    expect([...hits.keys()]).toEqual([1099511627783n]);
    const direct = await vol.mesh.get([1099511627783n]);
    expect(Buffer.from(hits.get(1099511627783n)!.vertices.buffer).equals(Buffer.from(direct.vertices.buffer))).toBe(true);

    const two = await vol.mesh.getByBbox([110, 10, 100, 250, 150, 500]);
    expect([...two.keys()].sort()).toEqual([1663341875487337577n, 18446744073709551615n].sort());

    expect((await vol.mesh.getBbox(18446744073709551615n))!.toArray()).toEqual([200, 0, 0, 256, 60, 200]);
    expect(await vol.mesh.getBbox(5n)).toBeUndefined();

    const err = await vol.skeleton.getByBbox([0, 0, 0, 1, 1, 1]).catch((e) => e);
    expect(isCloudVolumeError(err)).toBe(true);
  });
});
