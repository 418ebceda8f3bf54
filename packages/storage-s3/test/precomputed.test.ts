import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { HeadObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dtypeInfo, type DataType } from "@cloudvolume/core";
import { PrecomputedVolume } from "@cloudvolume/format-precomputed";
import { describeRadosgw, fixturePath, readExpected, readGroundTruth, uniqueBucketName } from "@cloudvolume/testing";
import { adminClient, createBucket, destroyBucket, radosgwPlugin, testContext } from "./helpers.js";

/**
 * The foundation's precomputed read/write tests over S3: CloudVolume-written fixtures
 * copied into a radosgw bucket through our API (chunk by chunk, stored bytes as they
 * are), then read back bit for bit against the fixtures' ground truth; and the ground
 * truth uploaded through our API, read back the same way. The S3 objects must look
 * as CloudFiles writes them on S3: the chunk name without a .gz/.br suffix, and the
 * compression in Content-Encoding.
 */
const FIXTURES = [
  "pc_image_u8_raw",
  "pc_image_u8_raw_gzip",
  "pc_image_u8_raw_br",
  "pc_image_u8_multiscale",
  "pc_image_u8_raw_ragged_offset",
  "pc_image_u8_2ch_raw",
  "pc_image_u16_raw",
  "pc_float32_raw",
  "pc_seg_u32_raw_gzip",
  "pc_seg_u64_cseg",
  "pc_seg_u64_cseg_gzip_ragged",
  "pc_image_u8_sharded",
  "pc_seg_u64_cseg_sharded",
];

const SUFFIX: Record<string, string> = { ".gz": "gzip", ".br": "br" };

function fixtureFiles(name: string): string[] {
  const root = fixturePath(name);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.filter((f) => f !== "FIXTURE.json" && f !== "expected.json" && f !== "info" && !f.startsWith("provenance")).sort();
}

function mipsOf(name: string): number[] {
  const exp = readExpected(name);
  return exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];
}

function compressOf(name: string): "gzip" | "br" | false | undefined {
  const meta = JSON.parse(readFileSync(join(fixturePath(name), "FIXTURE.json"), "utf8")) as { compress?: string | boolean | null };
  return meta.compress === false ? false : meta.compress === "gzip" || meta.compress === "br" ? meta.compress : undefined;
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describeRadosgw("precomputed over S3 (radosgw)", (env) => {
  const admin = adminClient(env);
  const bucket = uniqueBucketName("cv-pc");
  const ctx = testContext([radosgwPlugin(env)]);

  beforeAll(async () => {
    await createBucket(admin, bucket);
  });
  afterAll(async () => {
    await destroyBucket(admin, bucket);
    admin.destroy();
  });

  it.each(FIXTURES)("%s: copied into S3 through our API, read back bit for bit", async (name) => {
    const src = await PrecomputedVolume.open(ctx, `file://${fixturePath(name)}`);
    const url = `s3://${bucket}/copy/${name}`;
    const dst = await PrecomputedVolume.open(ctx, url, { info: src.info, compress: compressOf(name) });
    await dst.commitInfo();
    for (const mip of mipsOf(name)) await src.transferTo(dst, { mip });

    // Unsharded chunks keep their bytes; the .gz/.br suffix of file:// becomes Content-Encoding.
    if (!src.info.scales.some((s) => s.sharding)) {
      for (const f of fixtureFiles(name)) {
        const ext = f.slice(f.lastIndexOf("."));
        const key = `copy/${name}/${SUFFIX[ext] ? f.slice(0, -ext.length) : f}`;
        const obj = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(obj.ContentEncoding, key).toBe(SUFFIX[ext]);
        expect(obj.ContentType, key).toBe("application/octet-stream");
        expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(readFileSync(join(fixturePath(name), f))), key).toBe(true);
      }
    }
    const info = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: `copy/${name}/info` }));
    expect(info.ContentType).toBe("application/json");

    const back = await PrecomputedVolume.open(ctx, url);
    expect(back.info).toEqual(src.info);
    for (const mip of mipsOf(name)) {
      const gt = readGroundTruth(name, mip);
      const cut = await back.download(back.bounds(mip), { mip });
      expect(cut.shape.slice(0, 3)).toEqual(gt.shape.slice(0, 3));
      expect(bytes(cut.data).equals(Buffer.from(gt.bytes)), `${name} mip ${mip}`).toBe(true);
    }
  });

  it.each(FIXTURES.filter((n) => !n.includes("sharded")))("%s: ground truth uploaded to S3 through our API, read back bit for bit", async (name) => {
    const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
    const url = `s3://${bucket}/upload/${name}`;
    const vol = await PrecomputedVolume.open(ctx, url, { info, compress: compressOf(name), cdnCache: 120 });
    await vol.commitInfo();
    const dtype = vol.info.data_type as DataType;
    for (const mip of mipsOf(name)) {
      const gt = readGroundTruth(name, mip);
      const arr = new (dtypeInfo(dtype).ctor)(gt.bytes.slice().buffer);
      await vol.upload(vol.bounds(mip), { data: arr, shape: [gt.shape[0], gt.shape[1], gt.shape[2], gt.shape[3] ?? 1], stride: [1, gt.shape[0], gt.shape[0] * gt.shape[1], gt.shape[0] * gt.shape[1] * gt.shape[2]], dtype }, { mip });
    }
    // cdnCache reaches the objects' Cache-Control, as CloudVolume's cdn_cache does.
    const someChunk = `upload/${name}/${vol.info.scales[0].key}/`;
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: someChunk, MaxKeys: 1 }));
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: listed.Contents![0].Key! }));
    expect(head.CacheControl).toBe("public, max-age=120");
    const compress = compressOf(name);
    expect(head.ContentEncoding).toBe(compress === false ? undefined : compress ?? (["raw", "compressed_segmentation"].includes(vol.info.scales[0].encoding) ? "gzip" : undefined));

    const back = await PrecomputedVolume.open(ctx, url);
    for (const mip of mipsOf(name)) {
      const gt = readGroundTruth(name, mip);
      const cut = await back.download(back.bounds(mip), { mip });
      expect(bytes(cut.data).equals(Buffer.from(gt.bytes)), `${name} mip ${mip}`).toBe(true);
    }
  });
});
