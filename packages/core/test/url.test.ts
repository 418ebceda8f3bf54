import { describe, expect, it } from "vitest";
import { KNOWN_FORMATS, parseUrl } from "../src/url.js";
import { expectCode } from "./helpers.js";

describe("parseUrl", () => {
  it("format prefix + storage protocol", () => {
    expect(parseUrl("precomputed://gs://bucket/layer")).toMatchObject({
      format: "precomputed", protocol: "gs", path: "bucket/layer", storageUrl: "gs://bucket/layer",
    });
  });

  it("defaults the format to precomputed", () => {
    expect(parseUrl("gs://b/l")).toMatchObject({ format: "precomputed", protocol: "gs", path: "b/l", storageUrl: "gs://b/l" });
    expect(parseUrl("https://host.org/a/b?x=1")).toMatchObject({
      format: "precomputed", protocol: "https", path: "host.org/a/b?x=1", storageUrl: "https://host.org/a/b?x=1",
    });
  });

  it("recognises other known formats", () => {
    expect(parseUrl("zarr://s3://b/x")).toMatchObject({ format: "zarr", protocol: "s3", path: "b/x", storageUrl: "s3://b/x" });
    expect(parseUrl("graphene://https://h/seg").format).toBe("graphene");
    expect(parseUrl("N5://file:///d").format).toBe("n5");
  });

  it("file:// URLs keep the absolute path", () => {
    expect(parseUrl("file:///abs/dir")).toMatchObject({ format: "precomputed", protocol: "file", path: "/abs/dir", storageUrl: "file:///abs/dir" });
    expect(parseUrl("precomputed://file://rel/dir")).toMatchObject({ protocol: "file", path: "rel/dir" });
  });

  it("bare paths are local directories", () => {
    expect(parseUrl("/abs/dir")).toMatchObject({ format: "precomputed", protocol: "file", path: "/abs/dir", storageUrl: "file:///abs/dir" });
    expect(parseUrl("rel/dir")).toMatchObject({ format: "precomputed", protocol: "file", path: "rel/dir", storageUrl: "file://rel/dir" });
    expect(parseUrl("  ./x  ")).toMatchObject({ protocol: "file", path: "./x" });
  });

  it("mem://", () => {
    expect(parseUrl("mem://x")).toMatchObject({ format: "precomputed", protocol: "mem", path: "x", storageUrl: "mem://x" });
  });

  it("lower-cases the protocol", () => {
    expect(parseUrl("GS://Bucket/Layer")).toMatchObject({ protocol: "gs", path: "Bucket/Layer" });
  });

  it("rejects a format named twice or without a storage protocol", () => {
    expectCode(() => parseUrl("precomputed://precomputed://x"), "UNSUPPORTED_SCHEME");
    expectCode(() => parseUrl("zarr://precomputed://x"), "UNSUPPORTED_SCHEME");
  });

  it("rejects garbage with :// in a bare path", () => {
    expectCode(() => parseUrl("dir/a://b"), "UNSUPPORTED_SCHEME");
  });

  it("rejects empty cloudpaths", () => {
    expectCode(() => parseUrl(""), "INVALID_ARGUMENT");
    expectCode(() => parseUrl("   "), "INVALID_ARGUMENT");
    expectCode(() => parseUrl(undefined as never), "INVALID_ARGUMENT");
    expectCode(() => parseUrl("precomputed://"), "INVALID_ARGUMENT");
  });

  it("accepts a custom format list", () => {
    expect(parseUrl("myfmt://gs://b", { formats: ["myfmt"] })).toMatchObject({ format: "myfmt", protocol: "gs", path: "b" });
    // With a list that lacks zarr, zarr:// is a storage protocol.
    expect(parseUrl("zarr://b", { formats: ["precomputed"] })).toMatchObject({ format: "precomputed", protocol: "zarr", path: "b" });
  });

  it("KNOWN_FORMATS", () => {
    expect([...KNOWN_FORMATS]).toEqual(["precomputed", "graphene", "zarr", "zarr2", "zarr3", "n5", "boss"]);
  });
});
