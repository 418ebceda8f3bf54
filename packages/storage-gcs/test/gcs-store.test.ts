import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { Context, isCloudVolumeError, withRetry, type ErrorCode, type KeyValueStore } from "@cloudvolume/core";
import { describeKeyValueStore, startGcsTestServer, type GcsTestServer } from "@cloudvolume/testing";
import { GcsStore, gcsStorage, openGcsStore } from "@cloudvolume/storage-gcs";

// One server for the file; each test gets its own bucket path.
let server: Promise<GcsTestServer> | undefined;
const srv = () => (server ??= startGcsTestServer({ buckets: ["conf", "bkt"] }));
afterAll(async () => {
  if (server) await (await server).close();
});

let seq = 0;
describeKeyValueStore("gcs (JSON API test server)", async () => {
  const s = await srv();
  return openGcsStore({ bucket: "conf", prefix: `t${++seq}/layer`, apiEndpoint: s.url });
}, {
  cleanup: async (store) => {
    const s = await srv();
    const prefix = store.url.replace("gs://conf/", "") + "/";
    for (const k of [...s.buckets.get("conf")!.keys()]) if (k.startsWith(prefix)) s.buckets.get("conf")!.delete(k);
  },
});

// The same suite through the gs:// plugin and a Context (bucket root, no prefix).
describeKeyValueStore("gcs via gs:// plugin", async () => {
  const s = await srv();
  const bucket = `plugin${++seq}`;
  s.createBucket(bucket);
  return new Context({ plugins: [gcsStorage({ apiEndpoint: s.url })] }).storage(`gs://${bucket}`);
});

async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

async function expectCode(fn: () => Promise<unknown>, code: ErrorCode): Promise<unknown> {
  const e = await errorOf(fn);
  expect(isCloudVolumeError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  return e;
}

const pattern = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 131 + seed * 7 + (i >>> 9)) & 0xff);

async function fresh(opts: Partial<Parameters<typeof openGcsStore>[0]> = {}): Promise<{ s: GcsTestServer; store: GcsStore; prefix: string }> {
  const s = await srv();
  const prefix = `u${++seq}`;
  const store = await openGcsStore({ bucket: "bkt", prefix, apiEndpoint: s.url, ...opts });
  return { s, store, prefix };
}

describe("GcsStore uploads", () => {
  it("small objects go up in one multipart request with Content-Type, Content-Encoding and Cache-Control", async () => {
    const { s, store, prefix } = await fresh();
    const before = s.requests.length;
    const gz = gzipSync(pattern(1000));
    await store.put("4_4_40/0-32_0-32_0-16", gz, { contentEncoding: "gzip", contentType: "application/octet-stream", cacheControl: "public, max-age=3600" });
    await store.put("info", new TextEncoder().encode("{}"), { contentType: "application/json", cacheControl: "no-cache" });
    await store.put("plain", pattern(10));
    const uploads = s.requests.slice(before).filter((r) => r.path.startsWith("/upload/"));
    expect(uploads.map((r) => r.query.get("uploadType"))).toEqual(["multipart", "multipart", "multipart"]);
    const obj = s.buckets.get("bkt")!.get(`${prefix}/4_4_40/0-32_0-32_0-16`)!;
    expect(obj).toMatchObject({ contentEncoding: "gzip", contentType: "application/octet-stream", cacheControl: "public, max-age=3600" });
    expect(Buffer.from(obj.data).equals(gz)).toBe(true);
    expect(s.buckets.get("bkt")!.get(`${prefix}/info`)).toMatchObject({ contentType: "application/json", cacheControl: "no-cache", contentEncoding: undefined });
    expect(s.buckets.get("bkt")!.get(`${prefix}/plain`)).toMatchObject({ contentType: "application/octet-stream", contentEncoding: undefined, cacheControl: undefined });
  });

  it("objects over the threshold use a resumable upload (one PUT by default)", async () => {
    const { s, store, prefix } = await fresh({ resumableThreshold: 64 * 1024 });
    const data = pattern(300 * 1024, 3);
    const before = s.requests.length;
    await store.put("big", data, { contentEncoding: "br", cacheControl: "no-cache" });
    const reqs = s.requests.slice(before);
    expect(reqs.map((r) => `${r.method} ${r.query.get("uploadType")}`)).toEqual(["POST resumable", "PUT resumable"]);
    expect(reqs[1].headers["content-range"]).toBe("bytes 0-*/*");
    expect(s.buckets.get("bkt")!.get(`${prefix}/big`)).toMatchObject({ contentEncoding: "br", cacheControl: "no-cache", contentType: "application/octet-stream" });
    const got = await store.getObject("big");
    expect(got?.contentEncoding).toBe("br");
    expect(Buffer.from(got!.data).equals(Buffer.from(data))).toBe(true);
  });

  it("resumableChunkSize splits the upload into 256 KiB-multiple chunks with Content-Range", async () => {
    const K = 256 * 1024;
    const { s, store, prefix } = await fresh({ resumableThreshold: K, resumableChunkSize: K });
    const data = pattern(3 * K + 12345, 4);
    const before = s.requests.length;
    await store.put("chunked", data);
    const puts = s.requests.slice(before).filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.headers["content-range"])).toEqual([
      `bytes 0-${K - 1}/*`, `bytes ${K}-${2 * K - 1}/*`, `bytes ${2 * K}-${3 * K - 1}/*`, `bytes ${3 * K}-${data.byteLength - 1}/${data.byteLength}`,
    ]);
    expect(Buffer.from(s.buckets.get("bkt")!.get(`${prefix}/chunked`)!.data).equals(Buffer.from(data))).toBe(true);
    expect(() => new GcsStore({ name: "x" } as never, { resumableChunkSize: 1000 })).toThrow(/256 KiB/);
  });

  it("the default threshold is 8 MiB: 8 MiB goes multipart, one byte more resumable", async () => {
    const { s, store } = await fresh();
    const before = s.requests.length;
    await store.put("eight", new Uint8Array(8 * 1024 * 1024));
    await store.put("eight-plus", new Uint8Array(8 * 1024 * 1024 + 1));
    const types = s.requests.slice(before).filter((r) => r.method === "POST").map((r) => r.query.get("uploadType"));
    expect(types).toEqual(["multipart", "resumable"]);
  });
});

describe("GcsStore reads: encodings and ranges", () => {
  it("a gzip object comes back as stored, with contentEncoding gzip (never transcoded); a plain one without", async () => {
    const { s, store, prefix } = await fresh();
    const plain = pattern(4000, 5);
    const gz = gzipSync(plain);
    s.putObject("bkt", `${prefix}/gz`, gz, { contentEncoding: "gzip" });
    s.putObject("bkt", `${prefix}/plain`, plain);
    const before = s.requests.length;
    const a = await store.getObject("gz");
    expect(a?.contentEncoding).toBe("gzip");
    expect(Buffer.from(a!.data).equals(gz)).toBe(true);
    const b = await store.getObject("plain");
    expect(b?.contentEncoding).toBeUndefined();
    expect(Buffer.from(b!.data).equals(Buffer.from(plain))).toBe(true);
    // Every media request asked for gzip, which is what turns transcoding off on GCS.
    for (const r of s.requests.slice(before)) expect(String(r.headers["accept-encoding"])).toMatch(/gzip/);
    // A range of a gzip object is a range of the stored bytes.
    const part = await store.getObject("gz", { range: { offset: 0, length: 10 } });
    expect(Buffer.from(part!.data).equals(gz.subarray(0, 10))).toBe(true);
    expect(part!.contentEncoding).toBe("gzip");
  });

  it("ranges are sent as Range headers (suffix as bytes=-n); zero-length ranges do not fetch data", async () => {
    const { s, store, prefix } = await fresh();
    const data = pattern(500, 6);
    s.putObject("bkt", `${prefix}/r`, data);
    const before = s.requests.length;
    expect(Buffer.from((await store.get("r", { range: { offset: 100, length: 50 } }))!).equals(Buffer.from(data.subarray(100, 150)))).toBe(true);
    expect(Buffer.from((await store.get("r", { range: { suffixLength: 20 } }))!).equals(Buffer.from(data.subarray(480)))).toBe(true);
    expect((await store.get("r", { range: { offset: 7, length: 0 } }))?.byteLength).toBe(0);
    expect(await store.get("missing", { range: { suffixLength: 0 } })).toBeUndefined();
    const ranges = s.requests.slice(before).map((r) => r.headers.range);
    expect(ranges).toEqual(["bytes=100-149", "bytes=-20", undefined, undefined]);
  });

  it("list pages through more than one objects.list page", async () => {
    const { s, store, prefix } = await fresh();
    for (let i = 0; i < 1205; i++) s.putObject("bkt", `${prefix}/many/${String(i).padStart(5, "0")}`, new Uint8Array(1));
    s.putObject("bkt", `${prefix}/many/dir/`, new Uint8Array(0)); // a directory placeholder: not a key
    const keys: string[] = [];
    for await (const k of store.list("many/")) keys.push(k);
    expect(keys.length).toBe(1205);
    expect(keys[0]).toBe("many/00000");
    expect(new Set(keys).size).toBe(1205);
    expect(s.requests.filter((r) => r.path.endsWith("/o") && r.query.get("prefix") === `${prefix}/many/`).length).toBe(2);
  });
});

describe("GcsStore errors, retries and aborts", () => {
  it("maps 429, 5xx and dropped connections to UNAVAILABLE, 403 to PERMISSION_DENIED", async () => {
    const { s, store, prefix } = await fresh();
    s.putObject("bkt", `${prefix}/x`, pattern(10));
    for (const [fault, code] of [[{ status: 503 }, "UNAVAILABLE"], [{ status: 429 }, "UNAVAILABLE"], [{ status: 500 }, "UNAVAILABLE"], [{ reset: true }, "UNAVAILABLE"], [{ status: 403 }, "PERMISSION_DENIED"]] as const) {
      s.failNext({ ...fault, pathIncludes: `${prefix}%2Fx` });
      const e = await expectCode(() => store.get("x"), code);
      expect((e as Error).message).toContain(`${prefix}/x`.split("/").pop()!);
    }
    s.failNext({ status: 503, method: "POST", pathIncludes: `${prefix}%2Fy` });
    await expectCode(() => store.put("y", pattern(5)), "UNAVAILABLE");
    s.failNext({ status: 503, method: "DELETE" });
    await expectCode(() => store.delete("x"), "UNAVAILABLE");
    s.failNext({ status: 503, pathIncludes: "/o?" });
    await expectCode(async () => { for await (const _ of store.list()) void _; }, "UNAVAILABLE");
  });

  it("transient failures are retried by the Context's policy, not by the library", async () => {
    const { s, store, prefix } = await fresh();
    s.putObject("bkt", `${prefix}/x`, pattern(10));
    s.failNext({ status: 503, times: 2, pathIncludes: `${prefix}%2Fx` });
    const before = s.requests.length;
    // One attempt without a retry policy: the library itself does not retry.
    await expectCode(() => store.get("x"), "UNAVAILABLE");
    expect(s.requests.length - before).toBe(1);
    const got = await withRetry(() => store.get("x"), { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 });
    expect(Buffer.from(got!).equals(Buffer.from(pattern(10)))).toBe(true);
    expect(s.requests.length - before).toBe(3);
  });

  it("an abort while the request hangs rejects promptly with ABORTED", async () => {
    const { s, store, prefix } = await fresh();
    s.putObject("bkt", `${prefix}/slow`, pattern(10));
    s.failNext({ hang: true, pathIncludes: `${prefix}%2Fslow` });
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(new Error("user gave up")), 50);
    await expectCode(() => store.get("slow", { signal: ac.signal }), "ABORTED");
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("a missing bucket reads as missing but a write to it is an error naming the bucket", async () => {
    const s = await srv();
    const store = await openGcsStore({ bucket: "no-such-bucket", apiEndpoint: s.url });
    expect(await store.get("k")).toBeUndefined();
    const e = await expectCode(() => store.put("k", pattern(3)), "IO_ERROR");
    expect((e as Error).message).toMatch(/bucket does not exist/);
  });
});

describe("GcsStore credentials against a server that wants a token", () => {
  const TOKEN = "ya29.test-token-5f3a9c1e77";
  const WRONG = "ya29.wrong-token-8b2d4e6f00";

  it("a token in `secrets` is sent as a Bearer token on every request, uploads included", async () => {
    const s = await startGcsTestServer({ buckets: ["priv"], token: TOKEN });
    try {
      const store = await openGcsStore({ bucket: "priv", apiEndpoint: s.url, secrets: TOKEN, resumableThreshold: 1024 });
      await store.put("a", pattern(10));
      await store.put("b", pattern(5000)); // resumable
      expect(Buffer.from((await store.get("b"))!).equals(Buffer.from(pattern(5000)))).toBe(true);
      expect(await store.exists("a")).toBe(true);
      await store.delete("a");
      expect(s.requests.length).toBeGreaterThan(5);
      for (const r of s.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    } finally {
      await s.close();
    }
  });

  it("a wrong or missing token is PERMISSION_DENIED, and the token appears in no message, cause or dump", async () => {
    const s = await startGcsTestServer({ buckets: ["priv"], token: TOKEN });
    try {
      s.putObject("priv", "k", pattern(5));
      const wrong = await openGcsStore({ bucket: "priv", apiEndpoint: s.url, secrets: { token: WRONG }, resumableThreshold: 1024 });
      const errors = [
        await expectCode(() => wrong.get("k"), "PERMISSION_DENIED"),
        await expectCode(() => wrong.put("k2", pattern(10)), "PERMISSION_DENIED"),
        await expectCode(() => wrong.put("k3", pattern(5000)), "PERMISSION_DENIED"),
        await expectCode(async () => { for await (const _ of wrong.list()) void _; }, "PERMISSION_DENIED"),
      ];
      for (const e of errors) {
        const err = e as Error & { cause?: unknown };
        for (const text of [err.message, String(err), inspect(err, { depth: 20, showHidden: true }), JSON.stringify(err), String(err.cause), inspect(err.cause, { depth: 20 })]) {
          expect(text).not.toContain(WRONG);
          expect(text).not.toContain(WRONG.slice(5, 20));
        }
        expect(err.message).toMatch(/credentials for bucket priv/);
      }
      const anonymous = await openGcsStore({ bucket: "priv", apiEndpoint: s.url });
      await expectCode(() => anonymous.get("k"), "PERMISSION_DENIED");
    } finally {
      await s.close();
    }
  });
});

describe("gcsStorage plugin", () => {
  it("maps gs://bucket/path to the bucket and a key prefix, sharing one client", async () => {
    const s = await srv();
    const ctx = new Context({ plugins: [gcsStorage({ apiEndpoint: s.url })] });
    const a = (await ctx.storage("gs://bkt/plug/layer")) as KeyValueStore;
    const b = (await ctx.storage("precomputed://gs://bkt/plug")) as KeyValueStore;
    expect(a.url).toBe("gs://bkt/plug/layer");
    await a.put!("k", pattern(3));
    expect(s.buckets.get("bkt")!.has("plug/layer/k")).toBe(true);
    expect(Buffer.from((await b.get("layer/k"))!).equals(Buffer.from(pattern(3)))).toBe(true);
    await expectCode(() => ctx.storage("gs://"), "INVALID_ARGUMENT");
  });
});
