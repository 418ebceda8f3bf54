import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fixturePath, tempDir } from "@cloudvolume/testing";
import { Skeleton, decodeSkeleton, encodeSkeleton, parseShardingSpec, shardLocation } from "@cloudvolume/format-precomputed";
import { CloudVolume, isCloudVolumeError } from "../src/index.js";

/**
 * Skeletons against the fixtures written by CloudVolume 12.14.4 / osteoid 0.7.0:
 * pc_skeleton_unsharded (plain files and a gzipped `<id>.gz`) and pc_skeleton_sharded
 * (murmurhash shards). Arrays must equal expected/*.bin exactly; our writers must give
 * files the same readers find (same shard file and minishard).
 */

interface ArrayEntry { file: string; dtype: string; shape: number[] }
interface SkelEntry { arrays: Record<string, ArrayEntry>; shard_file?: string; minishard_number?: number; file?: string; gzip?: boolean }
interface Expected { skeleton_dir: string; sharding?: Record<string, unknown>; skeletons: Record<string, SkelEntry> }

const expectedOf = (name: string): Expected => JSON.parse(readFileSync(join(fixturePath(name), "expected.json"), "utf8")) as Expected;

function arrayOf(name: string, e: ArrayEntry): number[] {
  const b = readFileSync(join(fixturePath(name), "expected", e.file));
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const T = { float32: Float32Array, uint32: Uint32Array, uint8: Uint8Array }[e.dtype as "float32"];
  return Array.from(new T(buf));
}

function expectMatches(skel: Skeleton, name: string, entry: SkelEntry): void {
  expect(Array.from(skel.vertices)).toEqual(arrayOf(name, entry.arrays.vertices));
  expect(Array.from(skel.edges)).toEqual(arrayOf(name, entry.arrays.edges));
  const attrs = Object.keys(entry.arrays).filter((k) => k !== "vertices" && k !== "edges");
  expect(Object.keys(skel.attributes).sort()).toEqual(attrs.sort());
  for (const a of attrs) expect(Array.from(skel.attributes[a] as ArrayLike<number>)).toEqual(arrayOf(name, entry.arrays[a]));
  expect(skel.attributes.radius).toBeInstanceOf(Float32Array);
  expect(skel.attributes.vertex_types).toBeInstanceOf(Uint8Array);
}

/** A fresh layer beside a fixture: its info and skeleton info, no skeleton files. */
function emptyCopy(name: string): string {
  const dir = tempDir("cv-skel-");
  cpSync(join(fixturePath(name), "info"), join(dir, "info"));
  mkdirSync(join(dir, "skeletons"));
  cpSync(join(fixturePath(name), "skeletons", "info"), join(dir, "skeletons", "info"));
  return dir;
}

/** The ids a minishard of a shard file lists, by the format's rules (shard index -> minishard index). */
function idsInMinishard(file: Uint8Array, m: number, minishardBits: number, gzipped: boolean): bigint[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const indexLen = 16 * 2 ** minishardBits;
  const start = Number(dv.getBigUint64(16 * m, true)) + indexLen;
  const end = Number(dv.getBigUint64(16 * m + 8, true)) + indexLen;
  if (start === end) return [];
  let idx = file.subarray(start, end);
  if (gzipped) idx = new Uint8Array(gunzipSync(idx));
  const n = idx.byteLength / 24;
  const v = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  const out: bigint[] = [];
  let id = 0n;
  for (let i = 0; i < n; i++) {
    id = (id + v.getBigUint64(8 * i, true)) & ((1n << 64n) - 1n);
    out.push(id);
  }
  return out;
}

describe("skeleton.get on the fixtures", () => {
  for (const name of ["pc_skeleton_unsharded", "pc_skeleton_sharded"]) {
    it(`${name}: every skeleton equals the expected arrays (bigint ids, physical space)`, async () => {
      const exp = expectedOf(name);
      const vol = await CloudVolume.open(fixturePath(name));
      try {
        expect(vol.skeleton.dir).toBe(exp.skeleton_dir);
        for (const [id, entry] of Object.entries(exp.skeletons)) {
          const skel = await vol.skeleton.get(BigInt(id));
          expect(skel.id).toBe(BigInt(id));
          expect(skel.space).toBe("physical");
          expectMatches(skel, name, entry);
        }
        expect(vol.skeleton.info.vertex_attributes.map((a) => a.id)).toEqual(["radius", "vertex_types"]);
        expect(vol.skeleton.sharded).toBe(name === "pc_skeleton_sharded");
        // getMany returns the same
        const ids = Object.keys(exp.skeletons).map(BigInt);
        const many = await vol.skeleton.getMany(ids);
        expect([...many.keys()].sort()).toEqual([...ids].sort());
        for (const id of ids) expectMatches(many.get(id)!, name, exp.skeletons[id.toString()]);
      } finally {
        await vol.close();
      }
    });
  }

  it("reads ids above 2^63 (unsharded gzip `<id>.gz`) and 2^64 - 2 (sharded)", async () => {
    const u = await CloudVolume.open(fixturePath("pc_skeleton_unsharded"));
    const big = 2n ** 63n + 11n;
    expect(existsSync(join(fixturePath("pc_skeleton_unsharded"), "skeletons", `${big}.gz`))).toBe(true);
    expect((await u.skeleton.get(big)).numVertices).toBe(16);
    const s = await CloudVolume.open(fixturePath("pc_skeleton_sharded"));
    expect((await s.skeleton.get(18446744073709551614n)).numVertices).toBe(22);
    expect((await s.skeleton.get("4294967301")).numVertices).toBe(14);
  });

  it("sharded placement: our shard file and minishard for each id are the fixture's", () => {
    const exp = expectedOf("pc_skeleton_sharded");
    const spec = parseShardingSpec(exp.sharding);
    for (const [id, e] of Object.entries(exp.skeletons)) {
      const loc = shardLocation(spec, BigInt(id));
      expect(`skeletons/${loc.filename}`).toBe(e.shard_file);
      expect(loc.minishard).toBe(e.minishard_number);
    }
  });

  it("re-encoding the plain fixture files gives the same bytes", () => {
    for (const id of ["1", "4242"]) {
      const raw = new Uint8Array(readFileSync(join(fixturePath("pc_skeleton_unsharded"), "skeletons", id)));
      expect(encodeSkeleton(decodeSkeleton(raw))).toEqual(raw);
    }
  });

  it("a missing skeleton is NOT_FOUND naming id and key; a malformed one DECODE_FAILED", async () => {
    const vol = await CloudVolume.open(fixturePath("pc_skeleton_unsharded"));
    const err = await vol.skeleton.get(777n).catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect((err as Error).message).toContain("777");
    expect((err as Error).message).toContain("skeletons/777");
    const sh = await CloudVolume.open(fixturePath("pc_skeleton_sharded"));
    const err2 = await sh.skeleton.get(5n).catch((e: unknown) => e);
    expect(isCloudVolumeError(err2, "NOT_FOUND")).toBe(true);
    expect((err2 as Error).message).toMatch(/skeleton 5 .*skeletons\/[01]\.shard/);

    const dir = emptyCopy("pc_skeleton_unsharded");
    writeFileSync(join(dir, "skeletons", "9"), new Uint8Array([5, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]));
    const broken = await CloudVolume.open(dir);
    const err3 = await broken.skeleton.get(9n).catch((e: unknown) => e);
    expect(isCloudVolumeError(err3, "DECODE_FAILED")).toBe(true);
    expect((err3 as Error).message).toContain("skeletons/9");
  });
});

describe("skeleton upload", () => {
  it("unsharded: upload (gzip by default) and uploadRaw read back identically", async () => {
    const src = await CloudVolume.open(fixturePath("pc_skeleton_unsharded"));
    const exp = expectedOf("pc_skeleton_unsharded");
    const ids = Object.keys(exp.skeletons).map(BigInt);
    const skels = [...(await src.skeleton.getMany(ids)).values()];
    const dir = emptyCopy("pc_skeleton_unsharded");
    const dst = await CloudVolume.open(dir);
    await dst.skeleton.upload(skels);
    expect(readdirSync(join(dir, "skeletons")).sort()).toEqual(["1.gz", "4242.gz", "9223372036854775819.gz", "info"]);
    for (const id of ids) expectMatches(await dst.skeleton.get(id), "pc_skeleton_unsharded", exp.skeletons[id.toString()]);

    const dir2 = emptyCopy("pc_skeleton_unsharded");
    const dst2 = await CloudVolume.open(dir2);
    await dst2.skeleton.uploadRaw([[1n, await src.skeleton.getRaw(1n)]], { compress: false });
    expect(readFileSync(join(dir2, "skeletons", "1"))).toEqual(readFileSync(join(fixturePath("pc_skeleton_unsharded"), "skeletons", "1")));
    expectMatches(await dst2.skeleton.get(1n), "pc_skeleton_unsharded", exp.skeletons["1"]);
  });

  it("sharded: upload writes the fixture's shard files with each id in the fixture's minishard", async () => {
    const name = "pc_skeleton_sharded";
    const exp = expectedOf(name);
    const src = await CloudVolume.open(fixturePath(name));
    const ids = Object.keys(exp.skeletons).map(BigInt);
    const skels = [...(await src.skeleton.getMany(ids)).values()];
    const dir = emptyCopy(name);
    const dst = await CloudVolume.open(dir);
    // two batches: the second merges into the shard files the first wrote
    await dst.skeleton.upload(skels.slice(0, 4));
    await dst.skeleton.upload(skels.slice(4));
    expect(readdirSync(join(dir, "skeletons")).sort()).toEqual(readdirSync(join(fixturePath(name), "skeletons")).sort());
    for (const [id, e] of Object.entries(exp.skeletons)) {
      const file = new Uint8Array(readFileSync(join(dir, e.shard_file!)));
      expect(idsInMinishard(file, e.minishard_number!, 1, true)).toContain(BigInt(id));
      expectMatches(await dst.skeleton.get(BigInt(id)), name, e);
    }
    // a fresh reader on the written layer agrees
    const again = await CloudVolume.open(dir);
    for (const id of ids) expectMatches(await again.skeleton.get(id), name, exp.skeletons[id.toString()]);
  });

  it("physical-space skeletons go through the inverse transform; get applies it", async () => {
    const dir = emptyCopy("pc_skeleton_unsharded");
    const info = JSON.parse(readFileSync(join(dir, "skeletons", "info"), "utf8"));
    info.transform = [2, 0, 0, 10, 0, 3, 0, 0, 0, 0, 4, -5];
    writeFileSync(join(dir, "skeletons", "info"), JSON.stringify(info));
    const vol = await CloudVolume.open(dir);
    const s = new Skeleton({ vertices: [12, 3, 3, 14, 6, 7], edges: [0, 1], attributes: { radius: new Float32Array([1, 2]), vertex_types: new Uint8Array([0, 3]) }, id: 5n });
    await vol.skeleton.upload(s, { compress: false });
    const stored = decodeSkeleton(new Uint8Array(readFileSync(join(dir, "skeletons", "5"))));
    expect(Array.from(stored.vertices)).toEqual([1, 1, 2, 2, 2, 3]);
    const back = await vol.skeleton.get(5n);
    expect(Array.from(back.vertices)).toEqual([12, 3, 3, 14, 6, 7]);
    expect(back.equivalent(s)).toBe(true);
  });
});
