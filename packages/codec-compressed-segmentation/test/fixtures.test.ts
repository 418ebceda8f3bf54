import { describe, expect, it } from "vitest";
import type { Vec3 } from "@cloudvolume/core";
import { compressedSegmentationCodec as codec, remap, labels } from "@cloudvolume/codec-compressed-segmentation";
// Neuroglancer's own TypeScript decoder (npm `neuroglancer`, lib/sliceview/compressed_segmentation),
// an implementation independent of ours, used as an oracle for our encoder.
import * as ngDecode64 from "neuroglancer/unstable/sliceview/compressed_segmentation/decode_uint64.js";
import * as ngDecode32 from "neuroglancer/unstable/sliceview/compressed_segmentation/decode_uint32.js";
import { allCsegChunks, CSEG_FIXTURES, type CsegChunk } from "./fixtures.js";
import { blockyVoxels, sameBytes, spec } from "./helpers.js";

const chunks = allCsegChunks();

function words(bytes: Uint8Array): Uint32Array {
  const copy = bytes.slice();
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Decode with Neuroglancer's decoder; returns voxel bytes (Fortran x, y, z, c). */
function neuroglancerDecode(encoded: Uint8Array, c: CsegChunk["chunk"]): Uint8Array {
  const [x, y, z] = c.shape;
  const size = [x, y, z, c.channels];
  const block = c.params!.compressed_segmentation_block_size as number[];
  const n = x * y * z * c.channels;
  if (c.dtype === "uint64") {
    const out = new BigUint64Array(n);
    ngDecode64.decodeChannels(out, words(encoded), 0, size, block);
    return new Uint8Array(out.buffer);
  }
  const out = new Uint32Array(n);
  ngDecode32.decodeChannels(out, words(encoded), 0, size, block);
  return new Uint8Array(out.buffer);
}

describe("CloudVolume compressed_segmentation fixtures", () => {
  it("found every chunk of the five fixtures (26 chunks, ragged edge chunks and block 8x4x2 included)", () => {
    expect(new Set(chunks.map((c) => c.fixture))).toEqual(new Set(CSEG_FIXTURES));
    expect(chunks.length).toBe(26);
    expect(chunks.some((c) => c.chunk.shape[1] === 13 && c.chunk.shape[2] === 4)).toBe(true);
  });

  for (const c of chunks) {
    it(`decodes ${c.name} to the ground truth`, () => {
      expect(sameBytes(codec.decode(c.encoded, c.chunk) as Uint8Array, c.expected)).toBe(true);
    });

    it(`encodes the ground truth of ${c.name} to CloudVolume's bytes exactly`, () => {
      const ours = codec.encode!(c.expected, c.chunk) as Uint8Array;
      expect(ours.byteLength).toBe(c.encoded.byteLength);
      expect(sameBytes(ours, c.encoded)).toBe(true);
    });
  }
});

describe("Neuroglancer's decoder as oracle", () => {
  it("decodes CloudVolume's fixture chunks to the ground truth (sanity check of the oracle)", () => {
    for (const c of chunks) expect(sameBytes(neuroglancerDecode(c.encoded, c.chunk), c.expected), c.name).toBe(true);
  });

  it("has teeth: one changed table word makes its output differ from the ground truth", () => {
    const c = chunks[0];
    const bytes = c.encoded.slice();
    const w = new Uint32Array(bytes.buffer);
    const table = 1 + (w[1] & 0xffffff); // block 0's table (channel 0 starts at word 1)
    w[table] ^= 0x40;
    expect(sameBytes(neuroglancerDecode(bytes, c.chunk), c.expected)).toBe(false);
  });

  it("decodes our encoding of every fixture chunk's ground truth to the ground truth", () => {
    for (const c of chunks) {
      const ours = codec.encode!(c.expected, c.chunk) as Uint8Array;
      expect(sameBytes(neuroglancerDecode(ours, c.chunk), c.expected), c.name).toBe(true);
    }
  });

  const cases: [Vec3, Vec3, number][] = [
    [[32, 32, 16], [8, 8, 8], 1],
    [[13, 9, 17], [8, 4, 2], 2],
    [[19, 23, 11], [3, 5, 7], 3],
    [[7, 5, 3], [1, 1, 1], 1],
    [[40, 3, 9], [16, 2, 4], 2],
  ];
  for (const dtype of ["uint32", "uint64"] as const) {
    for (const [shape, block, channels] of cases) {
      it(`decodes our ${dtype} ${shape.join("x")}x${channels}ch encoding with block ${block.join("x")} (partial blocks, shared tables)`, () => {
        const chunk = spec(shape, dtype, block, channels);
        for (const seed of [1, 2, 3]) {
          const voxels = blockyVoxels(chunk, seed);
          const enc = codec.encode!(voxels, chunk) as Uint8Array;
          expect(sameBytes(neuroglancerDecode(enc, chunk), voxels)).toBe(true);
        }
      });
    }
  }

  it("decodes our remapped fixture chunks to the mapped ground truth", () => {
    for (const c of chunks) {
      const ls = labels(c.encoded, c.chunk);
      const mapping = new Map<bigint | number, bigint | number>();
      ls.forEach((v: number | bigint, i: number) => mapping.set(v, c.chunk.dtype === "uint64" ? BigInt(i * 1000 + 7) << 33n : (i * 977 + 3) >>> 0));
      const remapped = remap(c.encoded, c.chunk, mapping);
      const expected = c.expected.slice();
      if (c.chunk.dtype === "uint64") {
        const v = new BigUint64Array(expected.buffer);
        for (let i = 0; i < v.length; i++) v[i] = BigInt(mapping.get(v[i])!);
      } else {
        const v = new Uint32Array(expected.buffer);
        for (let i = 0; i < v.length; i++) v[i] = Number(mapping.get(v[i])!);
      }
      expect(sameBytes(neuroglancerDecode(remapped, c.chunk), expected), c.name).toBe(true);
    }
  });
});
