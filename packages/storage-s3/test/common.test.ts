import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { buildAliasTable, parseAliasHost, parseSecrets, resolveLocation, secretFileNames } from "../src/common.js";
import { s3Storage as webS3Storage } from "../src/index.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("alias hosts", () => {
  it("accepts CloudFiles' s3://https://host/ form, plain endpoints and s3://bucket prefixes", () => {
    expect(parseAliasHost("s3://https://s3-hpcrc.rc.princeton.edu/")).toEqual({ endpoint: "https://s3-hpcrc.rc.princeton.edu", prefix: "" });
    expect(parseAliasHost("http://127.0.0.1:7480")).toEqual({ endpoint: "http://127.0.0.1:7480", prefix: "" });
    expect(parseAliasHost("s3://http://127.0.0.1:7480/")).toEqual({ endpoint: "http://127.0.0.1:7480", prefix: "" });
    expect(parseAliasHost("HTTPS://Example.org:9000/bucket/dir/")).toEqual({ endpoint: "https://Example.org:9000", prefix: "bucket/dir/" });
    expect(parseAliasHost("s3://my-bucket/some/prefix")).toEqual({ prefix: "my-bucket/some/prefix/" });
  });

  it("refuses hosts that are not S3", () => {
    for (const h of ["gs://bucket/", "file:///tmp", "mem://x", "s3://gs://b", "", "bucket"]) expect(parseAliasHost(h), h).toBeUndefined();
  });

  it("builds the table: official aliases, then sources in order, reporting bad entries", () => {
    const t = buildAliasTable([
      { from: "a.json", entries: { local: { host: "http://127.0.0.1:7480" }, gcs: { host: "gs://b/" }, s3: { host: "https://x" }, precomputed: { host: "https://x" } } },
      { from: "b.json", entries: { local: { host: "s3://https://other:1/" }, Upper: "https://up", "bad name": "https://x", nohost: {} } },
    ]);
    expect([...t.aliases.keys()].sort()).toEqual(["local", "matrix", "tigerdata", "upper"]);
    expect(t.aliases.get("local")).toEqual({ endpoint: "https://other:1", prefix: "" });
    expect(t.aliases.get("matrix")).toEqual({ endpoint: "https://s3-hpcrc.rc.princeton.edu", prefix: "" });
    expect(t.aliases.get("tigerdata")).toEqual({ endpoint: "https://tigerdata.princeton.edu", prefix: "" });
    expect(t.problems).toHaveLength(5);
    expect(t.problems.join("\n")).toMatch(/gcs.*not an S3 host/);
    expect(t.problems.join("\n")).toMatch(/"s3" would override/);
    expect(t.problems.join("\n")).toMatch(/"precomputed" would override/);
  });

  it("the browser descriptor takes aliases from options only", () => {
    const p = webS3Storage({ aliases: { local: "http://127.0.0.1:7480" } });
    expect(p.protocols).toEqual(["s3", "matrix", "tigerdata", "local"]);
    expect(p.package).toBe("@cloudvolume/storage-s3");
    expect(p.aliasProblems).toEqual([]);
  });
});

describe("locations", () => {
  const { aliases } = buildAliasTable([{ from: "t", entries: { local: "http://127.0.0.1:7480", pre: "s3://https://h/bkt/base/" } }]);

  it("s3:// with the default, an explicit or an inline endpoint", () => {
    expect(resolveLocation("s3", "bucket/a/b", aliases)).toEqual({ endpoint: undefined, bucket: "bucket", prefix: "a/b", service: "aws", userAlias: false });
    expect(resolveLocation("s3", "bucket", aliases, "http://h:1/")).toEqual({ endpoint: "http://h:1", bucket: "bucket", prefix: "", service: "aws", userAlias: false });
    expect(resolveLocation("s3", "https://s3.example.org/bkt/layer/", aliases)).toEqual({ endpoint: "https://s3.example.org", bucket: "bkt", prefix: "layer", service: "aws", userAlias: false });
  });

  it("aliases: endpoint, prefix and the service name secrets are looked up by", () => {
    expect(resolveLocation("matrix", "b/l", aliases)).toEqual({ endpoint: "https://s3-hpcrc.rc.princeton.edu", bucket: "b", prefix: "l", service: "matrix", userAlias: false });
    expect(resolveLocation("local", "b/l", aliases)).toEqual({ endpoint: "http://127.0.0.1:7480", bucket: "b", prefix: "l", service: "local", userAlias: true });
    expect(resolveLocation("pre", "x/y", aliases)).toEqual({ endpoint: "https://h", bucket: "bkt", prefix: "base/x/y", service: "pre", userAlias: true });
  });

  it("refuses a missing bucket, escaping paths and unknown aliases", () => {
    expect(isCloudVolumeError(thrown(() => resolveLocation("s3", "", aliases)), "INVALID_ARGUMENT")).toBe(true);
    expect(isCloudVolumeError(thrown(() => resolveLocation("s3", "b/../../etc", aliases)), "PERMISSION_DENIED")).toBe(true);
    expect(isCloudVolumeError(thrown(() => resolveLocation("nope", "b/x", aliases)), "UNSUPPORTED_SCHEME")).toBe(true);
  });

  it("secret file names follow CloudFiles, user aliases falling back to the aws files", () => {
    expect(secretFileNames({ service: "aws", bucket: "b", userAlias: false })).toEqual(["b-aws-secret.json", "aws-secret.json"]);
    expect(secretFileNames({ service: "matrix", bucket: "b", userAlias: false })).toEqual(["b-matrix-secret.json", "matrix-secret.json"]);
    expect(secretFileNames({ service: "local", bucket: "b", userAlias: true })).toEqual(["b-local-secret.json", "local-secret.json", "b-aws-secret.json", "aws-secret.json"]);
  });
});

describe("secrets", () => {
  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

  it("object, SDK spelling, or JSON string", () => {
    expect(parseSecrets({ AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: SECRET }, "x")).toEqual({ accessKeyId: "AK", secretAccessKey: SECRET });
    expect(parseSecrets({ accessKeyId: "AK", secretAccessKey: SECRET, sessionToken: "T", region: "eu-west-1" }, "x")).toEqual({ accessKeyId: "AK", secretAccessKey: SECRET, sessionToken: "T", region: "eu-west-1" });
    expect(parseSecrets(JSON.stringify({ AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: SECRET, AWS_DEFAULT_REGION: "us-west-2" }), "x")).toEqual({ accessKeyId: "AK", secretAccessKey: SECRET, region: "us-west-2" });
  });

  it("malformed secrets fail with INVALID_ARGUMENT and never quote the value", () => {
    const cases: unknown[] = [
      `{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "${SECRET}"`, // truncated JSON: V8's message would quote it
      SECRET, // a bare token
      { AWS_SECRET_ACCESS_KEY: SECRET },
      [SECRET],
      null,
    ];
    for (const c of cases) {
      const e = thrown(() => parseSecrets(c, "/tmp/x-secret.json"));
      expect(isCloudVolumeError(e, "INVALID_ARGUMENT")).toBe(true);
      const err = e as Error;
      expect(err.message).toContain("/tmp/x-secret.json");
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain("wJalr");
      expect(String((err as { cause?: unknown }).cause ?? "")).not.toContain(SECRET);
    }
  });

  it("a bad secrets option fails when the store is opened, not when the descriptor is made", async () => {
    const p = webS3Storage({ secrets: "not json" });
    const factory = await p.load();
    await expect(async () => factory({ format: "precomputed", protocol: "s3", path: "b/x", storageUrl: "s3://b/x" }, undefined as never)).rejects.toThrow(/not JSON/);
  });
});
