import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { Context, type KeyValueStore, type Plugin } from "@cloudvolume/core";
import { precomputed } from "@cloudvolume/format-precomputed";
import { fileStorage } from "@cloudvolume/storage-file";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { brotli } from "@cloudvolume/codec-brotli";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import type { RadosgwEnv } from "@cloudvolume/testing";
import { createS3Client } from "../src/s3-store.js";
import { s3Storage } from "../src/node.js";
import type { S3StorageOptions } from "../src/common.js";

/** An S3 client with the test user's keys, for setting up and inspecting buckets behind the store's back. */
export function adminClient(env: RadosgwEnv): S3Client {
  return createS3Client({
    endpoint: env.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Every key in a bucket under `prefix`. */
export async function listAll(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Delete every object under `prefix` (radosgw's memstore keeps them in RAM until then). */
export async function emptyPrefix(client: S3Client, bucket: string, prefix = ""): Promise<void> {
  const keys = await listAll(client, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
  }
}

export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  await emptyPrefix(client, bucket);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** The s3 plugin pointed at radosgw with the test keys. */
export function radosgwPlugin(env: RadosgwEnv, extra: S3StorageOptions = {}): Plugin {
  return s3Storage({
    endpoint: env.endpoint,
    secrets: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey },
    ...extra,
  });
}

/** The plugins the precomputed tests need, plus `storage` (an S3 plugin, a fault wrapper...). */
export function testContext(storage: Plugin[], retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number }): Context {
  return new Context({
    plugins: [...storage, precomputed(), fileStorage(), memoryStorage(), raw(), gzip(), brotli(), compressedSegmentation()],
    retry,
  });
}

/** A store for a cloudpath through a context (what the volume layer gets). */
export function openStore(ctx: Context, url: string): Promise<KeyValueStore> {
  return ctx.storage(url);
}
