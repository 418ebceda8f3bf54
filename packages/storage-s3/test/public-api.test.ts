import { describe, expect, it, vi } from "vitest";
import { tempDir } from "@cloudvolume/testing";
import * as web from "../src/index.js";
import * as node from "../src/node.js";
import * as store from "../src/s3-store.js";

/** The package's exports, pinned: a change here is a change users see (changeset it). */
describe("public API", () => {
  it("default (browser) entry", () => {
    expect(Object.keys(web).sort()).toEqual(["OFFICIAL_ALIASES", "parseAliasHost", "parseSecrets", "resolveLocation", "s3Storage", "secretFileNames"]);
  });
  it("node entry: the same, plus the on-disk configuration helpers", () => {
    expect(Object.keys(node).sort()).toEqual(["OFFICIAL_ALIASES", "cloudVolumeDir", "parseAliasHost", "parseSecrets", "readAliasTable", "resolveLocation", "s3Storage", "secretFileNames"]);
  });
  it("./store subpath: the store and its client (loads the AWS SDK)", () => {
    expect(Object.keys(store).sort()).toEqual(["S3Store", "createS3Client"]);
  });
  it("both descriptors are lazy: load() is what imports the SDK", () => {
    vi.stubEnv("HOME", tempDir("cv-api-home-")); // never the real ~/.cloudfiles
    for (const make of [web.s3Storage, node.s3Storage]) {
      const p = make({ cloudVolumeDir: "/nonexistent-cv-dir" });
      expect(p.kind).toBe("storage");
      expect(p.protocols.slice(0, 3)).toEqual(["s3", "matrix", "tigerdata"]);
      expect(typeof p.load).toBe("function");
    }
    vi.unstubAllEnvs();
  });
});
