import { expect, it } from "vitest";
import * as core from "../src/index.js";

// Pins the runtime exports of @cloudvolume/core. Adding or removing an export is an
// API change: update this list on purpose (and add a changeset).
it("exports exactly the public API", () => {
  expect(Object.keys(core).sort()).toEqual([
    "Bbox",
    "BufferPool",
    "CloudVolumeError",
    "Context",
    "DATA_TYPES",
    "DEFAULT_RETRY",
    "HOST_IS_LITTLE_ENDIAN",
    "KNOWN_FORMATS",
    "Limiter",
    "PROVIDERS",
    "WasmCodec",
    "abortError",
    "allocateArray",
    "asVolumeArray",
    "bytesOf",
    "byteswapInPlace",
    "checkDecodeOutput",
    "checkEncodeInput",
    "checkKey",
    "checkPictureSize",
    "chunkDecodeFailed",
    "chunkEncodeFailed",
    "chunkErrorContext",
    "chunkIndexOf",
    "chunksInRegion",
    "compileOnce",
    "concatBytes",
    "copyBox",
    "deinterleave",
    "describeChunk",
    "dtypeInfo",
    "dtypeOfArray",
    "encodeIntParam",
    "fillPattern",
    "forEachConcurrent",
    "formatUrl",
    "fortranStrides",
    "getVoxel",
    "gridShape",
    "interleave",
    "isCloudVolumeError",
    "isDataType",
    "isRetryable",
    "isUniform",
    "joinKey",
    "mapConcurrent",
    "parseUrl",
    "pipeBytes",
    "resolveRange",
    "scalarBytes",
    "serializeJson",
    "throwIfAborted",
    "toVec3",
    "vadd",
    "vec3",
    "vequal",
    "viewAs",
    "vmax",
    "vmin",
    "vmul",
    "vprod",
    "vsub",
    "withRetry",
  ]);
});

it("exports are of the expected kinds", () => {
  for (const name of ["Bbox", "BufferPool", "CloudVolumeError", "Context", "Limiter", "WasmCodec"]) {
    expect(typeof (core as Record<string, unknown>)[name]).toBe("function");
  }
  expect(Array.isArray(core.DATA_TYPES)).toBe(true);
  expect(typeof core.PROVIDERS).toBe("object");
  expect(typeof core.HOST_IS_LITTLE_ENDIAN).toBe("boolean");
});
