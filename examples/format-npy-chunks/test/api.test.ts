import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectRejects, fixturePath, tempDir } from "@cloudvolume/testing";
import { CloudVolume, isCloudVolumeError, type PrecomputedInfo } from "cloudvolume";
import { npyChunks } from "../src/index.js";

/**
 * The package as a CloudVolume user has it: CloudVolume.open with `plugins: [npyChunks()]`,
 * on local disk (the default plugins bring file://).
 */

const plugins = () => [npyChunks()];

function newInfo(o: Partial<{ dtype: string; size: [number, number, number]; chunk: [number, number, number]; offset: [number, number, number]; channels: number; encoding: string }> = {}): PrecomputedInfo {
  return CloudVolume.createNewInfo({
    layerType: "segmentation", dataType: o.dtype ?? "uint32", encoding: o.encoding ?? "npy", resolution: [8, 8, 40],
    volumeSize: o.size ?? [9, 7, 5], chunkSize: o.chunk ?? [4, 4, 2], voxelOffset: o.offset ?? [-2, 3, 1], numChannels: o.channels ?? 1,
  });
}

describe("CloudVolume API on npychunks://file://", () => {
  it("open with info, commitInfo, upload, reopen, download exactly; the on-disk layout", async () => {
    const dir = tempDir("npychunks-api-");
    const url = `npychunks://file://${dir}`;
    const vol = await CloudVolume.open(url, { plugins: plugins(), info: newInfo() });
    expect(vol.format).toBe("npychunks");
    expect(vol.capabilities).toEqual({ write: true, sharded: false, meshes: false, skeletons: false, provenance: false, locks: false });
    await vol.commitInfo();
    expect(JSON.parse(readFileSync(join(dir, "npychunks.json"), "utf8"))).toEqual({
      format: "npychunks", version: 1, type: "segmentation", dtype: "uint32", channels: 1,
      size: [9, 7, 5], chunk_size: [4, 4, 2], voxel_offset: [-2, 3, 1], resolution: [8, 8, 40],
    });
    const n = 9 * 7 * 5;
    const data = new Uint32Array(n).map((_, i) => (i * 2654435761) >>> 0);
    await vol.upload([-2, 3, 1, 7, 10, 6], data);
    await vol.close();

    // 3 x 2 x 3 chunks, one uncompressed .npy each, every one padded to 4x4x2 (128-byte header + 4*4*2*4 bytes)
    const files = readdirSync(join(dir, "c")).sort();
    const want: string[] = [];
    for (let z = 0; z < 3; z++) for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) want.push(`${x}.${y}.${z}.npy`);
    expect(files).toEqual(want.sort());
    for (const f of files) expect(statSync(join(dir, "c", f)).size, f).toBe(128 + 4 * 4 * 2 * 4);
    expect(readdirSync(dir).sort()).toEqual(["c", "npychunks.json"]);

    const again = await CloudVolume.open(url, { plugins: plugins() });
    expect(again.info).toEqual({
      type: "segmentation", data_type: "uint32", num_channels: 1,
      scales: [{ key: "0", size: [9, 7, 5], voxel_offset: [-2, 3, 1], resolution: [8, 8, 40], chunk_sizes: [[4, 4, 2]], encoding: "npy" }],
    });
    expect(again.encoding).toBe("npy");
    expect(again.writeCompression()).toBeUndefined();
    const cut = await again.download([-2, 3, 1, 7, 10, 6]);
    expect(cut.data).toBeInstanceOf(Uint32Array);
    expect([...cut.data]).toEqual([...data]);
    const sub = await again.download([1, 4, 2, 7, 10, 4]); // crosses chunk lines, ends on the ragged bounds
    expect(sub.data[0]).toBe(data[3 + 9 * (1 + 7 * 1)]);
    expect(await again.hasData()).toBe(true);
    expect(again.chunkKey([2, 3, 5, 6, 7, 6])).toBe("c/1.0.2.npy");
    const ex = await again.exists([-2, 3, 1, 7, 10, 6]);
    expect(Object.keys(ex).sort()).toEqual(want.map((f) => `c/${f}`).sort());
    expect(Object.values(ex).every(Boolean)).toBe(true);
    await again.close();
  });

  it("meshes, skeletons, locks, sharding and provenance are UNSUPPORTED naming the format and the operation", async () => {
    const dir = tempDir("npychunks-api-");
    const vol = await CloudVolume.open(`npychunks://file://${dir}`, { plugins: plugins(), info: newInfo() });
    await vol.commitInfo();
    const mesh = await expectRejects(() => vol.mesh, "UNSUPPORTED");
    expect(mesh.message).toContain("npychunks");
    expect(mesh.message).toContain("meshes");
    const skel = await expectRejects(() => vol.skeleton, "UNSUPPORTED");
    expect(skel.message).toContain("npychunks");
    expect(skel.message).toContain("skeletons");
    const lock = await expectRejects(() => vol.lockMips(0), "UNSUPPORTED", "npychunks");
    expect(lock.message).toMatch(/lock/);
    await expectRejects(() => vol.unlockMips(0), "UNSUPPORTED", "npychunks");
    await expectRejects(() => vol.setSharding(0, true), "UNSUPPORTED", "npychunks");
    await expectRejects(() => vol.commitProvenance(), "UNSUPPORTED", "npychunks");
    await vol.setSharding(0, false); // nothing to undo: one file per chunk already
    expect(vol.isSharded()).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "npychunks.json"), "utf8"))).not.toHaveProperty("locked");
    await vol.close();
  });

  it("opening npychunks:// without the plugin is UNSUPPORTED_SCHEME saying how to add one (`plugins`, --plugin)", async () => {
    const dir = tempDir("npychunks-api-");
    const e = await expectRejects(() => CloudVolume.open(`npychunks://file://${dir}`), "UNSUPPORTED_SCHEME", "npychunks");
    expect(e.message).toContain("`plugins`");
    expect(e.message).toContain("--plugin");
  });

  it("a missing npychunks.json is NOT_FOUND with its key", async () => {
    const dir = tempDir("npychunks-api-");
    const e = await expectRejects(() => CloudVolume.open(`npychunks://file://${dir}`, { plugins: plugins() }), "NOT_FOUND", "npychunks.json");
    expect(e.key).toBe("npychunks.json");
  });

  it("commitInfo refuses what the format cannot hold with INVALID_METADATA naming the field, writing nothing", async () => {
    const dir = tempDir("npychunks-api-");
    const url = `npychunks://file://${dir}`;
    // two scales, given at open
    const two = newInfo();
    const v2 = await CloudVolume.open(url, { plugins: plugins(), info: two });
    v2.addScale([2, 2, 1]);
    expect(v2.scales).toHaveLength(2);
    await expectRejects(() => v2.commitInfo(), "INVALID_METADATA", "scales");
    await expectRejects(() => v2.upload([-2, 3, 1, 2, 7, 3], new Uint32Array(4 * 4 * 2)), "INVALID_METADATA", "scales");
    expect(existsSync(join(dir, "npychunks.json"))).toBe(false);
    await v2.close();
    const twoScales = newInfo();
    twoScales.scales.push({ ...structuredClone(twoScales.scales[0]), key: "16_16_40", resolution: [16, 16, 40] });
    const v2b = await CloudVolume.open(url, { plugins: plugins(), info: twoScales });
    const e2 = await expectRejects(() => v2b.commitInfo(), "INVALID_METADATA", "got 2 scales");
    expect(e2.message).toContain("scales");
    await v2b.close();

    for (const encoding of ["jpeg", "compressed_segmentation", "png"]) {
      const info = newInfo({ encoding });
      const v = await CloudVolume.open(url, { plugins: plugins(), info });
      const e = await expectRejects(() => v.commitInfo(), "INVALID_METADATA", "scales[0].encoding");
      expect(e.message).toContain(JSON.stringify(encoding));
      await v.close();
    }
    const bigChunks = newInfo();
    bigChunks.scales[0].chunk_sizes.push([8, 8, 8]);
    await expectRejects(async () => (await CloudVolume.open(url, { plugins: plugins(), info: bigChunks })).commitInfo(), "INVALID_METADATA", "chunk_sizes");
    const dtype = newInfo();
    (dtype as { data_type: string }).data_type = "uint12";
    await expectRejects(async () => (await CloudVolume.open(url, { plugins: plugins(), info: dtype })).commitInfo(), "INVALID_METADATA", "data_type");
    expect(existsSync(join(dir, "npychunks.json"))).toBe(false);

    // after a good commit, growing the info in place is refused too
    const ok = await CloudVolume.open(url, { plugins: plugins(), info: newInfo() });
    await ok.commitInfo();
    ok.addScale([2, 2, 1]);
    await expectRejects(() => ok.commitInfo(), "INVALID_METADATA", "scales");
    expect(JSON.parse(readFileSync(join(dir, "npychunks.json"), "utf8")).size).toEqual([9, 7, 5]);
    await ok.close();
  });

  it("takes a Precomputed info as cp hands it over: raw means npy, Precomputed's extra fields are left out", async () => {
    const dir = tempDir("npychunks-api-");
    const src = JSON.parse(readFileSync(join(fixturePath("pc_image_u8_raw_ragged_offset"), "info"), "utf8"));
    const info = {
      ...src, mesh: "mesh", skeletons: "skeletons_mip_0", compress: "none", segment_properties: "props",
      scales: [{ ...src.scales[0], sharding: null, locked: false, compressed_segmentation_block_size: [8, 8, 8], jpeg_quality: 85 }],
    };
    const vol = await CloudVolume.open(`npychunks://file://${dir}`, { plugins: plugins(), info });
    expect(vol.encoding).toBe("npy");
    await vol.commitInfo();
    expect(JSON.parse(readFileSync(join(dir, "npychunks.json"), "utf8"))).toEqual({
      format: "npychunks", version: 1, type: "image", dtype: "uint8", channels: 1,
      size: [50, 45, 20], chunk_size: [16, 16, 8], voxel_offset: [3, 5, 7], resolution: [8, 8, 33],
    });
    expect(vol.info.scales[0]).toEqual({ key: "0", size: [50, 45, 20], voxel_offset: [3, 5, 7], resolution: [8, 8, 33], chunk_sizes: [[16, 16, 8]], encoding: "npy" });
    await vol.close();
  });

  it("a damaged header or chunk file: INVALID_METADATA naming the field, DECODE_FAILED naming the chunk key", async () => {
    const dir = tempDir("npychunks-api-");
    const url = `npychunks://file://${dir}`;
    const vol = await CloudVolume.open(url, { plugins: plugins(), info: newInfo({ dtype: "uint8" }) });
    await vol.commitInfo();
    await vol.upload([-2, 3, 1, 7, 10, 6], new Uint8Array(9 * 7 * 5).fill(9));
    await vol.close();

    const header = join(dir, "npychunks.json");
    const good = readFileSync(header, "utf8");
    for (const [field, value] of [["dtype", "uint12"], ["chunk_size", [4, 0, 2]], ["version", 2], ["format", "zarr"], ["channels", 0], ["voxel_offset", [0.5, 0, 0]]] as const) {
      writeFileSync(header, JSON.stringify({ ...JSON.parse(good), [field]: value }));
      const e = await expectRejects(() => CloudVolume.open(url, { plugins: plugins() }), "INVALID_METADATA", field);
      expect(e.message).toContain("npychunks.json");
    }
    writeFileSync(header, "{ not json");
    await expectRejects(() => CloudVolume.open(url, { plugins: plugins() }), "INVALID_METADATA", "not JSON");
    writeFileSync(header, good);

    const chunk = join(dir, "c", "1.1.0.npy");
    const bytes = readFileSync(chunk);
    writeFileSync(chunk, bytes.subarray(0, bytes.length - 1));
    const v = await CloudVolume.open(url, { plugins: plugins() });
    let err: unknown;
    await v.download([-2, 3, 1, 7, 10, 6]).catch((e) => (err = e));
    expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
    expect((err as { key?: string }).key).toBe("c/1.1.0.npy");
    expect((err as Error).message).toContain("c/1.1.0.npy");
    // the chunks around it still read
    expect([...(await v.download([-2, 3, 1, 2, 7, 3])).data].every((x) => x === 9)).toBe(true);
    await v.close();
  });
});
