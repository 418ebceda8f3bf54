import { inspect } from "node:util";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Context, isCloudVolumeError, type KeyValueStore } from "@cloudvolume/core";
import { describeKeyValueStore, describeRadosgw, uniqueBucketName } from "@cloudvolume/testing";
import { S3Store, createS3Client } from "../src/s3-store.js";
import { s3Storage } from "../src/node.js";
import { adminClient, createBucket, destroyBucket, emptyPrefix, listAll, radosgwPlugin } from "./helpers.js";

/**
 * The S3 store against a real S3 server: Ceph radosgw on 127.0.0.1 (scripts/start-radosgw.sh),
 * in a bucket of its own for this run.
 */
describeRadosgw("S3 store on radosgw", (env) => {
  const admin = adminClient(env);
  const bucket = uniqueBucketName("cv-kv");
  const ctx = new Context({ plugins: [radosgwPlugin(env)] });

  beforeAll(async () => {
    await createBucket(admin, bucket);
  });
  afterAll(async () => {
    await destroyBucket(admin, bucket);
    admin.destroy();
  });

  let n = 0;
  describeKeyValueStore("s3 (radosgw)", () => ctx.storage(`s3://${bucket}/conformance-${n++}`), {
    // Each test's store lives under its own prefix; remove what it wrote.
    cleanup: async (store) => emptyPrefix(admin, bucket, store.url.slice(`s3://${bucket}/`.length) + "/"),
  });

  it("keys live under the cloudpath's prefix, and the store sees only its own", async () => {
    const a = await ctx.storage(`s3://${bucket}/layer-a`);
    const b = await ctx.storage(`s3://${bucket}/layer-ab`);
    await a.put!("info", new Uint8Array([1]));
    await b.put!("info", new Uint8Array([2]));
    expect((await listAll(admin, bucket, "layer-a")).sort()).toEqual(["layer-a/info", "layer-ab/info"]);
    const keys: string[] = [];
    for await (const k of a.list!("")) keys.push(k);
    expect(keys).toEqual(["info"]);
    expect(await a.get("info")).toEqual(new Uint8Array([1]));
  });

  it("list pages through more than one ListObjectsV2 page", async () => {
    const s = await ctx.storage(`s3://${bucket}/many`);
    // radosgw pages at 1000 keys: 1100 objects need two pages.
    const keys = Array.from({ length: 1100 }, (_, i) => `k/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => s.put!(k, new Uint8Array(0))));
    const got: string[] = [];
    for await (const k of s.list!("k/")) got.push(k);
    expect(got.sort()).toEqual(keys);
    await emptyPrefix(admin, bucket, "many/");
  });

  it("stores Content-Encoding, Content-Type and Cache-Control as given, and returns the encoding undecoded", async () => {
    const s = await ctx.storage(`s3://${bucket}/headers`);
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]);
    await s.put!("c", gz, { contentEncoding: "gzip", contentType: "application/octet-stream", cacheControl: "public, max-age=3600" });
    await s.put!("info", new TextEncoder().encode("{}"), { contentType: "application/json", cacheControl: "no-cache" });
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: "headers/c" }));
    expect({ enc: head.ContentEncoding, type: head.ContentType, cache: head.CacheControl }).toEqual({ enc: "gzip", type: "application/octet-stream", cache: "public, max-age=3600" });
    const info = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: "headers/info" }));
    expect({ enc: info.ContentEncoding, type: info.ContentType, cache: info.CacheControl }).toEqual({ enc: undefined, type: "application/json", cache: "no-cache" });
    expect(await s.getObject!("c")).toEqual({ data: gz, contentEncoding: "gzip" });
    expect(await s.getObject!("c", { range: { offset: 0, length: 0 } })).toEqual({ data: new Uint8Array(0), contentEncoding: "gzip" });
  });

  it("a bucket that does not exist is NOT_FOUND for reads and writes, absent for exists", async () => {
    const s = await ctx.storage(`s3://${uniqueBucketName("cv-none")}/x`);
    for (const op of [() => s.get("info"), () => s.put!("info", new Uint8Array(1))]) {
      const err = await op().catch((e: unknown) => e);
      expect(isCloudVolumeError(err, "NOT_FOUND"), String(err)).toBe(true);
    }
    expect(await s.exists!("info")).toBe(false);
  });

  it("a wrong secret is PERMISSION_DENIED, and the secret appears in no message, cause, inspection or log", async () => {
    const bogus = "bogus-secret-ZXhhbXBsZS1zZWNyZXQta2V5LTAxMjM0";
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))));
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => (logged.push(String(chunk)), true));
    try {
      for (const plugin of [
        s3Storage({ endpoint: env.endpoint, secrets: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: bogus } }),
        s3Storage({ endpoint: env.endpoint, secrets: JSON.stringify({ AWS_ACCESS_KEY_ID: "no-such-user", AWS_SECRET_ACCESS_KEY: bogus }) }),
      ]) {
        const bad = new Context({ plugins: [plugin] });
        const s = await bad.storage(`s3://${bucket}/denied`);
        for (const op of [() => s.get("x"), () => s.put!("x", new Uint8Array(4)), () => s.exists!("x"), async () => { for await (const _ of s.list!("")) void _; }]) {
          const err = await op().then(() => undefined, (e: unknown) => e);
          expect(isCloudVolumeError(err, "PERMISSION_DENIED"), String(err)).toBe(true);
          const e = err as Error;
          for (const text of [e.message, String(e.cause), inspect(e, { depth: 20, showHidden: true }), JSON.stringify(e), e.stack ?? ""]) {
            expect(text).not.toContain(bogus);
          }
        }
        expect(inspect(s, { depth: 20, showHidden: true })).not.toContain(bogus);
        expect(JSON.stringify(s)).not.toContain(bogus);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
      stderr.mockRestore();
    }
    expect(logged.join("\n")).not.toContain(bogus);
  });

  it("anonymous access reads a public object and is refused a private one", async () => {
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: "public/info", Body: new Uint8Array([9, 9]), ACL: "public-read" }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: "private/info", Body: new Uint8Array([8]) }));
    const anon = new S3Store({ client: createS3Client({ endpoint: env.endpoint, region: "us-east-1", forcePathStyle: true }), bucket, ownsClient: true });
    expect(await anon.get("public/info")).toEqual(new Uint8Array([9, 9]));
    const err = await anon.get("private/info").catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "PERMISSION_DENIED"), String(err)).toBe(true);
    await anon.close();
  });

  it("an upload aborted midway leaves no partial object: the old value or nothing", async () => {
    const s = (await ctx.storage(`s3://${bucket}/atomic`)) as S3Store;
    const big = new Uint8Array(48 << 20).fill(0xab);
    const old = new Uint8Array(1000).fill(1);
    await s.put("replaced", old);
    for (const key of ["fresh", "replaced"]) {
      const ac = new AbortController();
      const put = s.put(key, big, { signal: ac.signal });
      setTimeout(() => ac.abort(), 30);
      const err = await put.then(() => undefined, (e: unknown) => e);
      const got = await s.get(key);
      if (err === undefined) {
        // The machine was quick enough to finish 48 MiB in 30 ms: then it must be whole.
        expect(got?.byteLength).toBe(big.byteLength);
      } else {
        expect(isCloudVolumeError(err, "ABORTED"), String(err)).toBe(true);
        if (key === "fresh") expect(got).toBeUndefined();
        else expect(got).toEqual(old);
      }
    }
    // And radosgw never lists a half-written object.
    for (const k of await listAll(admin, bucket, "atomic/")) {
      const r = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      expect([1000, big.byteLength]).toContain(r.ContentLength);
      await r.Body?.transformToByteArray();
    }
  });

  it("opening the same cloudpath twice shares one client; stores close without closing it", async () => {
    const a = await ctx.storage(`s3://${bucket}/shared`);
    await a.close?.();
    const b: KeyValueStore = await ctx.storage(`s3://${bucket}/shared`);
    await b.put!("k", new Uint8Array([5]));
    expect(await a.get("k")).toEqual(new Uint8Array([5]));
  });
});

describe("S3 store without a server", () => {
  it("validates its arguments", () => {
    const client = createS3Client({ region: "us-east-1", forcePathStyle: true });
    expect(() => new S3Store({ client, bucket: "" })).toThrow(/bucket/);
    expect(() => new S3Store({ client, bucket: "a/b" })).toThrow(/bucket/);
    expect(new S3Store({ client, bucket: "b", prefix: "x/y/" }).url).toBe("s3://b/x/y");
    client.destroy();
  });
});
