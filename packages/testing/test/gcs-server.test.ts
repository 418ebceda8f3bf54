import { request } from "node:http";
import { gzipSync, brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc32c, crc32cBase64, startGcsTestServer, type GcsTestServer } from "../src/gcs-server.js";

/**
 * The GCS test server is only useful if it behaves like GCS where our store and the
 * library depend on it. Raw HTTP here (node:http, no automatic decoding), checked
 * against the JSON API reference and the transcoding documentation.
 */

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = (r: Raw) => JSON.parse(r.body.toString("utf8"));
const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + (i >> 8)) & 0xff));

let srv: GcsTestServer;
let base: string;
beforeAll(async () => {
  srv = await startGcsTestServer({ buckets: ["bkt"] });
  base = srv.url;
});
afterAll(() => srv.close());

async function mediaUpload(name: string, data: Buffer, q = "", type = "application/octet-stream"): Promise<Raw> {
  return raw("POST", `${base}/upload/storage/v1/b/bkt/o?uploadType=media&name=${encodeURIComponent(name)}${q}`, { "Content-Type": type }, data);
}

describe("GCS test server: checksums and errors", () => {
  it("CRC32C matches the Castagnoli check value", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32cBase64(Buffer.from("123456789"))).toBe("4waSgw==");
  });

  it("answers a missing bucket and a missing object with GCS's JSON error body", async () => {
    const b = await raw("GET", `${base}/storage/v1/b/nobucket/o/x?alt=media`);
    expect(b.status).toBe(404);
    expect(json(b).error).toMatchObject({ code: 404, errors: [{ reason: "notFound" }] });
    const o = await raw("GET", `${base}/storage/v1/b/bkt/o/missing`);
    expect(o.status).toBe(404);
    expect(json(o).error.message).toBe("No such object: bkt/missing");
  });

  it("refuses what it does not implement with 501 instead of pretending", async () => {
    const r = await raw("PATCH", `${base}/storage/v1/b/bkt/o/x`, { "Content-Type": "application/json" }, "{}");
    expect(r.status).toBe(501);
  });
});

describe("GCS test server: objects.insert", () => {
  it("uploadType=media stores the body with Content-Type and the contentEncoding parameter", async () => {
    const data = Buffer.from("123456789");
    const r = await mediaUpload("m/one", data, "&contentEncoding=gzip", "text/plain");
    expect(r.status).toBe(200);
    const res = json(r);
    expect(res).toMatchObject({ kind: "storage#object", name: "m/one", bucket: "bkt", size: "9", contentType: "text/plain", contentEncoding: "gzip", crc32c: "4waSgw==" });
    expect(res.md5Hash).toBe("JfnnlDI7RTiF9RgfG2JNCw==");
    const meta = json(await raw("GET", `${base}/storage/v1/b/bkt/o/${encodeURIComponent("m/one")}`));
    expect(meta.generation).toBe(res.generation);
  });

  it("uploadType=multipart reads the metadata part and a binary media part intact", async () => {
    const boundary = "b0undary";
    // Media bytes containing CRLFs and a fake delimiter must survive.
    const media = Buffer.concat([Buffer.from("\r\n--b0undar\r\n"), bytes(300), Buffer.from("\r\n")]);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ name: "mp/obj", cacheControl: "no-cache", contentEncoding: "br" })}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Type: image/png\r\n\r\n`), media, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await raw("POST", `${base}/upload/storage/v1/b/bkt/o?uploadType=multipart`, { "Content-Type": `multipart/related; boundary=${boundary}` }, body);
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ name: "mp/obj", contentType: "image/png", cacheControl: "no-cache", contentEncoding: "br", size: String(media.byteLength) });
    expect(Buffer.from(srv.buckets.get("bkt")!.get("mp/obj")!.data).equals(media)).toBe(true);
  });

  it("ifGenerationMatch=0 refuses to overwrite (412)", async () => {
    await mediaUpload("gen/x", bytes(4));
    const r = await mediaUpload("gen/x", bytes(4), "&ifGenerationMatch=0");
    expect(r.status).toBe(412);
  });

  it("resumable: session URI, 256 KiB granularity, 308 + Range, status query, completion, hash check, cancel", async () => {
    const K = 256 * 1024;
    const data = bytes(3 * K + 1000, 5);
    const start = await raw("POST", `${base}/upload/storage/v1/b/bkt/o?uploadType=resumable&name=res%2Fbig`, {
      "Content-Type": "application/json", "X-Upload-Content-Type": "application/x-test",
    }, JSON.stringify({ cacheControl: "public, max-age=7" }));
    expect(start.status).toBe(200);
    const session = String(start.headers.location);
    expect(session).toMatch(/upload_id=/);

    // A non-final chunk of 1.5 x 256 KiB persists only 256 KiB.
    const c1 = await raw("PUT", session, { "Content-Range": `bytes 0-${K + K / 2 - 1}/*` }, data.subarray(0, K + K / 2));
    expect(c1.status).toBe(308);
    expect(c1.headers.range).toBe(`bytes=0-${K - 1}`);
    const q = await raw("PUT", session, { "Content-Range": "bytes */*", "Content-Length": "0" });
    expect(q.status).toBe(308);
    expect(q.headers.range).toBe(`bytes=0-${K - 1}`);
    // A chunk starting past what was persisted is refused.
    const gap = await raw("PUT", session, { "Content-Range": `bytes ${2 * K}-${3 * K - 1}/*` }, data.subarray(2 * K, 3 * K));
    expect(gap.status).toBe(400);
    // Overlapping the persisted part is fine: the first copy stays.
    const c2 = await raw("PUT", session, { "Content-Range": `bytes ${K / 2}-${3 * K - 1}/${data.byteLength}` }, data.subarray(K / 2, 3 * K));
    expect(c2.status).toBe(308);
    expect(c2.headers.range).toBe(`bytes=0-${3 * K - 1}`);
    const bad = await raw("PUT", session, { "Content-Range": `bytes ${3 * K}-${data.byteLength - 1}/${data.byteLength}`, "X-Goog-Hash": "crc32c=AAAAAA==" }, data.subarray(3 * K));
    expect(bad.status).toBe(400);
    const last = await raw("PUT", session, { "Content-Range": `bytes ${3 * K}-${data.byteLength - 1}/${data.byteLength}`, "X-Goog-Hash": `crc32c=${crc32cBase64(data)}` }, data.subarray(3 * K));
    expect(last.status).toBe(200);
    expect(json(last)).toMatchObject({ name: "res/big", size: String(data.byteLength), contentType: "application/x-test", cacheControl: "public, max-age=7" });
    expect(Buffer.from(srv.buckets.get("bkt")!.get("res/big")!.data).equals(data)).toBe(true);

    const s2 = String((await raw("POST", `${base}/upload/storage/v1/b/bkt/o?uploadType=resumable&name=res%2Fcancelled`, {}, "")).headers.location);
    expect((await raw("DELETE", s2)).status).toBe(499);
    expect((await raw("PUT", s2, { "Content-Range": "bytes 0-3/4" }, bytes(4))).status).toBe(404);
    expect(srv.buckets.get("bkt")!.has("res/cancelled")).toBe(false);
  });

  it("resumable: `bytes a-*/*` (the library's single-request form) completes with the request body", async () => {
    const data = bytes(1000, 9);
    const s = String((await raw("POST", `${base}/upload/storage/v1/b/bkt/o?uploadType=resumable&name=res%2Fone`, {}, "")).headers.location);
    const r = await raw("PUT", s, { "Content-Range": "bytes 0-*/*" }, data);
    expect(r.status).toBe(200);
    expect(Buffer.from(srv.buckets.get("bkt")!.get("res/one")!.data).equals(data)).toBe(true);
  });
});

describe("GCS test server: objects.get media, ranges and transcoding", () => {
  const data = bytes(100, 3);
  const gz = gzipSync(bytes(5000, 4));
  beforeAll(() => {
    srv.putObject("bkt", "r/plain", data);
    srv.putObject("bkt", "r/gz", gz, { contentEncoding: "gzip" });
    srv.putObject("bkt", "r/gz-nt", gz, { contentEncoding: "gzip", cacheControl: "public, no-transform" });
    srv.putObject("bkt", "r/br", brotliCompressSync(bytes(50)), { contentEncoding: "br" });
    srv.putObject("bkt", "r/empty", new Uint8Array(0));
  });
  const media = (name: string) => `${base}/storage/v1/b/bkt/o/${encodeURIComponent(name)}?alt=media`;

  it("serves whole objects with GCS's headers, also under /download", async () => {
    for (const u of [media("r/plain"), media("r/plain").replace("/storage/", "/download/storage/")]) {
      const r = await raw("GET", u);
      expect(r.status).toBe(200);
      expect(r.body.equals(data)).toBe(true);
      expect(r.headers["content-length"]).toBe("100");
      expect(r.headers["x-goog-stored-content-encoding"]).toBe("identity");
      expect(r.headers["x-goog-hash"]).toBe(`crc32c=${crc32cBase64(data)},md5=${(await import("node:crypto")).createHash("md5").update(data).digest("base64")}`);
    }
  });

  it("single ranges: a-b, a-, suffix, clipped ends, 416 past the end and on empty objects", async () => {
    const r1 = await raw("GET", media("r/plain"), { Range: "bytes=10-19" });
    expect([r1.status, r1.headers["content-range"], r1.body.equals(data.subarray(10, 20))]).toEqual([206, "bytes 10-19/100", true]);
    const r2 = await raw("GET", media("r/plain"), { Range: "bytes=90-" });
    expect([r2.status, r2.body.equals(data.subarray(90))]).toEqual([206, true]);
    const r3 = await raw("GET", media("r/plain"), { Range: "bytes=-7" });
    expect([r3.status, r3.headers["content-range"], r3.body.equals(data.subarray(93))]).toEqual([206, "bytes 93-99/100", true]);
    const r4 = await raw("GET", media("r/plain"), { Range: "bytes=95-500" });
    expect([r4.status, r4.body.equals(data.subarray(95))]).toEqual([206, true]);
    const r5 = await raw("GET", media("r/plain"), { Range: "bytes=-500" });
    expect([r5.status, r5.body.equals(data)]).toEqual([206, true]);
    const r6 = await raw("GET", media("r/plain"), { Range: "bytes=100-110" });
    expect([r6.status, r6.headers["content-range"]]).toEqual([416, "bytes */100"]);
    const r7 = await raw("GET", media("r/empty"), { Range: "bytes=0-3" });
    expect(r7.status).toBe(416);
    const r8 = await raw("GET", media("r/empty"));
    expect([r8.status, r8.body.byteLength]).toEqual([200, 0]);
  });

  it("decompressive transcoding: gzip objects are decoded unless the request accepts gzip", async () => {
    const plain = bytes(5000, 4);
    const t = await raw("GET", media("r/gz"), { Range: "bytes=0-9" });
    expect(t.status).toBe(200); // Range ignored while transcoding
    expect(t.headers["content-encoding"]).toBeUndefined();
    expect(t.headers["content-length"]).toBeUndefined();
    expect(t.headers["x-goog-stored-content-encoding"]).toBe("gzip");
    expect(t.body.equals(plain)).toBe(true);

    const g = await raw("GET", media("r/gz"), { "Accept-Encoding": "gzip" });
    expect([g.status, g.headers["content-encoding"], g.body.equals(gz)]).toEqual([200, "gzip", true]);
    const gr = await raw("GET", media("r/gz"), { "Accept-Encoding": "gzip, deflate", Range: "bytes=0-9" });
    expect([gr.status, gr.headers["content-encoding"], gr.body.equals(gz.subarray(0, 10))]).toEqual([206, "gzip", true]);
    const q0 = await raw("GET", media("r/gz"), { "Accept-Encoding": "gzip;q=0" });
    expect(q0.body.equals(plain)).toBe(true);

    const nt = await raw("GET", media("r/gz-nt"));
    expect([nt.headers["content-encoding"], nt.body.equals(gz)]).toEqual(["gzip", true]);
    const br = await raw("GET", media("r/br"));
    expect(br.headers["content-encoding"]).toBe("br"); // GCS never transcodes brotli
  });

  it("transcoding can be switched off", async () => {
    const s = await startGcsTestServer({ transcoding: false });
    try {
      s.putObject("b", "gz", gz, { contentEncoding: "gzip" });
      const r = await raw("GET", `${s.url}/storage/v1/b/b/o/gz?alt=media`);
      expect([r.headers["content-encoding"], r.body.equals(gz)]).toEqual(["gzip", true]);
    } finally {
      await s.close();
    }
  });
});

describe("GCS test server: objects.list and objects.delete", () => {
  beforeAll(() => {
    for (const n of ["l/a/1", "l/a/2", "l/a/sub/3", "l/ab", "l/b/1", "l/c", "l/é", "l/z", "other"]) srv.putObject("bkt", n, bytes(3));
  });
  const listAll = async (params: string) => {
    const names: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = json(await raw("GET", `${base}/storage/v1/b/bkt/o?${params}${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`));
      for (const i of r.items ?? []) names.push(i.name);
      prefixes.push(...(r.prefixes ?? []));
      token = r.nextPageToken;
      pages++;
    } while (token);
    return { names, prefixes, pages };
  };

  it("lists by prefix in UTF-8 byte order", async () => {
    const r = await listAll("prefix=l%2F");
    expect(r.names).toEqual(["l/a/1", "l/a/2", "l/a/sub/3", "l/ab", "l/b/1", "l/c", "l/z", "l/é"]);
  });

  it("delimiter folds deeper names into prefixes; maxResults pages through both", async () => {
    const r = await listAll("prefix=l%2F&delimiter=%2F");
    expect(r.names).toEqual(["l/ab", "l/c", "l/z", "l/é"]);
    expect(r.prefixes).toEqual(["l/a/", "l/b/"]);
    const paged = await listAll("prefix=l%2F&delimiter=%2F&maxResults=1");
    expect(paged.names).toEqual(r.names);
    expect(paged.prefixes).toEqual(r.prefixes);
    expect(paged.pages).toBe(6);
    const flat = await listAll("prefix=l%2F&maxResults=3");
    expect(flat.names.length).toBe(8);
    expect(flat.pages).toBe(3);
  });

  it("delete answers 204, then 404", async () => {
    expect((await raw("DELETE", `${base}/storage/v1/b/bkt/o/other`)).status).toBe(204);
    expect((await raw("DELETE", `${base}/storage/v1/b/bkt/o/other`)).status).toBe(404);
  });
});

describe("GCS test server: auth and injected faults", () => {
  it("with a token, requests without it (or with another) are 401", async () => {
    const s = await startGcsTestServer({ buckets: ["b"], token: "tok-123" });
    try {
      expect((await raw("GET", `${s.url}/storage/v1/b/b/o`)).status).toBe(401);
      expect((await raw("GET", `${s.url}/storage/v1/b/b/o`, { Authorization: "Bearer nope" })).status).toBe(401);
      expect((await raw("GET", `${s.url}/storage/v1/b/b/o`, { Authorization: "Bearer tok-123" })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("failNext injects statuses for matching requests only, the given number of times", async () => {
    srv.putObject("bkt", "f/x", bytes(5));
    srv.failNext({ status: 503, times: 2, pathIncludes: "f%2Fx" });
    const u = `${base}/storage/v1/b/bkt/o/f%2Fx?alt=media`;
    expect((await raw("GET", `${base}/storage/v1/b/bkt/o?prefix=f`)).status).toBe(200);
    expect((await raw("GET", u)).status).toBe(503);
    expect((await raw("GET", u)).status).toBe(503);
    expect((await raw("GET", u)).status).toBe(200);
    srv.failNext({ reset: true });
    await expect(raw("GET", u)).rejects.toThrow();
  });
});
