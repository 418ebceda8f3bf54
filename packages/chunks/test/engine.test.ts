import { describe, expect, it } from "vitest";
import { Bbox, Context, isCloudVolumeError, type FormatDriver, type FormatPlugin, type LayerInfo } from "@cloudvolume/core";
import { memoryStorage, type MemoryBucket } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { describeFormat, expectRejects, flatFormat as flat } from "@cloudvolume/testing";
import { ChunkedVolume, setMipLocks } from "../src/index.js";

/*
 * The engine against a format it has never seen: "flat" (@cloudvolume/testing's
 * flatFormat), a few lines over the core contract. It stores edge chunks padded (as zarr and n5 do), has its
 * own fill value and no sharding or locks, so the engine's format-neutral paths that
 * Precomputed never takes are exercised: padded edges, fill values, UNSUPPORTED.
 */

const INFO: LayerInfo = {
  type: "image", data_type: "uint16", num_channels: 1,
  scales: [{ key: "s0", size: [5, 6, 7], voxel_offset: [1, 2, 3], resolution: [1, 1, 1], chunk_sizes: [[4, 4, 4]], encoding: "raw" }],
};
const BOUNDS = new Bbox([1, 2, 3], [6, 8, 10]);

function setup(settings: FlatSettings = {}) {
  const buckets = new Map<string, MemoryBucket>();
  const ctx = new Context({ plugins: [flat(settings), memoryStorage({ buckets }), raw(), gzip()] });
  return { ctx, bucket: (name: string) => buckets.get(name)! };
}

/** Voxel values that differ everywhere: 1000 + linear index. */
function ramp(box: Bbox): Uint16Array {
  const s = box.size();
  return new Uint16Array(s[0] * s[1] * s[2]).map((_, i) => 1000 + i);
}

// The whole conformance suite over the padded-edge format: every dtype, ragged shapes.
let layers = 0;
describeFormat("flat (padded edge chunks, via the engine)", async () => {
  const { ctx } = setup();
  return { plugins: [...ctx.plugins], newLayerUrl: () => `flat://mem://conformance/l${layers++}` };
});

describe("the chunk engine over a format defined through the core contract", () => {
  it("writes padded edge chunks (full chunk size, fill value outside) and reads them back exactly", async () => {
    const { ctx, bucket } = setup({ fill: 9 });
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO, compress: false });
    await vol.commitInfo();
    const data = ramp(BOUNDS);
    await vol.upload(BOUNDS, data);
    // Every stored chunk is the full 4x4x4 of uint16, edge chunks too: 128 bytes.
    const objects = [...bucket("b").keys()].filter((k) => k.startsWith("l/m0/"));
    expect(objects.length).toBe(2 * 2 * 2);
    for (const k of objects) expect(bucket("b").get(k)!.data.byteLength, k).toBe(4 * 4 * 4 * 2);
    // The padding of the corner chunk holds the fill value.
    const corner = bucket("b").get("l/m0/5_6_7")!.data;
    const corner16 = new Uint16Array(corner.buffer, corner.byteOffset, corner.byteLength / 2);
    expect(corner16[0]).toBe(data[4 + 5 * (4 + 6 * 4)]); // voxel (5, 6, 7) of the volume
    expect(corner16[1]).toBe(9); // x = 6 is past the bound
    const again = await ChunkedVolume.open(ctx, "flat://mem://b/l");
    expect([...(await again.download(BOUNDS)).data]).toEqual([...data]);
    const sub = new Bbox([2, 3, 4], [6, 8, 9]);
    const s = sub.size();
    const got = (await again.download(sub)).data;
    for (let z = 0; z < s[2]; z++) for (let y = 0; y < s[1]; y++) for (let x = 0; x < s[0]; x++) {
      const want = data[(x + 1) + 5 * ((y + 1) + 6 * (z + 1))];
      expect(got[x + s[0] * (y + s[1] * z)]).toBe(want);
    }
  });

  it("a truncated edge chunk is refused when the format stores them padded", async () => {
    const { ctx, bucket } = setup();
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO, compress: false });
    await vol.commitInfo();
    await vol.upload(BOUNDS, ramp(BOUNDS));
    bucket("b").set("l/m0/5_6_7", { data: new Uint8Array(1 * 2 * 3 * 2) }); // the truncated 1x2x3 form
    const e = await expectRejects(vol.download(BOUNDS), "DECODE_FAILED");
    expect(e.key).toBe("m0/5_6_7");
  });

  it("non-aligned writes repaint padded edge chunks", async () => {
    const { ctx } = setup();
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO, nonAlignedWrites: true, fillMissing: true });
    await vol.commitInfo();
    const base = ramp(BOUNDS);
    await vol.upload(BOUNDS, base);
    const box = new Bbox([4, 5, 6], [6, 8, 10]);
    await vol.upload(box, new Uint16Array(2 * 3 * 4).fill(7));
    const got = (await vol.download(BOUNDS)).data;
    for (let z = 3; z < 10; z++) for (let y = 2; y < 8; y++) for (let x = 1; x < 6; x++) {
      const i = (x - 1) + 5 * ((y - 2) + 6 * (z - 3));
      const inBox = x >= box.min[0] && y >= box.min[1] && z >= box.min[2];
      expect(got[i], `(${x},${y},${z})`).toBe(inBox ? 7 : base[i]);
    }
  });

  it("the format's fill value is the background of missing chunks and unbounded reads; backgroundColor overrides it", async () => {
    const { ctx } = setup({ fill: 42 });
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO, fillMissing: true, bounded: false });
    expect([...new Set((await vol.download(new Bbox([0, 0, 0], [8, 8, 8]))).data)]).toEqual([42]);
    const over = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO, fillMissing: true, backgroundColor: 3 });
    expect([...new Set((await over.download(BOUNDS)).data)]).toEqual([3]);
  });

  it("transfers between layers copy chunk bytes as stored only when the pipelines' signatures agree", async () => {
    const a = setup();
    const src = await ChunkedVolume.open(a.ctx, "flat://mem://b/src", { info: INFO, compress: false });
    await src.commitInfo();
    await src.upload(BOUNDS, ramp(BOUNDS));
    const same = await ChunkedVolume.open(a.ctx, "flat://mem://b/same", { info: INFO, compress: false });
    await same.commitInfo();
    expect(await src.transferTo(same)).toEqual({ chunks: 8, copied: 8, recoded: 0 });
    const b = setup({ signature: "other", edge: "truncated" });
    const other = await ChunkedVolume.open(b.ctx, "flat://mem://b/other", { info: INFO, compress: false });
    await other.commitInfo();
    expect(await src.transferTo(other)).toEqual({ chunks: 8, copied: 0, recoded: 8 });
    expect(b.bucket("b").get("other/m0/5_6_7")!.data.byteLength).toBe(1 * 2 * 3 * 2); // written in the destination's (truncated) form
    expect([...(await other.download(BOUNDS)).data]).toEqual([...ramp(BOUNDS)]);
  });

  it("what the format cannot do is UNSUPPORTED naming the format and the operation", async () => {
    const { ctx } = setup({ capabilities: { write: false } });
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO });
    const sharding = await expectRejects(vol.setSharding(0, true), "UNSUPPORTED");
    expect(sharding.message).toMatch(/flat format does not support sharded storage/);
    await vol.setSharding(0, false); // nothing to undo
    const write = await expectRejects(vol.upload(BOUNDS, ramp(BOUNDS)), "UNSUPPORTED");
    expect(write.message).toMatch(/flat format does not support writing/);
    const locks = setup({ capabilities: { write: true } });
    const lv = await ChunkedVolume.open(locks.ctx, "flat://mem://b/l", { info: INFO });
    await lv.commitInfo();
    const lock = await expectRejects(setMipLocks(lv, 0, true), "UNSUPPORTED");
    expect(lock.message).toMatch(/flat format does not support write-locking mips/);
  });

  it("a driver's read-only reason refuses writes as READ_ONLY with that reason", async () => {
    const { ctx } = setup({ readOnlyReason: "is a snapshot" });
    const vol = await ChunkedVolume.open(ctx, "flat://mem://b/l", { info: INFO });
    expect(vol.readOnly).toBe(true);
    const e = await expectRejects(vol.upload(BOUNDS, ramp(BOUNDS)), "READ_ONLY");
    expect(e.message).toContain("is a snapshot");
  });

  it("a format plugin whose load() gives no driver is UNAVAILABLE naming the package", async () => {
    const bogus: FormatPlugin = { kind: "format", names: ["bogus"], package: "@test/bogus", load: async () => ({}) as FormatDriver };
    const ctx = new Context({ plugins: [bogus, memoryStorage()] });
    const e = await ChunkedVolume.open(ctx, "bogus://mem://b/l").then(() => undefined, (err: unknown) => err);
    expect(isCloudVolumeError(e, "UNAVAILABLE")).toBe(true);
    expect((e as Error).message).toContain("@test/bogus");
  });
});
