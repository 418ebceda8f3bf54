import { describe, expect, it } from "vitest";
import { memoryStats, largeBufferAllocator } from "@cloudvolume/memory";
import { CloudVolume } from "../src/index.js";

/**
 * Large cutouts come from the recycling allocator (Node entry default) and
 * hold the same voxels as with `allocate: false`; fillMissing's background is painted
 * into them too.
 */
describe.skipIf(!largeBufferAllocator() && !process.env.CI)("cutouts on the recycling allocator", () => {
  it("a 16 MiB uint64 cutout: same voxels with and without it; the allocator served it", async () => {
    const url = `mem://allocator-test-${Date.now()}`;
    const info = CloudVolume.createNewInfo({
      layerType: "segmentation", dataType: "uint64", encoding: "raw", resolution: [4, 4, 40], voxelOffset: [0, 0, 0], volumeSize: [256, 256, 32], chunkSize: [64, 64, 16],
    });
    const vol = await CloudVolume.open(url, { info, backgroundColor: 7, fillMissing: true });
    await vol.commitInfo();
    const data = new BigUint64Array(256 * 256 * 16);
    for (let i = 0; i < data.length; i++) data[i] = BigInt(i) * 2654435761n;
    await vol.upload([0, 0, 0, 256, 256, 16], data); // z 16-32 stays missing: background
    const before = memoryStats();
    const a = await vol.download(vol.bounds);
    const after = memoryStats();
    expect(after.mapped + after.reused).toBe(before.mapped + before.reused + 1);
    const plain = await CloudVolume.open(url, { allocate: false, backgroundColor: 7, fillMissing: true });
    const b = await plain.download(plain.bounds);
    expect(memoryStats().mapped + memoryStats().reused).toBe(after.mapped + after.reused);
    expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
    expect((a.data as BigUint64Array)[256 * 256 * 20]).toBe(7n);
    await vol.close();
    await plain.close();
  });
});
