import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "../src/codec.js";
import {
  checkDecodeOutput,
  checkEncodeInput,
  chunkDecodeFailed,
  chunkEncodeFailed,
  chunkErrorContext,
  describeChunk,
  encodeIntParam,
} from "../src/codec-helpers.js";
import { isCloudVolumeError } from "../src/errors.js";
import { expectCode } from "./helpers.js";

const keyed: ChunkSpec = { shape: [64, 64, 16], channels: 3, dtype: "uint8", key: "8_8_40/0-64_0-64_0-16" };
const unkeyed: ChunkSpec = { shape: [2, 3, 4], channels: 1, dtype: "uint16" };

describe("describeChunk", () => {
  it("names key, shape, channels and dtype", () => {
    expect(describeChunk(keyed)).toBe("8_8_40/0-64_0-64_0-16 (64x64x16 voxels, 3 channel(s) of uint8)");
    expect(describeChunk(unkeyed)).toBe("(no key) (2x3x4 voxels, 1 channel(s) of uint16)");
  });
});

describe("chunkErrorContext", () => {
  it("holds the key and the cause only when there are some", () => {
    const cause = new Error("inner");
    expect(chunkErrorContext(keyed, cause)).toEqual({ key: keyed.key, cause });
    expect(chunkErrorContext(keyed)).toEqual({ key: keyed.key });
    expect(Object.keys(chunkErrorContext(unkeyed))).toEqual([]);
    expect(chunkErrorContext(unkeyed, 0)).toEqual({ cause: 0 });
  });
});

describe("chunkDecodeFailed / chunkEncodeFailed", () => {
  it("decode: DECODE_FAILED, `<codec> chunk <chunk>: <what>`, key and cause kept", () => {
    const cause = new RangeError("bad Huffman code");
    const e = chunkDecodeFailed("jpeg", keyed, "libjpeg rejected the data", cause);
    expect(isCloudVolumeError(e, "DECODE_FAILED")).toBe(true);
    expect(e.message).toBe("jpeg chunk 8_8_40/0-64_0-64_0-16 (64x64x16 voxels, 3 channel(s) of uint8): libjpeg rejected the data");
    expect(e.key).toBe(keyed.key);
    expect(e.cause).toBe(cause);
    const bare = chunkDecodeFailed("png", unkeyed, "the file is empty");
    expect(bare.key).toBeUndefined();
    expect("cause" in bare).toBe(false);
  });

  it("encode: ENCODE_FAILED, `<codec> encode of <chunk> failed: <why>`", () => {
    const cause = new Error("out of memory");
    const e = chunkEncodeFailed("jxl", keyed, "out of memory", cause);
    expect(isCloudVolumeError(e, "ENCODE_FAILED")).toBe(true);
    expect(e.message).toBe("jxl encode of 8_8_40/0-64_0-64_0-16 (64x64x16 voxels, 3 channel(s) of uint8) failed: out of memory");
    expect(e.key).toBe(keyed.key);
    expect(e.cause).toBe(cause);
    expect("cause" in chunkEncodeFailed("jxl", unkeyed, "libjxl returned nothing")).toBe(false);
  });
});

describe("encodeIntParam", () => {
  const withParams = (params: Record<string, unknown>): ChunkSpec => ({ ...keyed, params });

  it("is the fallback when the scale has no value (absent or null)", () => {
    expect(encodeIntParam("png", keyed, "png_level", 0, 9, 9)).toBe(9);
    expect(encodeIntParam("png", withParams({}), "png_level", 0, 9, 9)).toBe(9);
    expect(encodeIntParam("png", withParams({ png_level: null }), "png_level", 0, 9, 9)).toBe(9);
  });

  it("takes integers within [lo, hi], ends included", () => {
    for (const v of [1, 50, 100]) expect(encodeIntParam("jpeg", withParams({ jpeg_quality: v }), "jpeg_quality", 1, 100, 85)).toBe(v);
  });

  it("rejects anything else as INVALID_ARGUMENT naming codec, chunk, parameter and range", () => {
    for (const v of [0, 101, 2.5, "85", true, Number.NaN]) {
      const err = expectCode(() => encodeIntParam("jpeg", withParams({ jpeg_quality: v }), "jpeg_quality", 1, 100, 85), "INVALID_ARGUMENT");
      expect(err.message).toBe(
        `jpeg encode of ${describeChunk(keyed)}: jpeg_quality must be an integer from 1 to 100, got ${JSON.stringify(v)}`,
      );
      expect((err as { key?: string }).key).toBe(keyed.key);
    }
  });
});

describe("checkDecodeOutput / checkEncodeInput", () => {
  function thrown(fn: () => void): Error {
    const err = expectCode(fn, "INVALID_ARGUMENT");
    expect((err as { key?: string }).key).toBe(keyed.key);
    return err;
  }

  it("pass when sizes match, and decode without an output buffer", () => {
    expect(() => checkDecodeOutput("png", keyed, undefined, 12)).not.toThrow();
    expect(() => checkDecodeOutput("png", keyed, new Uint8Array(12), 12)).not.toThrow();
    expect(() => checkEncodeInput("png", keyed, new Uint8Array(12), 12)).not.toThrow();
  });

  it("name codec, chunk and both sizes otherwise", () => {
    expect(thrown(() => checkDecodeOutput("jxl", keyed, new Uint8Array(11), 12)).message).toBe(
      `jxl decode: output buffer has 11 bytes, chunk ${describeChunk(keyed)} needs 12`,
    );
    expect(thrown(() => checkEncodeInput("jpeg", keyed, new Uint8Array(13), 12)).message).toBe(
      `jpeg encode of ${describeChunk(keyed)}: got 13 bytes of voxels, expected 12`,
    );
  });
});
