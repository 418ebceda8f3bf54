import { describe, expect, it } from "vitest";
import { CloudVolumeError, isCloudVolumeError } from "../src/errors.js";

describe("CloudVolumeError", () => {
  it("carries code, message, context and name", () => {
    const e = new CloudVolumeError("NOT_FOUND", "no info", { key: "info", url: "gs://b/l", mip: 2, bbox: "0-1_0-1_0-1" });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("CloudVolumeError");
    expect(e.message).toBe("no info");
    expect(e.code).toBe("NOT_FOUND");
    expect([e.key, e.url, e.mip, e.bbox]).toEqual(["info", "gs://b/l", 2, "0-1_0-1_0-1"]);
    expect(String(e)).toBe("CloudVolumeError: no info");
  });

  it("preserves the cause", () => {
    const inner = new TypeError("boom");
    const e = new CloudVolumeError("IO_ERROR", "read failed", { cause: inner });
    expect(e.cause).toBe(inner);
    const noCause = new CloudVolumeError("IO_ERROR", "x");
    expect("cause" in noCause).toBe(false);
    // A falsy cause is still a cause.
    expect(new CloudVolumeError("IO_ERROR", "x", { cause: 0 }).cause).toBe(0);
  });

  it("keeps mip 0", () => {
    expect(new CloudVolumeError("OUT_OF_BOUNDS", "x", { mip: 0 }).mip).toBe(0);
  });
});

describe("isCloudVolumeError", () => {
  it("recognises real errors, optionally by code", () => {
    const e = new CloudVolumeError("UNAVAILABLE", "503");
    expect(isCloudVolumeError(e)).toBe(true);
    expect(isCloudVolumeError(e, "UNAVAILABLE")).toBe(true);
    expect(isCloudVolumeError(e, "NOT_FOUND")).toBe(false);
  });

  it("recognises an error from a second copy of core by its registry-symbol brand", () => {
    const foreign = Object.assign(new Error("from another copy"), { code: "NOT_FOUND" });
    Object.defineProperty(foreign, Symbol.for("@cloudvolume/core/CloudVolumeError"), { value: true });
    expect(foreign instanceof CloudVolumeError).toBe(false);
    expect(isCloudVolumeError(foreign)).toBe(true);
    expect(isCloudVolumeError(foreign, "NOT_FOUND")).toBe(true);
    expect(isCloudVolumeError(foreign, "IO_ERROR")).toBe(false);
    const plain = { [Symbol.for("@cloudvolume/core/CloudVolumeError")]: true, code: "ABORTED" };
    expect(isCloudVolumeError(plain, "ABORTED")).toBe(true);
  });

  it("rejects look-alikes and non-objects", () => {
    expect(isCloudVolumeError(new Error("x"))).toBe(false);
    expect(isCloudVolumeError({ name: "CloudVolumeError", code: "NOT_FOUND" })).toBe(false);
    expect(isCloudVolumeError({ [Symbol("@cloudvolume/core/CloudVolumeError")]: true })).toBe(false);
    expect(isCloudVolumeError({ [Symbol.for("@cloudvolume/core/CloudVolumeError")]: "true" })).toBe(false);
    for (const v of [null, undefined, 0, "CloudVolumeError", true]) expect(isCloudVolumeError(v)).toBe(false);
  });
});
