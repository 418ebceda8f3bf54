import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { SpatialIndex } from "@cloudvolume/format-precomputed";
import { MemoryStore } from "@cloudvolume/storage-memory";
import { tempDir } from "@cloudvolume/testing";
import { SqliteSpatialIndexDb, sqlitePath, sqliteSpatialIndex, toSqlite } from "../src/index.js";
import {
  BIG_LABELS, BOUNDS, CHUNK, PMAX, PMIN, RESOLUTION, buildSpatialData, bruteForce, gz, rng, storage, type Box,
} from "../../format-precomputed/test/spatial-fixture.js";

const data = buildSpatialData(5);

async function jsonIndex(): Promise<{ si: SpatialIndex; store: MemoryStore }> {
  const store = new MemoryStore();
  let i = 0;
  for (const [name, text] of data.files) {
    const how = storage(i++);
    if (how === "plain") await store.put(`skeletons/${name}`, new TextEncoder().encode(text));
    else await store.put(`skeletons/${name}`, gz(text), how === "encoded" ? { contentEncoding: "gzip" } : {});
  }
  return { si: new SpatialIndex({ store, dir: "skeletons", bounds: BOUNDS, resolution: RESOLUTION, chunkSize: CHUNK }), store };
}

const list = (a: BigUint64Array) => Array.from(a);
const sortMap = (m: Map<bigint, string[]>) => new Map([...m].map(([k, v]) => [k, [...v].sort()]));

describe("SQLite spatial index (better-sqlite3)", () => {
  it("toSqlite writes CloudVolume's schema; labels >= 2^63 as signed int64", async () => {
    const { si } = await jsonIndex();
    const path = join(tempDir("cv-spatial-"), "index.db");
    const stats = await toSqlite(si, path);
    expect(stats.files).toBe(36);
    expect(stats.rows).toBe([...data.files.values()].reduce((n, t) => n + (t.match(/":/g)?.length ?? 0), 0));
    const db = new Database(path, { readonly: true });
    db.defaultSafeIntegers(true);
    const cols = (t: string) => (db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => c.name);
    expect(cols("index_files")).toEqual(["id", "filename"]);
    expect(cols("file_lookup")).toEqual(["label", "fid"]);
    const indices = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((r) => r.name).sort();
    expect(indices).toEqual(["file_lbl", "fname", "idxfname"]);
    expect((db.prepare("SELECT count(*) AS n FROM index_files").get() as { n: bigint }).n).toBe(36n);
    const max = (1n << 64n) - 1n;
    expect((db.prepare("SELECT count(*) AS n FROM file_lookup WHERE label = -1").get() as { n: bigint }).n).toBeGreaterThan(0n);
    expect(db.prepare("SELECT filename FROM index_files WHERE filename LIKE '%/%'").all()).toEqual([]);
    db.close();
    expect(BigInt.asUintN(64, -1n)).toBe(max);
  });

  it("queries from the database equal the JSON queries and brute force", async () => {
    const { si } = await jsonIndex();
    const path = join(tempDir("cv-spatial-"), "index.db");
    await toSqlite(si, `sqlite://${path}`);
    const sq = sqliteSpatialIndex(si, path);
    try {
      const all = [...data.labels.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(list(await sq.queryLabels(sq.physicalBounds))).toEqual(all);
      expect(list(await sq.queryLabels(sq.physicalBounds))).toEqual(list(await si.queryLabels(si.physicalBounds)));
      for (const big of BIG_LABELS) expect(list(await sq.queryLabels(sq.physicalBounds))).toContain(big);
      const r = rng(7);
      for (let n = 0; n < 25; n++) {
        const q = [0, 0, 0, 0, 0, 0] as Box;
        for (let i = 0; i < 3; i++) {
          const a = PMIN[i] + Math.floor(r() * (PMAX[i] - PMIN[i]));
          const b = PMIN[i] + Math.floor(r() * (PMAX[i] - PMIN[i]));
          q[i] = Math.min(a, b);
          q[i + 3] = Math.max(a, b) + 1;
        }
        const want = bruteForce(data, q);
        expect(list(await sq.queryLabels(q)), `query ${q}`).toEqual(want);
        expect(list(await si.queryLabels(q))).toEqual(want);
      }
      for (const [id, box] of data.labels) expect((await sq.getBbox(id))?.toArray(), `label ${id}`).toEqual(box);
      expect(await sq.getBbox(424242n)).toBeUndefined();
      expect(sortMap(await sq.fileLocations())).toEqual(sortMap(await si.fileLocations()));
      const some = [BIG_LABELS[1], BIG_LABELS[2], 7n, 999999999n];
      expect(sortMap(await sq.fileLocations(some))).toEqual(sortMap(await si.fileLocations(some)));
      expect(sq.db!.filesForLabel(7n)).toEqual(["40-168_20-148_80-592.spatial"]);
    } finally {
      sq.db!.close!();
    }
  });

  it("the whole-bounds query reads no .spatial file with a db; getBbox reads only the label's files", async () => {
    const { si, store } = await jsonIndex();
    const path = join(tempDir("cv-spatial-"), "index.db");
    await toSqlite(si, path, { createIndices: false });
    const db = SqliteSpatialIndexDb.open(path);
    const keys: string[] = [];
    const counting = Object.create(store) as MemoryStore;
    counting.getObject = (key, o) => { keys.push(key); return store.getObject(key, o); };
    const sq = new SpatialIndex({ store: counting, dir: "skeletons", bounds: BOUNDS, resolution: RESOLUTION, chunkSize: CHUNK, db });
    expect((await sq.queryLabels(sq.physicalBounds)).length).toBe(data.labels.size);
    expect(keys).toEqual([]);
    expect((await sq.getBbox(7n))?.toArray()).toEqual([40, 20, 80, 41, 21, 81]);
    expect(keys).toEqual(["skeletons/40-168_20-148_80-592.spatial"]);
    db.close();
  });

  it("missing files: toSqlite fails NOT_FOUND unless allowMissing; bad paths and schemes", async () => {
    const { si, store } = await jsonIndex();
    await store.delete("skeletons/40-168_20-148_80-592.spatial");
    const dir = tempDir("cv-spatial-");
    await expect(toSqlite(si, join(dir, "a.db"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    const stats = await toSqlite(si, join(dir, "b.db"), { allowMissing: true });
    expect(stats.files).toBe(35);
    const sq = sqliteSpatialIndex(si, join(dir, "b.db"));
    expect(list(await sq.queryLabels(sq.physicalBounds))).not.toContain(7n);
    sq.db!.close!();

    let err: unknown;
    try { SqliteSpatialIndexDb.open(join(dir, "nope.db")); } catch (e) { err = e; }
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(existsSync(join(dir, "nope.db"))).toBe(false);
    const empty = new Database(join(dir, "empty.db"));
    empty.exec("CREATE TABLE x (a INTEGER)");
    empty.close();
    expect(() => SqliteSpatialIndexDb.open(join(dir, "empty.db"))).toThrow(/index_files/);
    expect(sqlitePath("sqlite:///tmp/x.db")).toBe("/tmp/x.db");
    expect(() => sqlitePath("mysql://u:p@host/db")).toThrow(/only SQLite/);
  });
});
