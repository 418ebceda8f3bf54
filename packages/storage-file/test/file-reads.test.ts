import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeKeyValueStore, tempDir } from "@cloudvolume/testing";
import { FileStore, fileReadBackend, useNativeFileReads } from "@cloudvolume/storage-file";

/**
 * Whole-file reads: through the addon (one pool job) and through node:fs, the same
 * objects, the same absences (missing file, directory) and the same errors; the shared
 * conformance suite runs on the node:fs path here (file-store.test.ts runs it on the
 * default, the addon where built). Under CI the addon must be built.
 */
if (process.env.CI && fileReadBackend().backend !== "native") throw new Error(`storage-file addon missing under CI: ${fileReadBackend().why}`);

describeKeyValueStore(
  "file (node:fs whole-file reads)",
  () => {
    useNativeFileReads(false);
    return new FileStore(tempDir("cv-file-nodefs-"));
  },
  { cleanup: (store) => { useNativeFileReads(true); rmSync((store as FileStore).root, { recursive: true, force: true }); } },
);

describe("native and node:fs whole-file reads agree", () => {
  it("objects of many sizes, an empty one, a missing one, a directory in the key's place", async () => {
    const dir = tempDir("cv-file-reads-");
    const store = new FileStore(dir);
    const sizes = [0, 1, 4095, 4096, 65537, 3 << 20];
    for (const n of sizes) writeFileSync(join(dir, `f${n}`), Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff));
    mkdirSync(join(dir, "adir"));
    const read = async (key: string) => (await store.get(key))?.slice();
    for (const native of [true, false]) {
      useNativeFileReads(native);
      for (const n of sizes) {
        const got = await read(`f${n}`);
        expect(got?.byteLength, `${native ? "native" : "node:fs"} f${n}`).toBe(n);
        for (let i = 0; i < n; i += 997) if (got![i] !== ((i * 31 + n) & 0xff)) throw new Error(`byte ${i} of f${n}`);
      }
      expect(await store.get("missing")).toBeUndefined();
      expect(await store.get("adir")).toBeUndefined();
      expect(await store.get("f1/below-a-file")).toBeUndefined(); // ENOTDIR
    }
    useNativeFileReads(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
