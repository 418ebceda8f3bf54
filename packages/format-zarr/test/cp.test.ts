import { readFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturePath, readGroundTruth, tempDir } from "@cloudvolume/testing";
import { cv, ensureBuilt, sameBytes } from "./fixture-util.js";

/**
 * `cloudvolume cp` between Precomputed fixtures (written by CloudVolume) and zarr, both
 * ways, with the built CLI: the zarr copy and the Precomputed copy of it read back equal
 * to the fixture's ground truth, at every mip.
 */
beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

async function download(path: string, bbox: number[], out: string, mip = 0): Promise<Uint8Array> {
  const r = await cv("download", path, "--bbox", bbox.join(","), "--mip", String(mip), "--out", out);
  expect(r.code, r.stderr).toBe(0);
  return new Uint8Array(readFileSync(out));
}

describe("cloudvolume cp precomputed <-> zarr", () => {
  it("pc_image_u8_raw_ragged_offset (offset 3,5,7, ragged chunks) -> zarr:// -> precomputed", async () => {
    const dir = tempDir("cv-zarr-cp-");
    const src = fixturePath("pc_image_u8_raw_ragged_offset");
    const z = `zarr://file://${join(dir, "copy.zarr")}`;
    let r = await cv("cp", src, z);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, "copy.zarr", ".zgroup"))).toBe(true);
    const attrs = JSON.parse(readFileSync(join(dir, "copy.zarr", ".zattrs"), "utf8"));
    expect(attrs.multiscales[0].datasets[0].coordinateTransformations[1].translation).toEqual([7 * 33, 5 * 8, 3 * 8]);
    const zarray = JSON.parse(readFileSync(join(dir, "copy.zarr", "0", ".zarray"), "utf8"));
    expect(zarray).toMatchObject({ shape: [20, 45, 50], chunks: [8, 16, 16], dtype: "|u1", order: "C", compressor: { id: "blosc", cname: "lz4", clevel: 5, shuffle: 1 }, dimension_separator: "/" });
    const gt = readGroundTruth("pc_image_u8_raw_ragged_offset");
    const bbox = [3, 5, 7, 53, 50, 27];
    expect(sameBytes(await download(z, bbox, join(dir, "z.bin")), gt.bytes), "zarr copy").toBe(true);
    const back = `file://${join(dir, "back")}`;
    r = await cv("cp", z, back);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(dir, "back", "info"), "utf8"));
    expect(info.scales[0]).toMatchObject({ size: [50, 45, 20], voxel_offset: [3, 5, 7], resolution: [8, 8, 33], encoding: "raw" });
    expect(sameBytes(await download(back, bbox, join(dir, "b.bin")), gt.bytes), "precomputed copy of the zarr copy").toBe(true);
  }, 120_000);

  it("pc_image_u8_multiscale (3 scales) -> zarr:// -> precomputed, every mip", async () => {
    const dir = tempDir("cv-zarr-cp-ms-");
    const src = fixturePath("pc_image_u8_multiscale");
    const z = `zarr://file://${join(dir, "ms.zarr")}`;
    let r = await cv("cp", src, z);
    expect(r.code, r.stderr).toBe(0);
    const attrs = JSON.parse(readFileSync(join(dir, "ms.zarr", ".zattrs"), "utf8"));
    expect(attrs.multiscales[0].datasets.map((d: { path: string }) => d.path)).toEqual(["0", "1", "2"]);
    const back = `file://${join(dir, "back")}`;
    r = await cv("cp", z, back);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(src, "info"), "utf8"));
    for (const [mip, s] of info.scales.entries()) {
      const gt = readGroundTruth("pc_image_u8_multiscale", mip);
      const bbox = [...s.voxel_offset, ...s.voxel_offset.map((o: number, d: number) => o + s.size[d])];
      expect(sameBytes(await download(z, bbox, join(dir, `z${mip}.bin`), mip), gt.bytes), `zarr mip ${mip}`).toBe(true);
      expect(sameBytes(await download(back, bbox, join(dir, `b${mip}.bin`), mip), gt.bytes), `precomputed mip ${mip}`).toBe(true);
    }
  }, 120_000);

  it("compressed_segmentation uint64 needs --encoding raw into zarr, then round-trips exactly", async () => {
    const dir = tempDir("cv-zarr-cp-seg-");
    const src = fixturePath("pc_seg_u64_cseg");
    const z = `zarr://file://${join(dir, "seg.zarr")}`;
    let r = await cv("cp", src, z);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/encoding/);
    r = await cv("cp", src, z, "--encoding", "raw");
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(src, "info"), "utf8"));
    const s = info.scales[0];
    const bbox = [...s.voxel_offset, ...s.voxel_offset.map((o: number, d: number) => o + s.size[d])];
    const gt = readGroundTruth("pc_seg_u64_cseg");
    expect(sameBytes(await download(z, bbox, join(dir, "z.bin")), gt.bytes)).toBe(true);
    const back = `file://${join(dir, "back")}`;
    r = await cv("cp", z, back, "--encoding", "compressed_segmentation");
    expect(r.code, r.stderr).toBe(0);
    expect(sameBytes(await download(back, bbox, join(dir, "b.bin")), gt.bytes)).toBe(true);
  }, 120_000);

  it("a zarr-python array -> precomputed -> zarr keeps the voxels (zarr2_u16_blosc_forder, F order)", async () => {
    const dir = tempDir("cv-zarr-cp-z-");
    const src = `zarr://file://${join(fixturePath("zarr2_u16_blosc_forder"), "data.zarr")}`;
    const pc = `file://${join(dir, "pc")}`;
    let r = await cv("cp", src, pc);
    expect(r.code, r.stderr).toBe(0);
    const z2 = `zarr://file://${join(dir, "again.zarr")}`;
    r = await cv("cp", pc, z2);
    expect(r.code, r.stderr).toBe(0);
    const gt = readGroundTruth("zarr2_u16_blosc_forder");
    const bbox = [0, 0, 0, 32, 64, 64];
    expect(sameBytes(await download(pc, bbox, join(dir, "p.bin")), gt.bytes)).toBe(true);
    expect(sameBytes(await download(z2, bbox, join(dir, "z.bin")), gt.bytes)).toBe(true);
  }, 120_000);

  it("zarr -> zarr keeps the source's layout (F order, '.' keys, blosc) and copies the chunk files as stored", async () => {
    const dir = tempDir("cv-zarr-cp-zz-");
    const srcDir = join(fixturePath("zarr2_u16_blosc_forder"), "data.zarr");
    const r = await cv("cp", `zarr://file://${srcDir}`, `zarr://file://${join(dir, "z")}`);
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(srcDir, ".zarray"), "utf8"));
    const b = JSON.parse(readFileSync(join(dir, "z", ".zarray"), "utf8"));
    expect(b).toEqual(a);
    for (const chunk of ["0.0.0", "1.1.1", "0.1.0"]) {
      expect(sameBytes(new Uint8Array(readFileSync(join(dir, "z", chunk))), new Uint8Array(readFileSync(join(srcDir, chunk)))), chunk).toBe(true);
    }
  }, 120_000);

  it("pc_image_u8_multiscale -> zarr3:// --sharded (OME-NGFF 0.5, sharding_indexed) -> precomputed --sharded, every mip", async () => {
    const dir = tempDir("cv-zarr3-cp-");
    const src = fixturePath("pc_image_u8_multiscale");
    const z = `zarr3://file://${join(dir, "ms.zarr")}`;
    let r = await cv("cp", src, z, "--sharded");
    expect(r.code, r.stderr).toBe(0);
    const group = JSON.parse(readFileSync(join(dir, "ms.zarr", "zarr.json"), "utf8"));
    expect(group).toMatchObject({ zarr_format: 3, node_type: "group", attributes: { ome: { version: "0.5" } } });
    expect(group.attributes.ome.multiscales[0].datasets.map((d: { path: string }) => d.path)).toEqual(["0", "1", "2"]);
    const info = JSON.parse(readFileSync(join(src, "info"), "utf8"));
    for (const mip of [0, 1, 2]) {
      const a = JSON.parse(readFileSync(join(dir, "ms.zarr", String(mip), "zarr.json"), "utf8"));
      expect(a.codecs[0].name, `mip ${mip}`).toBe("sharding_indexed");
      expect(a.codecs[0].configuration.chunk_shape).toEqual([...info.scales[mip].chunk_sizes[0]].reverse());
    }
    const back = `file://${join(dir, "back")}`;
    r = await cv("cp", z, back, "--sharded");
    expect(r.code, r.stderr).toBe(0);
    const backInfo = JSON.parse(readFileSync(join(dir, "back", "info"), "utf8"));
    expect(backInfo.scales.every((s: { sharding?: { "@type": string } }) => s.sharding?.["@type"] === "neuroglancer_uint64_sharded_v1")).toBe(true);
    for (const [mip, s] of info.scales.entries()) {
      const gt = readGroundTruth("pc_image_u8_multiscale", mip);
      const bbox = [...s.voxel_offset, ...s.voxel_offset.map((o: number, d: number) => o + s.size[d])];
      expect(sameBytes(await download(z, bbox, join(dir, `z${mip}.bin`), mip), gt.bytes), `zarr3 mip ${mip}`).toBe(true);
      expect(sameBytes(await download(back, bbox, join(dir, `b${mip}.bin`), mip), gt.bytes), `precomputed mip ${mip}`).toBe(true);
    }
  }, 120_000);

  it("a sharded Precomputed layer copies to a sharded zarr3 layer without flags (cp keeps the layout); --unsharded writes plain chunks", async () => {
    const dir = tempDir("cv-zarr3-cp-sh-");
    const src = fixturePath("pc_image_u8_sharded");
    const info = JSON.parse(readFileSync(join(src, "info"), "utf8"));
    const s = info.scales[0];
    const bbox = [...s.voxel_offset, ...s.voxel_offset.map((o: number, d: number) => o + s.size[d])];
    const gt = readGroundTruth("pc_image_u8_sharded");
    const z = `zarr3://file://${join(dir, "a.zarr")}`;
    let r = await cv("cp", src, z);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "a.zarr", "0", "zarr.json"), "utf8")).codecs[0].name).toBe("sharding_indexed");
    expect(sameBytes(await download(z, bbox, join(dir, "a.bin")), gt.bytes)).toBe(true);
    const plain = `zarr3://file://${join(dir, "b.zarr")}`;
    r = await cv("cp", src, plain, "--unsharded");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "b.zarr", "0", "zarr.json"), "utf8")).codecs.map((c: { name: string }) => c.name)).toEqual(["bytes", "blosc"]);
    expect(sameBytes(await download(plain, bbox, join(dir, "b.bin")), gt.bytes)).toBe(true);
    // zarr3 -> zarr3 keeps the sharded layout and copies the shard files as stored.
    const again = join(dir, "c.zarr");
    r = await cv("cp", z, `zarr3://file://${again}`);
    expect(r.code, r.stderr).toBe(0);
    const shards = readdirSync(join(dir, "a.zarr", "0", "c"), { recursive: true }).map(String).filter((f) => statSync(join(dir, "a.zarr", "0", "c", f)).isFile());
    expect(shards.length).toBeGreaterThan(0);
    for (const f of shards) expect(sameBytes(new Uint8Array(readFileSync(join(again, "0", "c", f))), new Uint8Array(readFileSync(join(dir, "a.zarr", "0", "c", f)))), f).toBe(true);
  }, 120_000);

  it("--sharded into zarr2:// is a one-line usage error, and nothing is created", async () => {
    const dir = tempDir("cv-zarr2-cp-sh-");
    const r = await cv("cp", fixturePath("pc_image_u8_raw"), `zarr2://file://${join(dir, "x")}`, "--sharded");
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/zarr2 format .* has no sharded storage/);
    expect(existsSync(join(dir, "x", ".zarray")) || existsSync(join(dir, "x", ".zgroup"))).toBe(false);
  }, 60_000);

  it("volume operations on a sharded zarr3 copy of a segmentation: info keeps the type; exists (per shard), unique, point; delete takes whole shards", async () => {
    const dir = tempDir("cv-zarr3-ops-");
    const z = `zarr3://file://${join(dir, "seg")}`;
    let r = await cv("cp", fixturePath("pc_seg_u64_cseg"), z, "--encoding", "raw", "--sharded");
    expect(r.code, r.stderr).toBe(0);
    r = await cv("info", z);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.type).toBe("segmentation");
    expect(info.scales[0].sharding["@type"]).toBe("zarr3_sharding_indexed");
    const s = info.scales[0];
    const all = [0, 0, 0, ...s.size].join(",");
    // exists keys a sharded scale's chunks by their storage object, the shard.
    const chunks = s.size.reduce((a: number, n: number, d: number) => a * Math.ceil(n / s.sharding.shard_shape[d]), 1);
    r = await cv("exists", z, "--bbox", all);
    expect(r.stdout).toMatch(new RegExp(`${chunks} of ${chunks} chunks exist`));
    const gt = readGroundTruth("pc_seg_u64_cseg");
    const labels = new BigUint64Array(gt.bytes.buffer, gt.bytes.byteOffset, gt.bytes.byteLength / 8);
    r = await cv("unique", z, "--bbox", all);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([...new Set(labels)].sort((a, b) => (a < b ? -1 : 1)).map(String));
    r = await cv("point", z, "5,6,7");
    expect(r.stdout.trim()).toBe(String(labels[5 + s.size[0] * (6 + s.size[1] * 7)]));
    r = await cv("delete", z, "--bbox", [0, 0, 0, ...s.chunk_sizes[0]].join(","));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/covers only part of shard file/);
    r = await cv("delete", z, "--bbox", all);
    expect(r.code, r.stderr).toBe(0);
    r = await cv("exists", z, "--bbox", all);
    expect(r.stdout).toMatch(new RegExp(`0 of ${chunks} chunks exist`));
  }, 120_000);
});
