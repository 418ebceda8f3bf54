import { afterAll, beforeAll, describe } from "vitest";
import type { DataType } from "@cloudvolume/core";
import { blosc } from "@cloudvolume/codec-blosc";
import { gzip } from "@cloudvolume/codec-gzip";
import { raw } from "@cloudvolume/codec-raw";
import { n5 } from "@cloudvolume/format-n5";
import { zarr } from "@cloudvolume/format-zarr";
import { describeFormat, startGcsTestServer, type GcsTestServer } from "@cloudvolume/testing";
import { gcsStorage } from "@cloudvolume/storage-gcs";

/**
 * The format conformance suite (packages/testing/src/format.ts) for the non-Precomputed
 * formats over gs://, through @google-cloud/storage against the repo's JSON API test
 * server: a zarr v3 sharded layer (shards are objects read with ranged media GETs and
 * rewritten whole on a partial-shard write) and an N5 layer (one object per block, gzip).
 * Every dtype runs in memory and on file:// in the format packages; here three (1, 8
 * bytes and a float) keep the run short.
 */
const DTYPES: DataType[] = ["uint8", "uint64", "float32"];

let srv: GcsTestServer;
beforeAll(async () => {
  srv = await startGcsTestServer({ buckets: ["formats"] });
});
afterAll(() => srv.close());

// The suite's setup runs inside each test, after beforeAll, so srv.url is known by then.
let n = 0;

// Tests share nothing (one layer each) and mostly wait on HTTP round trips: run them concurrently.
describe.concurrent("zarr v3", () => {
  // 8x8x8 shards: the suite's 10x11x12 volume spans 2x2x2 shard objects (the default
  // shards would put it all in one), so writes cross objects and a missing chunk can be
  // a missing object as well as an empty index entry.
  for (const shards of [true, [8, 8, 8]] as const) {
    describeFormat(`zarr v3 sharded over gs:// (shards ${JSON.stringify(shards)})`, async () => ({
      plugins: [zarr(), gcsStorage({ apiEndpoint: srv.url }), blosc(), gzip()],
      newLayerUrl: () => `zarr3://gs://formats/zarr3/l${n++}`,
      options: { shards } as Record<string, unknown>, // a zarr driver option, not in VolumeOptions
    }), { dtypes: DTYPES });
  }
});

describe.concurrent("n5", () => {
  describeFormat("n5 over gs://", async () => ({
    plugins: [n5(), gcsStorage({ apiEndpoint: srv.url }), gzip(), raw()],
    newLayerUrl: () => `n5://gs://formats/n5/l${n++}`,
  }), { dtypes: DTYPES });
});
