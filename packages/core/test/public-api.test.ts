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
    "abortError",
    "allocateArray",
    "asVolumeArray",
    "bytesOf",
    "checkKey",
    "chunkIndexOf",
    "chunksInRegion",
    "copyBox",
    "dtypeInfo",
    "dtypeOfArray",
    "fillPattern",
    "forEachConcurrent",
    "fortranStrides",
    "getVoxel",
    "gridShape",
    "isCloudVolumeError",
    "isDataType",
    "isRetryable",
    "isUniform",
    "joinKey",
    "mapConcurrent",
    "parseUrl",
    "resolveRange",
    "scalarBytes",
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
  for (const name of ["Bbox", "BufferPool", "CloudVolumeError", "Context", "Limiter"]) {
    expect(typeof (core as Record<string, unknown>)[name]).toBe("function");
  }
  expect(Array.isArray(core.DATA_TYPES)).toBe(true);
  expect(typeof core.PROVIDERS).toBe("object");
  expect(typeof core.HOST_IS_LITTLE_ENDIAN).toBe("boolean");
});
