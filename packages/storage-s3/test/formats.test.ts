import { afterAll, beforeAll, describe } from "vitest";
import type { DataType } from "@cloudvolume/core";
import { blosc } from "@cloudvolume/codec-blosc";
import { gzip } from "@cloudvolume/codec-gzip";
import { raw } from "@cloudvolume/codec-raw";
import { n5 } from "@cloudvolume/format-n5";
import { zarr } from "@cloudvolume/format-zarr";
import { describeFormat, describeRadosgw, uniqueBucketName } from "@cloudvolume/testing";
import { adminClient, createBucket, destroyBucket, radosgwPlugin } from "./helpers.js";

/**
 * The format conformance suite (packages/testing/src/format.ts) for the non-Precomputed
 * formats over a real S3 server (radosgw): a zarr v3 sharded layer, whose partial-shard
 * writes are read-modify-writes of whole S3 objects and whose reads are ranged GETs of
 * them, and an N5 layer (one object per block, gzip). Every dtype runs in memory and on
 * file:// in the format packages; here three (1, 8 bytes and a float) keep the run short.
 * Without radosgw this fails under CI=true and is skipped elsewhere (describeRadosgw).
 */
const DTYPES: DataType[] = ["uint8", "uint64", "float32"];

describeRadosgw("zarr v3 sharded and n5 over S3 (radosgw)", (env) => {
  const admin = adminClient(env);
  const bucket = uniqueBucketName("cv-formats");
  beforeAll(() => createBucket(admin, bucket));
  afterAll(async () => {
    await destroyBucket(admin, bucket);
    admin.destroy();
  });

  let n = 0;
  // Each test is a handful of sequential requests, ~200-400 ms of waiting on radosgw; the
  // tests share nothing (one layer each), so running them concurrently cuts the wall time
  // several times over.
  describe.concurrent("zarr v3", () => {
    // 8x8x8 shards: the suite's 10x11x12 volume spans 2x2x2 shard objects (the default
    // shards would put it all in one), so writes cross objects and a missing chunk can be
    // a missing object as well as an empty index entry.
    for (const shards of [true, [8, 8, 8]] as const) {
      describeFormat(`zarr v3 sharded over s3:// (shards ${JSON.stringify(shards)})`, async () => ({
        plugins: [zarr(), radosgwPlugin(env), blosc(), gzip()],
        newLayerUrl: () => `zarr3://s3://${bucket}/zarr3/l${n++}`,
        options: { shards } as Record<string, unknown>, // a zarr driver option, not in VolumeOptions
      }), { dtypes: DTYPES });
    }
  });

  describe.concurrent("n5", () => {
    describeFormat("n5 over s3://", async () => ({
      plugins: [n5(), radosgwPlugin(env), gzip(), raw()],
      newLayerUrl: () => `n5://s3://${bucket}/n5/l${n++}`,
    }), { dtypes: DTYPES });
  });
});
