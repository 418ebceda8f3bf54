import { describe, expect, it } from "vitest";
import { Bbox, isCloudVolumeError } from "@cloudvolume/core";
import { MemoryStore } from "@cloudvolume/storage-memory";
import { SpatialIndex, parseSpatialFile, toLabel } from "../src/index.js";
import {
  BIG_LABELS, BOUNDS, CHUNK, PMAX, PMIN, RESOLUTION, bruteForce, buildSpatialData, cells, gz, rng, storage, type Box, type SpatialData,
} from "./spatial-fixture.js";

async function layer(data: SpatialData, dir = "mesh"): Promise<MemoryStore> {
  const store = new MemoryStore();
  let i = 0;
  for (const [name, text] of data.files) {
    const how = storage(i++);
    const key = `${dir}/${name}`;
    if (how === "plain") await store.put(key, new TextEncoder().encode(text));
    else if (how === "encoded") await store.put(key, gz(text), { contentEncoding: "gzip" });
    else await store.put(key, gz(text));
  }
  return store;
}

function index(store: MemoryStore, dir = "mesh"): SpatialIndex {
  return new SpatialIndex({ store, dir, bounds: BOUNDS, resolution: RESOLUTION, chunkSize: CHUNK });
}

const list = (a: BigUint64Array) => Array.from(a);

async function code(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: isCloudVolumeError(e) ? e.code : undefined, message: String((e as Error).message) };
  }
  throw new Error("expected a rejection");
}

describe("SpatialIndex (JSON .spatial files)", () => {
  const data = buildSpatialData(3);

  it("names the files of the grid anchored at the physical bounds, last cells cut at the bounds", () => {
    const si = index(new MemoryStore());
    expect(si.physicalBounds.toArray()).toEqual([...PMIN, ...PMAX]);
    expect(si.fileNames()).toEqual(cells().map(([n]) => n));
    expect(si.fileNames().length).toBe(36);
    expect(si.fileNames([40, 20, 80, 41, 21, 81])).toEqual(["40-168_20-148_80-592.spatial"]);
    expect(si.fileNames([300, 300, 1000, 440, 340, 1280])).toEqual([
      "296-424_276-340_592-1104.spatial", "424-440_276-340_592-1104.spatial",
      "296-424_276-340_1104-1280.spatial", "424-440_276-340_1104-1280.spatial",
    ]);
    expect(si.fileNames([168, 100, 100, 168, 200, 200])).toEqual([]); // zero width on a grid line
    expect(si.keyOf("a.spatial")).toBe("mesh/a.spatial");
  });

  it("renders fractional resolutions with CloudVolume's precision", () => {
    const si = new SpatialIndex({ store: new MemoryStore(), dir: "m", bounds: [0, 0, 0, 10, 10, 10], resolution: [4.5, 4, 40], chunkSize: [100, 100, 1000] });
    expect(si.precision).toBe(1);
    expect(si.fileNames()).toEqual(["0.0-45.0_0.0-40.0_0.0-400.0.spatial"]);
  });

  it("queryLabels equals brute force over random boxes (plain, .gz-encoded and magic-gzip files), as sorted bigints", async () => {
    const si = index(await layer(data));
    const r = rng(99);
    for (let n = 0; n < 60; n++) {
      const q = [0, 0, 0, 0, 0, 0] as Box;
      for (let i = 0; i < 3; i++) {
        const a = PMIN[i] - 30 + Math.floor(r() * (PMAX[i] - PMIN[i] + 60));
        const b = PMIN[i] - 30 + Math.floor(r() * (PMAX[i] - PMIN[i] + 60));
        q[i] = Math.min(a, b);
        q[i + 3] = Math.max(a, b) + 1;
      }
      const got = await si.queryLabels(q);
      expect(got).toBeInstanceOf(BigUint64Array);
      expect(list(got), `query ${q}`).toEqual(bruteForce(data, q));
    }
  });

  it("returns every label (unfiltered, CloudVolume's fast path) when the grid-grown box covers the bounds", async () => {
    const si = index(await layer(data));
    const all = [...data.labels.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(list(await si.queryLabels(si.physicalBounds))).toEqual(all);
    // Misses label 7's box [40,20,80]-[41,21,81] but grows to the whole bounds.
    const q: Box = [41, 21, 81, 439, 339, 1279];
    expect(list(await si.queryLabels(q))).toContain(7n);
    expect(list(await si.queryLabels(q))).toEqual(bruteForce(data, q));
    // Smaller: 7 is filtered out by its own box.
    expect(list(await si.queryLabels([41, 21, 81, 300, 300, 1000]))).not.toContain(7n);
    for (const big of BIG_LABELS) expect(list(await si.queryLabels(si.physicalBounds))).toContain(big);
  });

  it("queries outside the bounds are empty; voxel boxes convert by the resolution", async () => {
    const si = index(await layer(data));
    expect(list(await si.queryLabels([0, 0, 0, 40, 20, 80]))).toEqual([]);
    expect(list(await si.queryLabels([1000, 1000, 2000, 2000, 2000, 3000]))).toEqual([]);
    const vox: Box = [20, 10, 5, 60, 50, 20];
    expect(list(await si.queryLabelsVoxel(vox))).toEqual(bruteForce(data, [80, 40, 200, 240, 200, 800]));
  });

  it("getBbox unions a label's boxes over the files (physical), bigint labels exact; undefined when absent", async () => {
    const si = index(await layer(data));
    for (const [id, box] of data.labels) {
      expect((await si.getBbox(id))?.toArray(), `label ${id}`).toEqual(box);
    }
    expect((await si.getBbox("18446744073709551615"))?.toArray()).toEqual(data.labels.get((1n << 64n) - 1n));
    expect(await si.getBbox(123456789n)).toBeUndefined();
    await expect(si.getBbox(2 ** 60)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("fileLocations lists each label's files", async () => {
    const si = index(await layer(data));
    const locs = await si.fileLocations();
    expect(locs.size).toBe(data.labels.size);
    const big = (1n << 63n) + 5n;
    const expected = cells().filter(([name]) => data.files.get(name)!.includes(`"${big}"`)).map(([n]) => n);
    expect((await si.fileLocations([big])).get(big)).toEqual(expected);
    expect(locs.get(7n)).toEqual(["40-168_20-148_80-592.spatial"]);
  });

  it("a missing file is NOT_FOUND naming it unless allowMissing; malformed JSON is DECODE_FAILED naming the file", async () => {
    const store = await layer(data);
    await store.delete("mesh/40-168_20-148_80-592.spatial");
    const si = index(store);
    const missing = await code(si.queryLabels([40, 20, 80, 100, 100, 100]));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toContain("mesh/40-168_20-148_80-592.spatial");
    expect(list(await si.queryLabels([40, 20, 80, 100, 100, 100], { allowMissing: true }))).toEqual([]);

    await store.put("mesh/40-168_20-148_80-592.spatial", new TextEncoder().encode('{"1": [0,0,0,1,1,1],'));
    const bad = await code(si.getBbox(1n));
    expect(bad.code).toBe("DECODE_FAILED");
    expect(bad.message).toContain("mesh/40-168_20-148_80-592.spatial");

    await store.put("mesh/40-168_20-148_80-592.spatial", gz('{"x1": [0,0,0,1,1,1]}'), { contentEncoding: "gzip" });
    expect((await code(si.queryLabels(si.physicalBounds))).code).toBe("DECODE_FAILED");
    await store.put("mesh/40-168_20-148_80-592.spatial", new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    const corrupt = await code(si.queryLabels(si.physicalBounds));
    expect(corrupt.code).toBe("DECODE_FAILED");
    expect(corrupt.message).toContain("40-168_20-148_80-592.spatial");
  });

  it("parseSpatialFile validates ids and boxes", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const f = parseSpatialFile(enc('{"18446744073709551615": [1,2,3,4,5,6], "0": [0,0,0,1,1,1]}'), "f.spatial");
    const i = f.labels.indexOf(18446744073709551615n);
    expect([...f.labels].sort()).toEqual([0n, 18446744073709551615n]);
    expect(Array.from(f.boxes.subarray(i * 6, i * 6 + 6))).toEqual([1, 2, 3, 4, 5, 6]);
    for (const bad of ["[]", "null", '{"18446744073709551616": [0,0,0,1,1,1]}', '{"-1": [0,0,0,1,1,1]}', '{"1": [0,0,0,1,1]}', '{"1": "x"}']) {
      expect(() => parseSpatialFile(enc(bad), "f.spatial"), bad).toThrow(/f\.spatial/);
    }
    expect(toLabel("42")).toBe(42n);
    expect(() => toLabel(-1)).toThrow();
    expect(new Bbox([0, 0, 0], [1, 1, 1]).toArray()).toEqual([0, 0, 0, 1, 1, 1]);
  });
});
