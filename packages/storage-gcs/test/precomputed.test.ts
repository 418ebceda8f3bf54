import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Context, type TypedArray } from "@cloudvolume/core";
import { precomputed, PrecomputedVolume } from "@cloudvolume/format-precomputed";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { brotli } from "@cloudvolume/codec-brotli";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import { fixturePath, readExpected, readGroundTruth, startGcsTestServer, type GcsTestServer } from "@cloudvolume/testing";
import { gcsStorage } from "@cloudvolume/storage-gcs";

/**
 * The foundation's precomputed read and write tests, over gs:// against the JSON API
 * test server: CloudVolume-written fixtures uploaded the way CloudFiles stores them on
 * GCS (no name suffix, Content-Encoding on the object) read back bit for bit, and
 * ground truth written through our writer lands under the fixture's object names with
 * the same decoded bytes and CloudVolume's object metadata.
 */

let srv: GcsTestServer;
beforeAll(async () => {
  srv = await startGcsTestServer({ buckets: ["layers"] });
});
afterAll(() => srv.close());

const context = (retry?: { attempts?: number; baseDelayMs?: number }) =>
  new Context({ plugins: [gcsStorage({ apiEndpoint: srv.url }), precomputed(), raw(), gzip(), brotli(), compressedSegmentation()], retry });

/** Fixture files as relative paths, without the generator's own metadata. */
function fixtureFiles(name: string): string[] {
  const root = fixturePath(name);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split("\\").join("/"));
    }
  };
  walk(root);
  return out.filter((f) => f !== "FIXTURE.json" && f !== "expected.json").sort();
}

const SUFFIX: Record<string, string> = { ".gz": "gzip", ".br": "br" };
function splitSuffix(file: string): [string, string | undefined] {
  for (const [s, enc] of Object.entries(SUFFIX)) if (file.endsWith(s)) return [file.slice(0, -s.length), enc];
  return [file, undefined];
}
function decode(data: Uint8Array, encoding: string | undefined): Buffer {
  if (encoding === "gzip") return gunzipSync(data);
  if (encoding === "br") return brotliDecompressSync(data);
  return Buffer.from(data);
}

/** Upload a fixture as CloudFiles puts a layer on GCS: `x.gz` becomes object `x` with contentEncoding gzip. */
function seedFixture(name: string, prefix: string): void {
  for (const f of fixtureFiles(name)) {
    const [key, enc] = splitSuffix(f);
    srv.putObject("layers", `${prefix}/${key}`, readFileSync(join(fixturePath(name), f)), { contentEncoding: enc });
  }
}

function typed(dtype: string, bytes: Uint8Array): TypedArray {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (dtype) {
    case "uint8": return new Uint8Array(buf);
    case "uint16": return new Uint16Array(buf);
    case "uint32": return new Uint32Array(buf);
    case "uint64": return new BigUint64Array(buf);
    case "float32": return new Float32Array(buf);
    default: throw new Error(`dtype ${dtype}`);
  }
}

const asBytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const READ_FIXTURES = ["pc_image_u8_raw_gzip", "pc_image_u8_raw_br", "pc_seg_u64_cseg", "pc_image_u8_multiscale", "pc_image_u8_sharded"];

describe.each(READ_FIXTURES)("reading %s from gs://", (name) => {
  it("every mip, whole, bit for bit", async () => {
    const prefix = `read/${name}`;
    seedFixture(name, prefix);
    const exp = readExpected(name);
    const mips = exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];
    const vol = await PrecomputedVolume.open(context(), `gs://layers/${prefix}`);
    for (const mip of mips) {
      const gt = readGroundTruth(name, mip);
      const cut = await vol.download(vol.bounds(mip), { mip });
      expect(cut.shape.slice(0, 3)).toEqual(gt.shape.slice(0, 3));
      expect(asBytes(cut.data).equals(Buffer.from(gt.bytes)), `mip ${mip}`).toBe(true);
    }
    await vol.close();
  });
});

const WRITE_FIXTURES = ["pc_image_u8_raw_gzip", "pc_image_u8_raw_br", "pc_seg_u64_cseg", "pc_image_u8_multiscale"];

describe.each(WRITE_FIXTURES)("writing %s to gs://", (name) => {
  it("gives the fixture's object names, decoded bytes and CloudVolume's object metadata", async () => {
    const prefix = `write/${name}`;
    const meta = JSON.parse(readFileSync(join(fixturePath(name), "FIXTURE.json"), "utf8")) as { compress: string | boolean | null };
    const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
    const compress = meta.compress === false ? false : meta.compress === null ? undefined : (meta.compress as "gzip" | "br");
    const vol = await PrecomputedVolume.open(context(), `gs://layers/${prefix}`, { info, compress });
    await vol.commitInfo();
    const exp = readExpected(name);
    const mips = exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];
    for (const mip of mips) {
      const gt = readGroundTruth(name, mip);
      await vol.upload(vol.bounds(mip), typed(gt.dtype, gt.bytes), { mip });
    }
    const bucket = srv.buckets.get("layers")!;
    const written = [...bucket.keys()].filter((k) => k.startsWith(`${prefix}/`)).map((k) => k.slice(prefix.length + 1)).sort();
    const files = fixtureFiles(name);
    expect(written).toEqual(files.map((f) => splitSuffix(f)[0]).sort());
    for (const f of files) {
      const [key, enc] = splitSuffix(f);
      const obj = bucket.get(`${prefix}/${key}`)!;
      // CloudFiles stores the transfer encoding on the object, not in the name.
      expect(obj.contentEncoding, key).toBe(enc);
      if (key === "info") {
        expect(obj).toMatchObject({ contentType: "application/json", cacheControl: "no-cache" });
        expect(Buffer.from(obj.data).toString("utf8")).toBe(readFileSync(join(fixturePath(name), "info"), "utf8"));
        continue;
      }
      expect(obj).toMatchObject({ contentType: "application/octet-stream", cacheControl: "public, max-age=3600" });
      expect(decode(obj.data, obj.contentEncoding).equals(decode(readFileSync(join(fixturePath(name), f)), enc)), key).toBe(true);
    }
    // And it reads back through the store bit for bit.
    const back = await PrecomputedVolume.open(context(), `gs://layers/${prefix}`);
    for (const mip of mips) {
      const cut = await back.download(back.bounds(mip), { mip });
      expect(asBytes(cut.data).equals(Buffer.from(readGroundTruth(name, mip).bytes))).toBe(true);
    }
    await Promise.all([vol.close(), back.close()]);
  });
});

describe("precomputed over gs:// with a flaky server", () => {
  it("cdnCache sets Cache-Control; transient 503s on chunks are retried by the Context", async () => {
    const name = "pc_image_u8_raw_gzip";
    const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
    const prefix = "flaky/layer";
    const ctx = context({ attempts: 5, baseDelayMs: 1 });
    const vol = await PrecomputedVolume.open(ctx, `gs://layers/${prefix}`, { info, cdnCache: false });
    await vol.commitInfo();
    const gt = readGroundTruth(name);
    srv.failNext({ status: 503, times: 3, method: "POST", pathIncludes: "flaky" });
    await vol.upload(vol.bounds(0), typed(gt.dtype, gt.bytes));
    expect(srv.buckets.get("layers")!.get(`${prefix}/4_4_40/0-32_0-32_0-16`)).toMatchObject({ cacheControl: "no-cache", contentEncoding: "gzip" });
    srv.failNext({ status: 503, times: 2, method: "GET", pathIncludes: "flaky%2Flayer%2F4_4_40" });
    srv.failNext({ status: 429, times: 1, method: "GET", pathIncludes: "flaky%2Flayer%2F4_4_40" });
    const cut = await vol.download(vol.bounds(0));
    expect(asBytes(cut.data).equals(Buffer.from(gt.bytes))).toBe(true);
    await vol.close();
  });
});
