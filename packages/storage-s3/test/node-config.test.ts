import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { tempDir } from "@cloudvolume/testing";
import { resolveLocation, buildAliasTable } from "../src/common.js";
import { cloudVolumeDir, readAliasTable, secretsLookup } from "../src/node-config.js";
import { s3Storage } from "../src/node.js";

/**
 * Node configuration from disk, always in a temporary HOME and CLOUD_VOLUME_DIR (never
 * the real home directory): alias files, secret file resolution order, environment
 * fallback and anonymous access.
 */

let home: string;
let cvDir: string;

function write(path: string, content: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
}

function secret(id: string) {
  return { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: `secret-of-${id}-0123456789` };
}

beforeEach(() => {
  home = tempDir("cv-home-");
  cvDir = join(tempDir("cv-dir-"), "cloudvolume");
  vi.stubEnv("HOME", home);
  vi.stubEnv("CLOUD_VOLUME_DIR", cvDir);
  vi.stubEnv("AWS_ACCESS_KEY_ID", "");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  vi.stubEnv("AWS_DEFAULT_REGION", "");
  vi.stubEnv("AWS_REGION", "");
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("CloudVolume directory", () => {
  it("is the option, else $CLOUD_VOLUME_DIR, else ~/.cloudvolume", () => {
    expect(cloudVolumeDir("/x/y")).toBe("/x/y");
    expect(cloudVolumeDir()).toBe(cvDir);
    vi.stubEnv("CLOUD_VOLUME_DIR", "");
    expect(cloudVolumeDir()).toBe(join(home, ".cloudvolume"));
  });
});

describe("aliases.json", () => {
  it("reads $CLOUD_VOLUME_DIR/aliases.json and ~/.cloudfiles/aliases.json, the former winning", () => {
    write(join(home, ".cloudfiles", "aliases.json"), { local: { host: "s3://https://cloudfiles-host/" }, cf: { host: "s3://http://10.0.0.1:9000/" } });
    write(join(cvDir, "aliases.json"), { local: { host: "http://127.0.0.1:7480" } });
    const t = readAliasTable(cvDir);
    expect(t.problems).toEqual([]);
    expect(t.aliases.get("local")).toEqual({ endpoint: "http://127.0.0.1:7480", prefix: "" });
    expect(t.aliases.get("cf")).toEqual({ endpoint: "http://10.0.0.1:9000", prefix: "" });
    const plugin = s3Storage();
    expect([...plugin.protocols].sort()).toEqual(["cf", "local", "matrix", "s3", "tigerdata"]);
  });

  it("the aliases option wins over the files; missing and empty files are no aliases", () => {
    write(join(cvDir, "aliases.json"), "");
    expect([...readAliasTable(cvDir).aliases.keys()].sort()).toEqual(["matrix", "tigerdata"]);
    write(join(cvDir, "aliases.json"), { local: { host: "http://127.0.0.1:7480" } });
    const t = readAliasTable(cvDir, { local: "https://elsewhere" });
    expect(t.aliases.get("local")).toEqual({ endpoint: "https://elsewhere", prefix: "" });
  });

  it("a malformed file is reported, not thrown, and does not hide the other file", () => {
    write(join(cvDir, "aliases.json"), "{ not json");
    write(join(home, ".cloudfiles", "aliases.json"), { cf: { host: "https://h" } });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const plugin = s3Storage();
      expect(plugin.protocols).toContain("cf");
      expect(plugin.aliasProblems.join("\n")).toMatch(/aliases\.json is not valid JSON/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("secrets resolution order", () => {
  const table = buildAliasTable([{ from: "t", entries: { local: "http://127.0.0.1:7480" } }]).aliases;
  const loc = (protocol: string, path: string) => resolveLocation(protocol, path, table);
  const sec = (name: string) => join(cvDir, "secrets", name);
  const cf = (name: string) => join(home, ".cloudfiles", "secrets", name);

  it("s3: <bucket>-aws-secret.json, then aws-secret.json; $CLOUD_VOLUME_DIR before ~/.cloudfiles", async () => {
    write(cf("aws-secret.json"), secret("cf-aws"));
    expect((await secretsLookup(cvDir)(loc("s3", "b/x"))).credentials?.accessKeyId).toBe("cf-aws");
    write(sec("aws-secret.json"), secret("cv-aws"));
    expect((await secretsLookup(cvDir)(loc("s3", "b/x"))).credentials?.accessKeyId).toBe("cv-aws");
    write(cf("b-aws-secret.json"), secret("cf-b-aws"));
    // The bucket's file wins even from the fallback directory (names first, then directories).
    expect((await secretsLookup(cvDir)(loc("s3", "b/x"))).credentials?.accessKeyId).toBe("cf-b-aws");
    write(sec("b-aws-secret.json"), secret("cv-b-aws"));
    const found = await secretsLookup(cvDir)(loc("s3", "b/x"));
    expect(found.credentials?.accessKeyId).toBe("cv-b-aws");
    expect(found.source).toContain(sec("b-aws-secret.json"));
    expect((await secretsLookup(cvDir)(loc("s3", "other/x"))).credentials?.accessKeyId).toBe("cv-aws");
  });

  it("matrix and tigerdata use their own files only; user aliases fall back to the aws files", async () => {
    write(sec("aws-secret.json"), secret("aws"));
    expect((await secretsLookup(cvDir)(loc("matrix", "b/x"))).credentials).toBeUndefined();
    expect((await secretsLookup(cvDir)(loc("local", "b/x"))).credentials?.accessKeyId).toBe("aws");
    write(sec("matrix-secret.json"), secret("matrix"));
    write(sec("tigerdata-secret.json"), secret("tiger"));
    write(sec("local-secret.json"), secret("local"));
    write(sec("b-local-secret.json"), secret("b-local"));
    expect((await secretsLookup(cvDir)(loc("matrix", "b/x"))).credentials?.accessKeyId).toBe("matrix");
    expect((await secretsLookup(cvDir)(loc("tigerdata", "b/x"))).credentials?.accessKeyId).toBe("tiger");
    expect((await secretsLookup(cvDir)(loc("local", "b/x"))).credentials?.accessKeyId).toBe("b-local");
    expect((await secretsLookup(cvDir)(loc("local", "c/x"))).credentials?.accessKeyId).toBe("local");
  });

  it("then the AWS_* environment, then anonymous", async () => {
    const anon = await secretsLookup(cvDir)(loc("s3", "b/x"));
    expect(anon.credentials).toBeUndefined();
    expect(anon.source).toMatch(/anonymous/);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "env-id");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "env-secret-0123456789");
    vi.stubEnv("AWS_DEFAULT_REGION", "eu-central-1");
    const env = await secretsLookup(cvDir)(loc("s3", "b/x"));
    expect(env.credentials).toEqual({ accessKeyId: "env-id", secretAccessKey: "env-secret-0123456789", region: "eu-central-1" });
    expect(env.source).not.toContain("env-secret");
    write(sec("aws-secret.json"), secret("file"));
    expect((await secretsLookup(cvDir)(loc("s3", "b/x"))).credentials?.accessKeyId).toBe("file");
  });

  it("a malformed secrets file fails with INVALID_ARGUMENT naming the file, not its content", async () => {
    const text = `{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "hunter2-very-secret-value"`;
    write(sec("aws-secret.json"), text);
    const err = await secretsLookup(cvDir)(loc("s3", "b/x")).then(() => undefined, (e: unknown) => e);
    expect(isCloudVolumeError(err, "INVALID_ARGUMENT")).toBe(true);
    expect((err as Error).message).toContain(sec("aws-secret.json"));
    expect((err as Error).message).not.toContain("hunter2");
  });
});
