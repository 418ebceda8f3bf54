import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync, readdirSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { copyFixture, fixturePath, tempDir } from "@cloudvolume/testing";
import { Mesh, murmurHash64, toJson, toObj, toPly } from "@cloudvolume/format-precomputed";
import { CloudVolume } from "../src/index.js";

const LEGACY = "pc_mesh_legacy";
const MULTI = "pc_mesh_multires_sharded";

function bin(fixture: string, file: string): ArrayBuffer {
  const b = readFileSync(join(fixturePath(fixture), "expected", file));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
function expectedMesh(fixture: string, e: { vertices_file: string; faces_file: string }): Mesh {
  return new Mesh(new Float32Array(bin(fixture, e.vertices_file)), new Uint32Array(bin(fixture, e.faces_file)));
}
function expectedJson(fixture: string): { segments: Record<string, any> } {
  return JSON.parse(readFileSync(join(fixturePath(fixture), "expected.json"), "utf8"));
}
function expectSame(a: Mesh, b: Mesh): void {
  expect(a.numVertices).toBe(b.numVertices);
  expect(Buffer.from(a.vertices.buffer, a.vertices.byteOffset, a.vertices.byteLength).equals(Buffer.from(b.vertices.buffer, b.vertices.byteOffset, b.vertices.byteLength))).toBe(true);
  expect(Array.from(a.faces)).toEqual(Array.from(b.faces));
}
/** Triangles as sorted coordinate strings: equal for the same surface whatever the vertex order. */
function canonical(m: Mesh, round = (x: number) => x): string[] {
  const tri: string[] = [];
  for (let f = 0; f < m.faces.length; f += 3) {
    const corners = [0, 1, 2].map((k) => Array.from(m.vertices.subarray(3 * m.faces[f + k], 3 * m.faces[f + k] + 3), round).join(","));
    // keep orientation: rotate so the smallest corner is first
    const i = corners.indexOf([...corners].sort()[0]);
    tri.push([...corners.slice(i), ...corners.slice(0, i)].join(" "));
  }
  return tri.sort();
}

describe("Mesh", () => {
  const a = new Mesh(Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0]), Uint32Array.from([0, 1, 2]));
  const b = new Mesh(Float32Array.from([1, 0, 0, 0, 1, 0, 1, 1, 0]), Uint32Array.from([0, 2, 1]));
  it("concatenates with renumbered faces", () => {
    const c = Mesh.concatenate(a, b);
    expect(Array.from(c.vertices)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0]);
    expect(Array.from(c.faces)).toEqual([0, 1, 2, 3, 5, 4]);
  });
  it("consolidates like CloudVolume (sorted distinct vertices and faces)", () => {
    const c = Mesh.concatenate(a, b, a).consolidate();
    expect(Array.from(c.vertices)).toEqual([0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0]);
    expect(Array.from(c.faces)).toEqual([0, 2, 1, 2, 3, 1]);
  });
  it("deduplicates keeping first-occurrence order", () => {
    const c = Mesh.concatenate(a, b).deduplicate();
    expect(Array.from(c.vertices)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0]);
    expect(Array.from(c.faces)).toEqual([0, 1, 2, 1, 3, 2]);
  });
  it("crops to faces inside the box", () => {
    const far = new Mesh(Float32Array.from([5, 5, 5, 6, 5, 5, 5, 6, 5]), Uint32Array.from([0, 1, 2]));
    const all = Mesh.concatenate(a, far, b);
    const c = all.crop([0, 0, 0], [1.5, 1.5, 1]);
    expect(Array.from(c.vertices)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0]);
    expect(Array.from(c.faces)).toEqual([0, 1, 2, 3, 5, 4]);
    expect(all.crop([0, 0, 0], [1, 1.5, 1]).numFaces).toBe(0);
    expect(Array.from(all.crop([4, 4, 4], [7, 7, 7]).faces)).toEqual([0, 1, 2]);
  });
});

describe("legacy meshes (pc_mesh_legacy)", () => {
  const exp = expectedJson(LEGACY);
  it("mesh.get matches CloudVolume's get exactly (consolidated) for every segment", async () => {
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    for (const [id, e] of Object.entries<any>(exp.segments)) {
      expectSame(await vol.mesh.get(BigInt(id)), expectedMesh(LEGACY, e.cloudvolume_get));
    }
  });
  it("without dedup, get is the fragments concatenated (plain, .gz, two fragments)", async () => {
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    for (const [id, e] of Object.entries<any>(exp.segments)) {
      const frags = (e.fragments as any[]).map((f) => expectedMesh(LEGACY, f));
      expectSame(await vol.mesh.get(id, { removeDuplicateVertices: false }), Mesh.concatenate(...frags));
    }
  });
  it("fuses several segments (sorted by id) and keeps them apart with fuse: false", async () => {
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    const ids = Object.keys(exp.segments).map(BigInt);
    const per = await vol.mesh.get(ids, { fuse: false });
    expect(per.size).toBe(4);
    for (const id of ids) expectSame(per.get(id)!, expectedMesh(LEGACY, exp.segments[String(id)].cloudvolume_get));
    const sorted = [...ids].sort((x, y) => (x < y ? -1 : 1));
    const raw = await vol.mesh.get(ids, { removeDuplicateVertices: false });
    const parts = await Promise.all(sorted.map((id) => vol.mesh.get(id, { removeDuplicateVertices: false })));
    expectSame(raw, Mesh.concatenate(...parts));
    expectSame(await vol.mesh.get(ids), Mesh.concatenate(...parts).consolidate());
  });
  it("exists, NOT_FOUND naming the segid and key, DECODE_FAILED for a bad fragment", async () => {
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    const ex = await vol.mesh.exists([1099511627783n, 5n]);
    expect(ex.get(1099511627783n)).toBe(true);
    expect(ex.get(5n)).toBe(false);
    const err = await vol.mesh.get(5n).catch((e) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(err.message).toContain("5");
    expect(err.key).toBe("mesh/5:0");
    const dir = copyFixture(LEGACY);
    writeFileSync(join(dir, "mesh", "1099511627783:0:1"), Uint8Array.from([10, 0, 0, 0, 1, 2]));
    writeFileSync(join(dir, "mesh", "18446744073709551615:0"), "{not json");
    const bad = await CloudVolume.open(dir);
    const e1 = await bad.mesh.get(1099511627783n).catch((e) => e);
    expect(isCloudVolumeError(e1, "DECODE_FAILED")).toBe(true);
    const e2 = await bad.mesh.get(18446744073709551615n).catch((e) => e);
    expect(isCloudVolumeError(e2, "DECODE_FAILED")).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
  it("put / get / delete round trip, with a transform from the mesh info", async () => {
    const dir = copyFixture(LEGACY);
    const vol = await CloudVolume.open(dir);
    const src = await vol.mesh.get(1663341875487337577n, { removeDuplicateVertices: false });
    await vol.mesh.put([[42n, src]]);
    expectSame(await vol.mesh.get(42n, { removeDuplicateVertices: false }), src);
    expect(existsSync(join(dir, "mesh", "42:0:1.gz"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "mesh", "42:0"), "utf8"))).toEqual({ fragments: ["42:0:1"] });
    // our fragment is the legacy layout byte for byte
    const frag = gunzipSync(readFileSync(join(dir, "mesh", "42:0:1.gz")));
    expect(frag.readUInt32LE(0)).toBe(src.numVertices);
    expect(frag.byteLength).toBe(4 + 12 * src.numVertices + 12 * src.numFaces);
    await vol.mesh.delete(42n);
    expect((await vol.mesh.exists(42n)).get(42n)).toBe(false);
    expect(readdirSync(join(dir, "mesh")).some((f) => f.startsWith("42:"))).toBe(false);

    writeFileSync(join(dir, "mesh", "info"), JSON.stringify({ "@type": "neuroglancer_legacy_mesh", transform: [2, 0, 0, 1, 0, 2, 0, 2, 0, 0, 4, 3] }));
    const tv = await CloudVolume.open(dir);
    const stored = await vol.mesh.get(1099511627783n, { removeDuplicateVertices: false });
    const t = await tv.mesh.get(1099511627783n, { removeDuplicateVertices: false });
    for (let i = 0; i < stored.vertices.length; i += 3) {
      expect([t.vertices[i], t.vertices[i + 1], t.vertices[i + 2]]).toEqual([2 * stored.vertices[i] + 1, 2 * stored.vertices[i + 1] + 2, 4 * stored.vertices[i + 2] + 3]);
    }
    await tv.mesh.put(new Map([[7n, t]]), { compress: false });
    expectSame(await tv.mesh.get(7n, { removeDuplicateVertices: false }), t);
    expectSame(await vol.mesh.get(7n, { removeDuplicateVertices: false }), stored);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("mesh files (PLY, OBJ, JSON)", () => {
  it("binary PLY, OBJ and JSON parse back to the mesh", async () => {
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    const m = await vol.mesh.get(1663341875487337577n);
    // PLY, parsed independently
    const ply = Buffer.from(toPly(m));
    const end = ply.indexOf("end_header\n") + "end_header\n".length;
    const header = ply.subarray(0, end).toString("latin1");
    expect(header).toBe(`ply\nformat binary_little_endian 1.0\nelement vertex ${m.numVertices}\nproperty float x\nproperty float y\nproperty float z\nelement face ${m.numFaces}\nproperty list uchar uint vertex_indices\nend_header\n`);
    expect(ply.byteLength).toBe(end + 12 * m.numVertices + 13 * m.numFaces);
    for (let i = 0; i < m.vertices.length; i++) expect(ply.readFloatLE(end + 4 * i)).toBe(m.vertices[i]);
    let at = end + 12 * m.numVertices;
    for (let f = 0; f < m.numFaces; f++, at += 13) {
      expect(ply[at]).toBe(3);
      expect([ply.readUInt32LE(at + 1), ply.readUInt32LE(at + 5), ply.readUInt32LE(at + 9)]).toEqual(Array.from(m.faces.subarray(3 * f, 3 * f + 3)));
    }
    // OBJ: 1-based faces, floats that read back exactly
    const lines = toObj(m).trim().split("\n");
    const v = lines.filter((l) => l.startsWith("v ")).flatMap((l) => l.split(" ").slice(1).map(Number));
    const f = lines.filter((l) => l.startsWith("f ")).flatMap((l) => l.split(" ").slice(1).map((x) => Number(x) - 1));
    expect(Array.from(Float32Array.from(v))).toEqual(Array.from(m.vertices));
    expect(f).toEqual(Array.from(m.faces));
    // JSON
    const j = JSON.parse(toJson(m));
    expect(Array.from(Float32Array.from(j.vertices.flat()))).toEqual(Array.from(m.vertices));
    expect(j.faces.flat()).toEqual(Array.from(m.faces));
    expect(j.vertices[0]).toHaveLength(3);
    // save
    const files = await vol.mesh.save([1663341875487337577n], { format: "obj" });
    expect([...files.keys()]).toEqual(["1663341875487337577.obj"]);
    const pre = await vol.mesh.save(1099511627783n, { format: "precomputed", removeDuplicateVertices: false });
    expect(Buffer.from([...pre.values()][0]).equals(readFileSync(join(fixturePath(LEGACY), "mesh", "1099511627783:0:1")))).toBe(true);
  });
});

describe("multires Draco meshes (pc_mesh_multires_sharded)", () => {
  const exp = expectedJson(MULTI);
  it("reads every segment exactly as CloudVolume decodes it (lod 0, nm)", async () => {
    const vol = await CloudVolume.open(fixturePath(MULTI));
    for (const [id, e] of Object.entries<any>(exp.segments)) {
      const m = await vol.mesh.get(BigInt(id), { lod: 0, removeDuplicateVertices: false });
      expectSame(m, expectedMesh(MULTI, e.cloudvolume_get_lod0_nm));
      expectSame(await vol.mesh.get(BigInt(id)), expectedMesh(MULTI, e.cloudvolume_get_lod0_nm).consolidate());
    }
    expect((await vol.mesh.exists(5n)).get(5n)).toBe(false);
    const err = await vol.mesh.get(5n).catch((e) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(err.message).toContain("segment 5");
  });
  it("a lod past the last one gives the coarsest", async () => {
    const vol = await CloudVolume.open(fixturePath(MULTI));
    const id = Object.keys(exp.segments)[0];
    expectSame(await vol.mesh.get(id, { lod: 3, removeDuplicateVertices: false }), expectedMesh(MULTI, exp.segments[id].cloudvolume_get_lod0_nm));
  });
  it("DECODE_FAILED for a corrupt shard entry", async () => {
    const dir = copyFixture(MULTI);
    const shard = readFileSync(join(dir, "mesh", "0.shard"));
    // scramble the fragment data region (after the shard index), keep the indices
    for (let i = 64 + 20; i < 64 + 60; i++) shard[i] ^= 0x5a;
    writeFileSync(join(dir, "mesh", "0.shard"), shard);
    const vol = await CloudVolume.open(dir);
    const results = await Promise.all(Object.keys(exp.segments).map((id) => vol.mesh.get(id).then(() => "ok", (e) => e)));
    expect(results.some((r) => isCloudVolumeError(r, "DECODE_FAILED"))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  async function fixtureMeshes(): Promise<Map<bigint, Mesh>> {
    const vol = await CloudVolume.open(fixturePath(MULTI));
    return vol.mesh.get(Object.keys(exp.segments).map(BigInt), { fuse: false, removeDuplicateVertices: false });
  }

  it("unsharded write round trip (multires Draco, 16 bits, transform)", async () => {
    const dir = copyFixture(MULTI);
    rmSync(join(dir, "mesh"), { recursive: true });
    mkdirSync(join(dir, "mesh"));
    writeFileSync(join(dir, "mesh", "info"), JSON.stringify({ "@type": "neuroglancer_multilod_draco", vertex_quantization_bits: 16, transform: [4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 40, 0], lod_scale_multiplier: 1 }));
    const meshes = await fixtureMeshes();
    const vol = await CloudVolume.open(dir);
    await vol.mesh.put(meshes);
    for (const [id, m] of meshes) {
      expect(existsSync(join(dir, "mesh", `${id}.index`))).toBe(true);
      const back = await vol.mesh.get(id, { removeDuplicateVertices: false });
      expect(back.numFaces).toBe(m.numFaces);
      expect(canonical(back, (x) => Math.round(x * 10) / 10)).toEqual(canonical(m, (x) => Math.round(x * 10) / 10));
      // writing what we read reads back identically
      await vol.mesh.put([[id + 1n, back]]);
      expect(canonical(await vol.mesh.get(id + 1n, { removeDuplicateVertices: false }))).toEqual(canonical(back));
    }
    await vol.mesh.delete(Object.keys(exp.segments).map(BigInt));
    expect([...(await vol.mesh.exists(meshes.keys())).values()].every((x) => !x)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it("several fragments and lods (unsharded), lod selection", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "mesh"));
    writeFileSync(join(dir, "info"), readFileSync(join(fixturePath(MULTI), "info")));
    writeFileSync(join(dir, "mesh", "info"), JSON.stringify({ "@type": "neuroglancer_multilod_draco", vertex_quantization_bits: 10, lod_scale_multiplier: 1 }));
    const vol = await CloudVolume.open(dir);
    const two = new Mesh(Float32Array.from([0, 0, 0, 2, 0, 0, 0, 2, 1, 4, 0, 0, 6, 0, 0, 4, 2, 1]), Uint32Array.from([0, 1, 2, 3, 4, 5]));
    const coarse = new Mesh(Float32Array.from([0, 0, 0, 6, 0, 0, 0, 2, 1]), Uint32Array.from([0, 1, 2]));
    await vol.mesh.put([[9n, two]], { chunkShape: [4, 4, 4], gridOrigin: [0, 0, 0], lods: [coarse] });
    const close = (m: Mesh, want: number[]) => {
      expect(m.vertices.length).toBe(want.length);
      const got = Array.from(m.vertices);
      // each wanted vertex is decoded within one 10-bit step (8 / 1023 at lod 1)
      for (let i = 0; i < want.length; i += 3) {
        expect(got.some((_, j) => j % 3 === 0 && [0, 1, 2].every((d) => Math.abs(got[j + d] - want[i + d]) < 0.01))).toBe(true);
      }
    };
    const l0 = await vol.mesh.get(9n, { removeDuplicateVertices: false });
    close(l0, Array.from(two.vertices));
    expect(l0.numFaces).toBe(2);
    const manifest = readFileSync(join(dir, "mesh", "9.index"));
    expect(manifest.readUInt32LE(24)).toBe(2); // two lods
    expect([manifest.readUInt32LE(60), manifest.readUInt32LE(64)]).toEqual([2, 1]); // fragments per lod
    close(await vol.mesh.get(9n, { lod: 1, removeDuplicateVertices: false }), Array.from(coarse.vertices));
    const err = await vol.mesh.put([[10n, coarse]], { chunkShape: [2, 2, 2], gridOrigin: [0, 0, 0] }).catch((e) => e);
    expect(isCloudVolumeError(err, "INVALID_ARGUMENT")).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it("sharded write: placed where the fixture's spec puts them, read back identically", async () => {
    const dir = copyFixture(MULTI);
    const info = readFileSync(join(dir, "mesh", "info"), "utf8");
    rmSync(join(dir, "mesh", "0.shard"));
    const meshes = await fixtureMeshes();
    const vol = await CloudVolume.open(dir);
    const ids = [...meshes.keys()];
    // two calls: the second keeps the first's segments
    await vol.mesh.put(ids.slice(0, 3).map((id) => [id, meshes.get(id)!] as [bigint, Mesh]));
    await vol.mesh.put(ids.slice(3).map((id) => [id, meshes.get(id)!] as [bigint, Mesh]));
    expect(readdirSync(join(dir, "mesh")).sort()).toEqual(["0.shard", "info"]);
    expect(readFileSync(join(dir, "mesh", "info"), "utf8")).toBe(info);
    const firstRead = new Map<bigint, Mesh>();
    for (const id of ids) {
      const back = await vol.mesh.get(id, { removeDuplicateVertices: false });
      expect(canonical(back, (x) => Math.round(x * 10) / 10)).toEqual(canonical(meshes.get(id)!, (x) => Math.round(x * 10) / 10));
      firstRead.set(id, back);
    }
    // Independent parse of both shard files: each id sits in the same minishard in ours and
    // in the fixture's, that minishard is murmurhash3(id) & 3, and its entry is the manifest,
    // with the fragment data right before it.
    const placement = (file: string) => {
      const b = readFileSync(file);
      const where = new Map<bigint, { minishard: number; offset: number; size: number }>();
      for (let m = 0; m < 4; m++) {
        const s = Number(b.readBigUInt64LE(16 * m)) + 64;
        const e = Number(b.readBigUInt64LE(16 * m + 8)) + 64;
        if (s === e) continue;
        const idx = gunzipSync(b.subarray(s, e));
        const n = idx.byteLength / 24;
        let key = 0n;
        let off = 64;
        let prevEnd = 64;
        for (let i = 0; i < n; i++) {
          key += idx.readBigUInt64LE(8 * i);
          off = prevEnd + Number(idx.readBigUInt64LE(8 * (n + i)));
          const size = Number(idx.readBigUInt64LE(8 * (2 * n + i)));
          prevEnd = off + size;
          where.set(key, { minishard: m, offset: off, size });
        }
      }
      return { b, where };
    };
    const ours = placement(join(dir, "mesh", "0.shard"));
    const theirs = placement(join(fixturePath(MULTI), "mesh", "0.shard"));
    expect([...ours.where.keys()].sort()).toEqual([...theirs.where.keys()].sort());
    for (const id of ids) {
      const o = ours.where.get(id)!;
      expect(o.minishard).toBe(theirs.where.get(id)!.minishard);
      expect(o.minishard).toBe(Number(murmurHash64(id) & 3n));
      // the entry is a manifest: 7 words + lod data; its fragment sizes end where it begins
      const man = ours.b.subarray(o.offset, o.offset + o.size);
      const nl = man.readUInt32LE(24);
      expect(nl).toBe(1);
      const nf = man.readUInt32LE(28 + 16 * nl);
      const sizes = Array.from({ length: nf }, (_, i) => man.readUInt32LE(32 + 16 * nl + 12 * nf + 4 * i));
      expect(o.size).toBe(32 + 16 * nl + 16 * nf);
      const total = sizes.reduce((a, c) => a + c, 0);
      expect(o.offset - total).toBeGreaterThanOrEqual(64);
      expect(ours.b.subarray(o.offset - total, o.offset - total + 5).toString("latin1")).toBe("DRACO");
    }
    // rewriting what we read reads back identically
    await vol.mesh.put(firstRead);
    for (const id of ids) expect(canonical(await vol.mesh.get(id, { removeDuplicateVertices: false }))).toEqual(canonical(firstRead.get(id)!));
    await vol.mesh.delete(ids[0]);
    expect((await vol.mesh.exists(ids)).get(ids[0])).toBe(false);
    expect((await vol.mesh.exists(ids)).get(ids[1])).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("cloudvolume mesh get (dist/cli.js)", () => {
  const pkg = fileURLToPath(new URL("..", import.meta.url));
  const cli = join(pkg, "dist", "cli.js");
  const run = promisify(execFile);
  beforeAll(async () => {
    if (!existsSync(cli)) await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
  }, 180_000);

  it("writes JSON, OBJ and PLY equal to mesh.get", async () => {
    const dir = tempDir();
    const vol = await CloudVolume.open(fixturePath(LEGACY));
    const ids = ["1663341875487337577", "1099511627783"];
    const m = await vol.mesh.get(ids.map(BigInt));
    for (const ext of ["json", "obj", "ply"]) {
      const out = join(dir, `m.${ext}`);
      await run(process.execPath, [cli, "mesh", "get", fixturePath(LEGACY), ...ids, "--out", out]);
      const bytes = readFileSync(out);
      if (ext === "json") {
        const j = JSON.parse(bytes.toString("utf8"));
        expect(Array.from(Float32Array.from(j.vertices.flat()))).toEqual(Array.from(m.vertices));
        expect(j.faces.flat()).toEqual(Array.from(m.faces));
      } else {
        expect(bytes.equals(Buffer.from(ext === "obj" ? toObj(m) : toPly(m)))).toBe(true);
      }
    }
    const mv = await CloudVolume.open(fixturePath(MULTI));
    const out = join(dir, "mr.json");
    await run(process.execPath, [cli, "mesh", "get", fixturePath(MULTI), "1099511627783", "--lod", "0", "--out", out]);
    const j = JSON.parse(readFileSync(out, "utf8"));
    const mm = await mv.mesh.get(1099511627783n);
    expect(Array.from(Float32Array.from(j.vertices.flat()))).toEqual(Array.from(mm.vertices));
    expect(j.faces.flat()).toEqual(Array.from(mm.faces));
  });
  it("missing segment: exit 1 naming it; bad --out: exit 2", async () => {
    const dir = tempDir();
    const r1 = await run(process.execPath, [cli, "mesh", "get", fixturePath(LEGACY), "5", "--out", join(dir, "x.json")]).catch((e) => e);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain("segment 5");
    expect(existsSync(join(dir, "x.json"))).toBe(false);
    const r2 = await run(process.execPath, [cli, "mesh", "get", fixturePath(LEGACY), "5", "--out", join(dir, "x.stl")]).catch((e) => e);
    expect(r2.code).toBe(2);
  });
});
