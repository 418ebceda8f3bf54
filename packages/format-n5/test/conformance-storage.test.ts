import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { gzip } from "@cloudvolume/codec-gzip";
import { raw } from "@cloudvolume/codec-raw";
import { fileStorage } from "@cloudvolume/storage-file";
import { describeFormat, tempDir } from "@cloudvolume/testing";
import { n5 } from "../src/index.js";

/**
 * The format conformance suite on N5 layers over file://, every dtype: blocks are real files
 * (big-endian, gzip, truncated edge blocks) and a missing block is a missing file. mem://
 * already runs in conformance.test.ts, so it is not repeated here; the S3, GCS and HTTP
 * runs live in the storage packages (storage-s3, storage-gcs, storage-http).
 */
const dir = tempDir("cv-n5-conf-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let i = 0;
describeFormat("n5 over file://", async () => ({
  plugins: [n5(), fileStorage(), gzip(), raw()],
  newLayerUrl: () => `n5://file://${dir}/l${i++}`,
}));
