import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toSqlite } from "@cloudvolume/spatial-index-sqlite";
import { tempDir } from "@cloudvolume/testing";
import { CloudVolume, createNewInfo } from "../src/index.js";
import { BIG_LABELS, bruteForce, buildSpatialData, gz, type Box } from "../../format-precomputed/test/spatial-fixture.js";

/**
 * vol.spatialIndex('mesh' | 'skeleton') over a layer on disk whose .spatial files were
 * written by hand (plain, and gzipped as `<name>.spatial.gz`), and spatialIndexDb.
 */

const data = buildSpatialData(11);

function makeLayer(): string {
  const dir = tempDir("cv-spatial-layer-");
  const info = createNewInfo({
    layerType: "segmentation", dataType: "uint64", encoding: "raw", resolution: [4, 4, 40],
    voxelOffset: [10, 5, 2], volumeSize: [100, 80, 30], chunkSize: [64, 64, 16], mesh: "meshes",
  });
  writeFileSync(join(dir, "info"), JSON.stringify(info));
  mkdirSync(join(dir, "meshes"));
  writeFileSync(join(dir, "meshes", "info"), JSON.stringify({ "@type": "neuroglancer_legacy_mesh", spatial_index: { resolution: [4, 4, 40], chunk_size: [128, 128, 512] } }));
  mkdirSync(join(dir, "skeletons"));
  writeFileSync(join(dir, "skeletons", "info"), JSON.stringify({ "@type": "neuroglancer_skeletons", spatial_index: null }));
  let i = 0;
  for (const [name, text] of data.files) {
    if (i++ % 2) writeFileSync(join(dir, "meshes", `${name}.gz`), gz(text));
    else writeFileSync(join(dir, "meshes", name), text);
  }
  return dir;
}

describe("vol.spatialIndex", () => {
  it("reads the mesh directory's index (info.mesh), plain and .gz files; none for skeletons without one", async () => {
    const dir = makeLayer();
    const vol = await CloudVolume.open(dir);
    const si = (await vol.spatialIndex("mesh"))!;
    expect(si).toBeDefined();
    expect(si.dir).toBe("meshes");
    expect(si.physicalBounds.toArray()).toEqual([40, 20, 80, 440, 340, 1280]);
    const q: Box = [100, 50, 300, 300, 250, 900];
    expect(Array.from(await si.queryLabels(q))).toEqual(bruteForce(data, q));
    expect(Array.from(await si.queryLabels(vol.bounds.toArray().map((v, k) => v * [4, 4, 40][k % 3])))).toEqual(bruteForce(data, [40, 20, 80, 440, 340, 1280]));
    for (const l of BIG_LABELS) expect((await si.getBbox(l))?.toArray()).toEqual(data.labels.get(l));
    expect(await vol.spatialIndex("skeleton")).toBeUndefined();
    await expect(vol.spatialIndex("annotation" as "mesh")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await vol.close();
  });

  it("spatialIndexDb: the option (or db) answers from SQLite with the same results", async () => {
    const dir = makeLayer();
    const vol = await CloudVolume.open(dir);
    const si = (await vol.spatialIndex("mesh"))!;
    const dbPath = join(dir, "spatial.db");
    await toSqlite(si, dbPath);
    await vol.close();

    const withDb = await CloudVolume.open(dir, { spatialIndexDb: dbPath });
    const sq = (await withDb.spatialIndex("mesh"))!;
    expect(sq.db).toBeDefined();
    expect(Array.from(await sq.queryLabels(sq.physicalBounds))).toEqual(Array.from(await si.queryLabels(si.physicalBounds)));
    const q: Box = [41, 21, 81, 200, 200, 700];
    expect(Array.from(await sq.queryLabels(q))).toEqual(bruteForce(data, q));
    for (const [l, box] of data.labels) expect((await sq.getBbox(l))?.toArray()).toEqual(box);
    expect((await withDb.spatialIndex("mesh", { db: null }))!.db).toBeUndefined();
    await expect(withDb.spatialIndex("mesh", { db: join(dir, "missing.db") })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await withDb.close();
  });
});
