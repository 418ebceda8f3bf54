import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { compressedSegmentationCodec as codec, contains, labels, readVoxel, remap } from "@cloudvolume/codec-compressed-segmentation";
import { allCsegChunks } from "./fixtures.js";
import { blockyVoxels, rng, spec, thrown } from "./helpers.js";

/**
 * Bad bytes: every entry point either fails with CloudVolumeError DECODE_FAILED naming
 * the chunk's key, or (only where the corruption is undetectable, e.g. a flipped bit
 * inside packed indices) returns a correctly sized result. Never a RangeError/TypeError,
 * never a hang.
 */

const fixtures = allCsegChunks();
const u64 = fixtures.find((c) => c.name === "pc_seg_u64_cseg/0-32_0-32_0-16")!;
const ragged = fixtures.find((c) => c.name === "pc_seg_u64_cseg_gzip_ragged/33-51_34-47_19-23.gz")!;
const u32 = fixtures.find((c) => c.name === "pc_seg_fib25_u32_cseg/0-64_0-64_0-16")!;

function expectDecodeFailed(fn: () => unknown, chunk: ChunkSpec, what: string): void {
  const err = thrown(fn);
  if (!isCloudVolumeError(err, "DECODE_FAILED")) {
    throw new Error(`${what}: expected DECODE_FAILED, got ${err === undefined ? "a normal return" : String(err)}`);
  }
  expect(err.key, what).toBe(chunk.key);
}

function expectCleanOrFailed(fn: () => unknown, chunk: ChunkSpec, what: string): void {
  const err = thrown(fn);
  if (err === undefined) return;
  if (!isCloudVolumeError(err, "DECODE_FAILED")) throw new Error(`${what}: expected DECODE_FAILED or a result, got ${String(err)}`, { cause: err });
  expect(err.key, what).toBe(chunk.key);
}

const ENTRY_POINTS: [string, (b: Uint8Array, c: ChunkSpec) => unknown][] = [
  ["decode", (b, c) => codec.decode(b, c)],
  ["labels", (b, c) => labels(b, c)],
  ["contains", (b, c) => contains(b, c, 12345)],
  ["remap", (b, c) => remap(b, c, new Map(), true)],
];

describe("truncation by any number of bytes", () => {
  const own = spec([13, 9, 17], "uint64", [3, 5, 7], 2, "own/truncated");
  const ownEncoded = codec.encode!(blockyVoxels(own, 3), own) as Uint8Array;
  const cases = [u64, ragged, u32, { name: own.key!, chunk: own, encoded: ownEncoded }];
  for (const c of cases) {
    it(`${c.name}: every cut from 1 byte to all but one fails with DECODE_FAILED in decode, labels, contains and remap`, () => {
      for (let cut = 1; cut < c.encoded.byteLength; cut++) {
        const bytes = c.encoded.slice(0, c.encoded.byteLength - cut);
        for (const [name, fn] of ENTRY_POINTS) expectDecodeFailed(() => fn(bytes, c.chunk), c.chunk, `${name}, cut ${cut}`);
      }
    });
  }

  it("readVoxel fails cleanly or answers for every cut (a voxel far from the cut is still readable)", () => {
    for (let cut = 1; cut < u64.encoded.byteLength; cut += 3) {
      const bytes = u64.encoded.slice(0, u64.encoded.byteLength - cut);
      for (const [x, y, z] of [[0, 0, 0], [31, 31, 15], [17, 5, 9]]) expectCleanOrFailed(() => readVoxel(bytes, u64.chunk, x, y, z), u64.chunk, `cut ${cut}`);
    }
  });
});

/** A copy of `bytes` with uint32 word `i` set to `value`. */
function withWord(bytes: Uint8Array, i: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(i * 4, value >>> 0, true);
  return copy;
}
const word = (bytes: Uint8Array, i: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(i * 4, true);

describe("malformed headers", () => {
  const c = u64;
  const n = c.encoded.byteLength / 4;
  // Channel 0 starts at word 1; block 0's header is words 1 and 2; find a block with bits > 0.
  const blocks = 4 * 4 * 2;
  let packed = 0;
  while ((word(c.encoded, 1 + 2 * packed) >>> 24) === 0) packed++;
  const h0 = word(c.encoded, 1 + 2 * packed);
  const cases: [string, Uint8Array][] = [
    ["empty input", new Uint8Array(0)],
    ["length not a multiple of 4", c.encoded.slice(0, 13)],
    ["only the channel offset", c.encoded.slice(0, 4)],
    ["block headers cut short", c.encoded.slice(0, 4 * (1 + 2 * blocks - 1))],
    ["first channel offset is not num_channels", withWord(c.encoded, 0, 2)],
    ["channel offset past the end", withWord(c.encoded, 0, n + 5)],
    ["channel offset 0xffffffff", withWord(c.encoded, 0, 0xffffffff)],
    ...[3, 5, 7, 64, 255].map((bits): [string, Uint8Array] => [`encodedBits ${bits}`, withWord(c.encoded, 1 + 2 * packed, (h0 & 0xffffff) | (bits << 24))]),
    ["lookup table offset past the end", withWord(c.encoded, 1 + 2 * packed, (h0 & 0xff000000) | 0xfffff0)],
    ["0-bit block whose table is past the end", withWord(c.encoded, 1, 0xfffff0)],
    ["encoded values offset past the end", withWord(c.encoded, 2 + 2 * packed, n)],
    ["encoded values offset 0xffffffff", withWord(c.encoded, 2 + 2 * packed, 0xffffffff)],
  ];
  for (const [what, bytes] of cases) {
    it(`${what}: DECODE_FAILED naming the key from decode, labels, contains and remap`, () => {
      for (const [name, fn] of ENTRY_POINTS) expectDecodeFailed(() => fn(bytes, c.chunk), c.chunk, `${what} (${name})`);
    });
  }

  it("a bad header is reported by readVoxel when the voxel's block uses it", () => {
    const px = (packed % 4) * 8;
    const py = (Math.floor(packed / 4) % 4) * 8;
    const pz = Math.floor(packed / 16) * 8;
    expectDecodeFailed(() => readVoxel(withWord(c.encoded, 1 + 2 * packed, (h0 & 0xffffff) | (3 << 24)), c.chunk, px, py, pz), c.chunk, "bits 3");
    expectDecodeFailed(() => readVoxel(withWord(c.encoded, 2 + 2 * packed, 0xffffffff), c.chunk, px, py, pz), c.chunk, "values offset");
    expectDecodeFailed(() => readVoxel(c.encoded.slice(0, 8), c.chunk, px, py, pz), c.chunk, "headers cut");
  });

  it("a table index past the end of a table at the end of the input is caught (bits 32 included)", () => {
    // A 0-bit block's table is one value; make block 0 claim 32 bits with its table in the last word.
    const small = spec([2, 1, 1], "uint32", [2, 1, 1], 1, "own/bits32");
    const enc = codec.encode!(new Uint8Array(new Uint32Array([7, 0xffffffff]).buffer), small) as Uint8Array;
    // Layout: [1][h0 h1][values(1 word, 1 bit)][table 2 words] => 6 words.
    expect(enc.byteLength).toBe(24);
    const evil = withWord(withWord(enc, 1, 4 | (32 << 24)), 2, 3); // bits 32, table at word 5 (1 entry), values at word 4
    expectDecodeFailed(() => codec.decode(evil, small), small, "bits 32 index out of table");
  });
});

describe("random bytes and mutations", () => {
  const targets = [u64, ragged, u32];
  it("random inputs of many lengths fail cleanly everywhere", () => {
    for (const c of targets) {
      for (const len of [4, 8, 12, 64, 100, 256, 1000, 4096, c.encoded.byteLength]) {
        const next = rng(len * 7 + 1);
        for (let trial = 0; trial < 5; trial++) {
          const bytes = new Uint8Array(len);
          for (let i = 0; i < len; i++) bytes[i] = next() & 0xff;
          for (const [name, fn] of ENTRY_POINTS) expectCleanOrFailed(() => fn(bytes, c.chunk), c.chunk, `${name} on ${len} random bytes`);
          expectCleanOrFailed(() => readVoxel(bytes, c.chunk, 1, 2, 3), c.chunk, `readVoxel on ${len} random bytes`);
        }
      }
    }
  });

  it("1500 single-word and byte mutations of valid streams fail cleanly or decode to a right-sized result", () => {
    for (const c of targets) {
      const next = rng(c.encoded.byteLength);
      const size = c.expected.byteLength;
      for (let trial = 0; trial < 500; trial++) {
        const bytes = c.encoded.slice();
        const kind = next() % 3;
        const at = next() % bytes.byteLength;
        if (kind === 0) bytes[at] ^= 1 << (next() % 8);
        else if (kind === 1) bytes[at] = next() & 0xff;
        else new DataView(bytes.buffer).setUint32(at & ~3, next(), true);
        const err = thrown(() => {
          const out = codec.decode(bytes, c.chunk) as Uint8Array;
          if (out.byteLength !== size) throw new Error(`decode returned ${out.byteLength} bytes`);
        });
        if (err !== undefined && !isCloudVolumeError(err, "DECODE_FAILED")) throw new Error(`mutation ${trial}: ${String(err)}`);
        for (const [name, fn] of ENTRY_POINTS.slice(1)) expectCleanOrFailed(() => fn(bytes, c.chunk), c.chunk, `${name}, mutation ${trial}`);
      }
    }
  });
});

describe("bad chunk specs", () => {
  it("a missing or malformed block size is INVALID_METADATA naming the field", () => {
    for (const bs of [undefined, [8, 8], [8, 0, 8], [8, 8, 1.5], "8,8,8"]) {
      const chunk: ChunkSpec = { shape: [4, 4, 4], channels: 1, dtype: "uint32", key: "k", params: bs === undefined ? {} : { compressed_segmentation_block_size: bs } };
      const err = thrown(() => codec.decode(u32.encoded, chunk));
      expect(err).toMatchObject({ code: "INVALID_METADATA", key: "k" });
      expect((err as Error).message).toMatch(/compressed_segmentation_block_size/);
      expect(thrown(() => codec.encode!(new Uint8Array(64 * 4), chunk))).toMatchObject({ code: "INVALID_METADATA" });
    }
  });

  it("data types other than uint32/uint64 are INVALID_METADATA", () => {
    for (const dtype of ["uint8", "uint16", "int64", "float32"] as const) {
      expect(thrown(() => codec.decode(u32.encoded, spec([4, 4, 4], dtype, [8, 8, 8])))).toMatchObject({ code: "INVALID_METADATA" });
    }
  });

  it("an `out` of the wrong size is INVALID_ARGUMENT, not a partial write", () => {
    expect(thrown(() => codec.decode(u64.encoded, u64.chunk, new Uint8Array(u64.expected.byteLength - 8)))).toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
