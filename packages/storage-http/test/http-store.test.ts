import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { Context, isCloudVolumeError, withRetry, type ErrorCode } from "@cloudvolume/core";
import { describeKeyValueStore, startHttpTestServer, tempDir, type HttpTestServer } from "@cloudvolume/testing";
import { HttpStore, httpStorage, toHttpsUrl, encodeKey } from "@cloudvolume/storage-http";

// One server over one temporary root; each conformance test gets a fresh directory in it.
const root = tempDir("cv-http-kv-");
let server: Promise<HttpTestServer> | undefined;
const srv = () => (server ??= startHttpTestServer(root));
afterAll(async () => {
  if (server) await (await server).close();
  rmSync(root, { recursive: true, force: true });
});

let seq = 0;
describeKeyValueStore("http (read-only, files seeded behind a local server)", async () => {
  const s = await srv();
  const dir = `t${++seq}`;
  mkdirSync(join(root, dir));
  return new HttpStore({ url: `${s.url}/${dir}` });
}, {
  seed: (store, entries) => {
    const dir = join(root, store.url.split("/").pop()!);
    for (const { key, data } of entries) {
      const p = join(dir, ...key.split("/"));
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    }
  },
});

async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}
async function expectCode(fn: () => Promise<unknown>, code: ErrorCode): Promise<Error> {
  const e = await errorOf(fn);
  expect(isCloudVolumeError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  return e as Error;
}

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 29 + seed * 3 + (i >> 7)) & 0xff);

async function layerDir(files: Record<string, Uint8Array>): Promise<{ s: HttpTestServer; url: string }> {
  const s = await srv();
  const dir = `x${++seq}`;
  for (const [k, v] of Object.entries(files)) {
    const p = join(root, dir, ...k.split("/"));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, v);
  }
  return { s, url: `${s.url}/${dir}` };
}

describe("HttpStore", () => {
  it("is read-only and says so", () => {
    const store = new HttpStore({ url: "http://127.0.0.1:1/x" });
    expect(store.capabilities).toEqual({ write: false, list: false, rangeReads: true });
    expect((store as unknown as { put?: unknown }).put).toBeUndefined();
    expect(() => new HttpStore({ url: "ftp://x/y" })).toThrow(/http/);
  });

  it("percent-encodes every key segment", () => {
    expect(encodeKey("a b/c?d#e%f/ñ")).toBe("a%20b/c%3Fd%23e%25f/%C3%B1");
  });

  it("<key>.gz and <key>.br served as plain files are found by name and reported with their encoding", async () => {
    const plain = bytes(2000);
    const gz = gzipSync(plain);
    const { s, url } = await layerDir({ "c/one.gz": gz, "c/two.gz": gz, "c/three.br": bytes(10), "c/four": plain, "c/bogus.gz": bytes(10) });
    const store = new HttpStore({ url });
    const one = await store.getObject("c/one");
    expect(one?.contentEncoding).toBe("gzip");
    expect(Buffer.from(one!.data).equals(gz)).toBe(true);
    expect((await store.getObject("c/three"))?.contentEncoding).toBe("br");
    // A ".gz" body that is not gzip was decoded on the way (or never encoded): no encoding.
    expect((await store.getObject("c/bogus"))?.contentEncoding).toBeUndefined();
    // get() reads exactly the name.
    expect(await store.get("c/two")).toBeUndefined();
    // After a .gz hit the .gz name is tried first: one request for the next chunk.
    await store.getObject("c/one");
    const before = s.requests.length;
    expect((await store.getObject("c/two"))?.contentEncoding).toBe("gzip");
    expect(s.requests.length - before).toBe(1);
    // ... and a plain chunk still reads.
    expect((await store.getObject("c/four"))?.contentEncoding).toBeUndefined();
    expect(await store.exists("c/one")).toBe(true);
    expect(await store.exists("c/none")).toBe(false);
    const noVariants = new HttpStore({ url, compressedVariants: false });
    expect(await noVariants.getObject("c/one")).toBeUndefined();
  });

  it("a body that arrived with Content-Encoding was decoded by fetch: no encoding reported, even under a .gz name", async () => {
    const plain = bytes(100);
    const fetch = (async (input: RequestInfo | URL) => {
      const u = String(input);
      if (u.endsWith("/k.gz")) return new Response(plain, { status: 200, headers: { "content-encoding": "gzip" } });
      return new Response("no", { status: 404 });
    }) as typeof globalThis.fetch;
    const store = new HttpStore({ url: "http://example.invalid/layer", fetch });
    const got = await store.getObject("k");
    expect(got).toEqual({ data: plain });
  });

  it("a server that ignores Range is sliced locally; 416 is an empty slice", async () => {
    const data = bytes(300);
    const { url } = await layerDir({ "r.bin": data });
    // Strip the Range header on the way out: the server answers 200 with everything.
    const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      const headers = { ...(init?.headers as Record<string, string>) };
      delete headers.Range;
      return globalThis.fetch(input, { ...init, headers });
    }) as typeof globalThis.fetch;
    const store = new HttpStore({ url, fetch });
    expect(Buffer.from((await store.get("r.bin", { range: { offset: 10, length: 20 } }))!).equals(Buffer.from(data.subarray(10, 30)))).toBe(true);
    expect(Buffer.from((await store.get("r.bin", { range: { suffixLength: 7 } }))!).equals(Buffer.from(data.subarray(293)))).toBe(true);
    const direct = new HttpStore({ url });
    expect((await direct.get("r.bin", { range: { offset: 300, length: 5 } }))?.byteLength).toBe(0);
  });

  it("maps statuses: 404 and (by default) 403 missing, 401 / 403 PERMISSION_DENIED, 5xx and 429 UNAVAILABLE", async () => {
    const { s, url } = await layerDir({ "k": bytes(5) });
    const store = new HttpStore({ url });
    s.failNext({ status: 403, pathIncludes: "/k" });
    expect(await store.get("k")).toBeUndefined();
    const strict = new HttpStore({ url, forbiddenIsMissing: false });
    s.failNext({ status: 403, pathIncludes: "/k" });
    await expectCode(() => strict.get("k"), "PERMISSION_DENIED");
    s.failNext({ status: 401, pathIncludes: "/k" });
    await expectCode(() => store.get("k"), "PERMISSION_DENIED");
    for (const status of [500, 502, 503, 429, 408]) {
      s.failNext({ status, pathIncludes: "/k" });
      const e = await expectCode(() => store.getObject("k"), "UNAVAILABLE");
      expect(e.message).toContain(`HTTP ${status}`);
    }
    s.failNext({ reset: true, pathIncludes: "/k" });
    await expectCode(() => store.get("k"), "UNAVAILABLE");
    await expectCode(() => new HttpStore({ url: "http://127.0.0.1:9/nothing" }).get("k"), "UNAVAILABLE");
  });

  it("request headers (credentials) are sent and never appear in errors", async () => {
    const { s, url } = await layerDir({ "k": bytes(5) });
    const secret = "Bearer sEcReT-http-token-42";
    const store = new HttpStore({ url, headers: { Authorization: secret }, forbiddenIsMissing: false });
    await store.get("k");
    expect(s.requests.at(-1)!.headers.authorization).toBe(secret);
    s.failNext({ status: 401, pathIncludes: "/k" });
    const e = await expectCode(() => store.get("k"), "PERMISSION_DENIED");
    expect(`${e.message} ${String(e)} ${JSON.stringify(e)}`).not.toContain("sEcReT");
  });

  it("retries through the Context's policy; an abort of a hanging request is ABORTED", async () => {
    const { s, url } = await layerDir({ "k": bytes(5) });
    const store = new HttpStore({ url });
    s.failNext({ status: 503, times: 2, pathIncludes: "/k" });
    const got = await withRetry(() => store.get("k"), { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
    expect([...got!]).toEqual([...bytes(5)]);
    s.failNext({ hang: true, pathIncludes: "/k" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    await expectCode(() => store.get("k", { signal: ac.signal }), "ABORTED");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("useHttps", () => {
  it("toHttpsUrl maps gs://, s3:// and matrix:// to CloudFiles' public endpoints, keeping a format prefix", () => {
    expect(toHttpsUrl("gs://bucket/path/layer")).toBe("https://storage.googleapis.com/bucket/path/layer");
    expect(toHttpsUrl("s3://bucket/path")).toBe("https://s3.amazonaws.com/bucket/path");
    expect(toHttpsUrl("matrix://bucket/p")).toBe("https://s3-hpcrc.rc.princeton.edu/bucket/p");
    expect(toHttpsUrl("precomputed://gs://b/p")).toBe("precomputed://https://storage.googleapis.com/b/p");
    expect(toHttpsUrl("s3://https://minio.local/bucket/p")).toBe("s3://https://minio.local/bucket/p");
    expect(toHttpsUrl("precomputed://s3://http://minio.local/b")).toBe("precomputed://s3://http://minio.local/b");
    for (const same of ["file:///data/x", "/data/x", "https://host/x", "mem://b/x", "precomputed://file:///x"]) expect(toHttpsUrl(same)).toBe(same);
  });

  it("httpStorage({ useHttps: true }) reads gs:// and s3:// through their https endpoints", async () => {
    const seen: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      seen.push(String(input));
      return new Response("{}", { status: 200 });
    }) as typeof globalThis.fetch;
    const ctx = new Context({ plugins: [httpStorage({ useHttps: true, fetch })] });
    expect((await (await ctx.storage("gs://bkt/a b/layer")).get("info"))?.byteLength).toBe(2);
    await (await ctx.storage("precomputed://s3://bkt/layer")).get("4_4_40/0-1_0-1_0-1");
    expect(seen).toEqual(["https://storage.googleapis.com/bkt/a b/layer/info", "https://s3.amazonaws.com/bkt/layer/4_4_40/0-1_0-1_0-1"]);
    const plain = new Context({ plugins: [httpStorage({ fetch })] });
    await expect(plain.storage("gs://bkt/x")).rejects.toThrow(/storage-gcs/);
  });
});

describe("storage-http is browser-safe", () => {
  it("imports no Node built-ins", () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");
    for (const f of readdirSync(src)) {
      const text = readFileSync(join(src, f), "utf8");
      expect(text, f).not.toMatch(/from\s+["'](node:|fs|path|http|https|zlib|os|url|crypto)["']/);
      expect(text, f).not.toMatch(/\bprocess\.|\bBuffer\b|require\(/);
    }
  });
});
