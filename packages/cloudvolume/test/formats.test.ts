import { describe, expect, it } from "vitest";
import { Bbox, isCloudVolumeError, type LayerInfo } from "@cloudvolume/core";
import { expectRejects, flatFormat } from "@cloudvolume/testing";
import { CloudVolume } from "../src/index.js";

/*
 * CloudVolume.open for a format that is not Precomputed: @cloudvolume/testing's "flat"
 * format, passed as a plugin. Everything the engine does works; what only Precomputed
 * has is UNSUPPORTED naming the format and the operation, never a TypeError.
 */

const INFO: LayerInfo = {
  type: "segmentation", data_type: "uint32", num_channels: 1,
  scales: [{ key: "s0", size: [10, 9, 8], voxel_offset: [0, 0, 0], resolution: [4, 4, 40], chunk_sizes: [[4, 4, 4]], encoding: "raw" }],
};
const ALL = new Bbox([0, 0, 0], [10, 9, 8]);

let n = 0;
async function flatLayer(): Promise<{ vol: CloudVolume; url: string; data: Uint32Array }> {
  const url = `flat://mem://formats/layer-${n++}`;
  const vol = await CloudVolume.open(url, { plugins: [flatFormat()], info: INFO });
  await vol.commitInfo();
  const data = new Uint32Array(10 * 9 * 8).map((_, i) => (i % 7) + 1);
  await vol.upload(ALL, data);
  return { vol, url, data };
}

describe("CloudVolume.open with a format plugin", () => {
  it("opens, writes and reads a layer of the plugin's format", async () => {
    const { vol, url, data } = await flatLayer();
    expect(vol.format).toBe("flat");
    expect(vol.capabilities).toMatchObject({ write: true, meshes: false, skeletons: false, sharded: false });
    const again = await CloudVolume.open(url, { plugins: [flatFormat()] });
    expect(again.info.scales[0].size).toEqual([10, 9, 8]);
    expect([...(await again.download(ALL)).data]).toEqual([...data]);
    // The volume operations are the engine's, so they work on any format.
    expect([...(await again.unique(ALL))]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Object.values(await again.exists(ALL)).every(Boolean)).toBe(true);
    expect(await again.hasData()).toBe(true);
    expect(await again.scatteredPoints([[3, 2, 1]])).toEqual([data[3 + 10 * (2 + 9 * 1)]]);
    await vol.close();
    await again.close();
  });

  it("copies between the plugin's format and Precomputed both ways (decoded and re-encoded)", async () => {
    const { vol, data } = await flatLayer();
    const pc = await CloudVolume.open(`mem://formats/pc-${n++}`, { info: { ...structuredClone(INFO), scales: [{ ...INFO.scales[0], key: "4_4_40", encoding: "compressed_segmentation", compressed_segmentation_block_size: [8, 8, 8] }] } });
    await pc.commitInfo();
    expect(await vol.transferTo(pc)).toMatchObject({ copied: 0, recoded: 18 });
    expect([...(await pc.download(ALL)).data]).toEqual([...data]);
    const back = await CloudVolume.open(`flat://mem://formats/back-${n++}`, { plugins: [flatFormat()], info: INFO });
    await back.commitInfo();
    expect(await pc.transferTo(back)).toMatchObject({ copied: 0, recoded: 18 });
    expect([...(await back.download(ALL)).data]).toEqual([...data]);
  });

  it("what only Precomputed has is UNSUPPORTED naming the format and the operation", async () => {
    const { vol } = await flatLayer();
    const cases: Array<[string, () => unknown, RegExp]> = [
      ["vol.mesh", () => vol.mesh.get([1]), /flat format does not support meshes \(vol\.mesh\)/],
      ["vol.skeleton", () => vol.skeleton.get(1), /flat format does not support skeletons \(vol\.skeleton\)/],
      ["spatialIndex", () => vol.spatialIndex("mesh"), /flat format does not support the mesh spatial index/],
      ["shardShape", () => vol.shardShape(), /flat format does not support shard shapes/],
      ["setSharding", () => vol.setSharding(0, true), /flat format does not support sharded storage/],
      ["lockMips", () => vol.lockMips(0), /flat format does not support write-locking mips/],
      ["commitProvenance", () => vol.commitProvenance(), /flat format does not support provenance/],
      ["provenance =", () => { vol.provenance = vol.provenance; }, /flat format does not support provenance/],
    ];
    for (const [what, fn, message] of cases) {
      let error: unknown;
      try {
        await fn();
      } catch (e) {
        error = e;
      }
      expect(isCloudVolumeError(error, "UNSUPPORTED"), `${what}: got ${String(error)}`).toBe(true);
      expect((error as Error).message, what).toMatch(message);
    }
    // Reading provenance is harmless: a format without one has an empty one.
    expect(vol.provenance.sources).toEqual([]);
    expect(vol.isSharded()).toBe(false);
  });

  it("a format the Context has no plugin for is UNSUPPORTED_SCHEME saying how to add one", async () => {
    const e = await expectRejects(CloudVolume.open("flat://mem://formats/none"), "UNSUPPORTED_SCHEME");
    expect(e.message).toContain('no format plugin for "flat"');
    expect(e.message).toMatch(/plugins.*--plugin.*CLOUDVOLUME_PLUGINS/);
  });

  it("a layer without metadata is NOT_FOUND naming the format's metadata key", async () => {
    const e = await expectRejects(CloudVolume.open("flat://mem://formats/empty", { plugins: [flatFormat()] }), "NOT_FOUND");
    expect(e.key).toBe("flat.json");
  });
});
