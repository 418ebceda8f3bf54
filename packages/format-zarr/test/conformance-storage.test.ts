import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { describeFormat, tempDir, type FormatSetup } from "@cloudvolume/testing";
import { fileStorage } from "@cloudvolume/storage-file";
import { memoryStorage } from "@cloudvolume/storage-memory";
import type { DataType } from "@cloudvolume/core";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";

/**
 * The format conformance suite on zarr v3 SHARDED layers over local storage. mem:// with the
 * default shards already runs in conformance-v3.test.ts (every dtype), so it is not repeated
 * here; this file adds file://, where shards are real files (a partial-shard write is a
 * read-modify-write of a file on disk, a missing shard is a missing file), and mem:// with
 * small 8x8x8 shards: the suite's 10x11x12 volume then spans 2x2x2 shards, so a missing
 * chunk can be a whole missing shard and writes cross shard boundaries, which the default
 * shards (one 16x16x16 shard holding the whole volume) never do.
 * The S3, GCS and HTTP runs live in the storage packages (storage-s3, storage-gcs, storage-http).
 */
const dir = tempDir("cv-zarr3-conf-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const setup = (storage: "mem" | "file", shards: true | [number, number, number]): FormatSetup => async () => ({
  plugins: [zarr(), storage === "mem" ? memoryStorage() : fileStorage(), ...compressionPlugins()],
  newLayerUrl: () => (storage === "mem" ? `zarr3://mem://conformance-v3-storage/${n++}` : `zarr3://file://${dir}/l${n++}`),
  options: { shards } as Record<string, unknown>, // a zarr driver option, not in VolumeOptions
});

const some: DataType[] = ["uint8", "int16", "uint64", "float32"];
describeFormat("zarr v3 sharded over file:// (default shards)", setup("file", true));
describeFormat("zarr v3 sharded over file:// (8x8x8 shards: 2x2x2 of them)", setup("file", [8, 8, 8]), { dtypes: some });
describeFormat("zarr v3 sharded over mem:// (8x8x8 shards: 2x2x2 of them)", setup("mem", [8, 8, 8]), { dtypes: some });
