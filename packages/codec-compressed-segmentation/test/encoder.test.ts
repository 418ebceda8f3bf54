import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import * as api from "@cloudvolume/codec-compressed-segmentation";
import { compressedSegmentation, compressedSegmentationCodec as codec, labels, readVoxel } from "@cloudvolume/codec-compressed-segmentation";
import { sameBytes, spec, thrown } from "./helpers.js";

const u32 = (values: number[]): Uint8Array => new Uint8Array(new Uint32Array(values).buffer);
const words = (bytes: Uint8Array): number[] => Array.from(new Uint32Array(bytes.slice().buffer));

describe("encoder layout (what the reference encoders do)", () => {
  it("one 2x1x1 block: channel offset, header, packed indices, then the sorted table", () => {
    const chunk = spec([2, 1, 1], "uint32", [2, 1, 1]);
    // Voxels 9, 5: table [5, 9], 1 bit, indices 1, 0 -> word 0b01.
    expect(words(codec.encode!(u32([9, 5]), chunk) as Uint8Array)).toEqual([1, 3 | (1 << 24), 2, 0b01, 5, 9]);
  });

  it("uint64 tables are (low, high) word pairs sorted as unsigned 64-bit values", () => {
    const chunk = spec([3, 1, 1], "uint64", [4, 1, 1]);
    const v = new BigUint64Array([2n ** 63n, 5n, 2n ** 32n]);
    const w = words(codec.encode!(new Uint8Array(v.buffer), chunk) as Uint8Array);
    // header: table after 1 word of 2-bit indices (3 values -> 2 bits); padding voxel 3 keeps index 0.
    expect(w.slice(0, 4)).toEqual([1, 3 | (2 << 24), 2, 2 | (0 << 2) | (1 << 4)]);
    expect(w.slice(4)).toEqual([5, 0, 0, 1, 0, 0x80000000]);
  });

  it("uses the smallest allowed width: 1, 2, 3, 5, 17, 257 labels -> 0, 1, 2, 4, 8, 16 bits (and 16 bits for 65536)", () => {
    for (const [count, bits] of [[1, 0], [2, 1], [3, 2], [4, 2], [5, 4], [16, 4], [17, 8], [256, 8], [257, 16], [65536, 16]]) {
      const chunk = spec([count, 1, 1], "uint32", [count, 1, 1]);
      const w = words(codec.encode!(u32(Array.from({ length: count }, (_, i) => i * 3 + 1)), chunk) as Uint8Array);
      expect(w[1] >>> 24, `${count} labels`).toBe(bits);
    }
  });

  it("over 65536 labels in one block take 32 bits, and decode, labels and readVoxel handle them", () => {
    const count = 65537 + 5;
    const chunk = spec([count, 1, 1], "uint32", [count, 1, 1], 1, "own/32bit");
    const values = Array.from({ length: count }, (_, i) => (i * 2654435761) >>> 0);
    const voxels = u32(values);
    const enc = codec.encode!(voxels, chunk) as Uint8Array;
    expect(words(enc)[1] >>> 24).toBe(32);
    expect(sameBytes(codec.decode(enc, chunk) as Uint8Array, voxels)).toBe(true);
    expect(labels(enc, chunk).length).toBe(count);
    expect(readVoxel(enc, chunk, 12345, 0, 0)).toBe(values[12345]);
    // The table is last: every cut of it is caught by the checked 32-bit path.
    for (const cut of [4, 8, 4 * 1000]) {
      expect(isCloudVolumeError(thrown(() => codec.decode(enc.slice(0, enc.byteLength - cut), chunk)), "DECODE_FAILED")).toBe(true);
    }
  });

  it("a block whose label set was already written reuses that table; a different set (even a subset) does not", () => {
    // Three 2x1x1 blocks along x: {5, 9}, {9, 5} (same set), {5} (subset).
    const chunk = spec([6, 1, 1], "uint32", [2, 1, 1]);
    const w = words(codec.encode!(u32([5, 9, 9, 5, 5, 5]), chunk) as Uint8Array);
    const table = (b: number) => w[1 + 2 * b] & 0xffffff;
    const bits = (b: number) => w[1 + 2 * b] >>> 24;
    expect(table(1)).toBe(table(0));
    expect(bits(1)).toBe(1);
    expect(table(2)).not.toBe(table(0));
    expect(bits(2)).toBe(0);
    // Block 1 wrote only its indices: block 2's data starts right after them.
    expect(w[2 + 2 * 2]).toBe(w[2 + 2 * 1] + 1);
  });

  it("tables are shared per channel only: each channel writes its own", () => {
    const chunk = spec([2, 1, 1], "uint32", [2, 1, 1], 2);
    const w = words(codec.encode!(u32([5, 9, 5, 9]), chunk) as Uint8Array);
    // [2, 7][h h 1word t t][h h 1word t t]
    expect(w.slice(0, 2)).toEqual([2, 7]);
    expect(w.length).toBe(12);
    expect(w[7] & 0xffffff).toBe(3); // channel 1's table is relative to its own start
  });

  it("partial blocks store the whole block; voxels outside the chunk keep index 0 (the smallest label)", () => {
    const chunk = spec([3, 1, 1], "uint32", [8, 1, 1]);
    const w = words(codec.encode!(u32([7, 3, 7]), chunk) as Uint8Array);
    // 2 labels -> 1 bit x 8 voxels = 1 word; indices 1,0,1 and zeros for x = 3..7.
    expect(w).toEqual([1, 3 | (1 << 24), 2, 0b101, 3, 7]);
  });

  it("encode reads an input at an odd byte offset and never modifies it", () => {
    const chunk = spec([5, 4, 3], "uint64", [2, 2, 2]);
    const src = new Uint8Array(5 * 4 * 3 * 8).map((_, i) => (i * 37) & 0xff);
    const backing = new Uint8Array(src.byteLength + 1);
    backing.set(src, 1);
    const enc = codec.encode!(backing.subarray(1), chunk) as Uint8Array;
    expect(sameBytes(backing.subarray(1), src)).toBe(true);
    expect(sameBytes(enc, codec.encode!(src, chunk) as Uint8Array)).toBe(true);
    // And decodes into an `out` that is not word-aligned.
    const outBacking = new Uint8Array(src.byteLength + 3);
    const out = outBacking.subarray(3);
    expect(codec.decode(enc, chunk, out)).toBe(out);
    expect(sameBytes(out, src)).toBe(true);
  });

  it("a voxel buffer of the wrong length is INVALID_ARGUMENT naming the key", () => {
    const chunk = spec([4, 4, 4], "uint32", [8, 8, 8], 1, "k/wrong");
    expect(thrown(() => codec.encode!(new Uint8Array(4 * 63), chunk))).toMatchObject({ code: "INVALID_ARGUMENT", key: "k/wrong" });
  });

  it("an empty chunk (a zero extent) encodes to just the channel offsets and decodes to nothing", () => {
    const chunk = spec([0, 4, 4], "uint64", [8, 8, 8], 2);
    const enc = codec.encode!(new Uint8Array(0), chunk) as Uint8Array;
    expect(words(enc)).toEqual([2, 2]);
    expect((codec.decode(enc, chunk) as Uint8Array).byteLength).toBe(0);
  });
});

describe("package surface", () => {
  it("exports exactly the codec, the plugin, encode/decode and the table helpers", () => {
    expect(Object.keys(api).sort()).toEqual([
      "compressedSegmentation",
      "compressedSegmentationCodec",
      "contains",
      "decodeCompressedSegmentation",
      "encodeCompressedSegmentation",
      "labels",
      "readVoxel",
      "remap",
    ]);
  });

  it("the plugin descriptor is metadata-only and lazily loads the codec", async () => {
    const p = compressedSegmentation();
    expect(p).toMatchObject({ kind: "codec", names: ["compressed_segmentation"], package: "@cloudvolume/codec-compressed-segmentation" });
    expect(await p.load()).toBe(codec);
    expect(codec.name).toBe("compressed_segmentation");
  });
});
