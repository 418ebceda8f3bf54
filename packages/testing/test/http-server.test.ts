import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpTestServer, type HttpTestServer } from "../src/http-server.js";
import { tempDir } from "../src/fixtures.js";

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(method: string, url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    // Keep the path exactly as written: URL parsing would resolve `%2e%2e` segments first.
    const m = /^http:\/\/([^/:]+):(\d+)(\/.*)$/.exec(url)!;
    const req = request({ hostname: m[1], port: Number(m[2]), path: m[3], method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    req.end();
  });
}

const plainBytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
const gz = gzipSync(plainBytes);
let root: string;
let plain: HttpTestServer;
let cdn: HttpTestServer;

beforeAll(async () => {
  root = tempDir("cv-http-server-");
  mkdirSync(join(root, "dir", "sub"), { recursive: true });
  writeFileSync(join(root, "dir", "file.bin"), plainBytes);
  writeFileSync(join(root, "dir", "chunk.gz"), gz);
  writeFileSync(join(root, "dir", "a b?#%.bin"), Buffer.from("odd"));
  writeFileSync(join(root, "secret"), Buffer.from("outside the base path"));
  plain = await startHttpTestServer(root);
  cdn = await startHttpTestServer(join(root, "dir"), { encoding: "cdn", basePath: "/data" });
});
afterAll(async () => {
  await Promise.all([plain.close(), cdn.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe("HTTP test server", () => {
  it("plain mode: files by their own names; x.gz is application/gzip without Content-Encoding; x is 404", async () => {
    const f = await raw("GET", `${plain.url}/dir/file.bin`);
    expect([f.status, f.headers["content-length"], f.body.equals(plainBytes)]).toEqual([200, "3000", true]);
    const g = await raw("GET", `${plain.url}/dir/chunk.gz`, { "Accept-Encoding": "gzip" });
    expect([g.status, g.headers["content-type"], g.headers["content-encoding"], g.body.equals(gz)]).toEqual([200, "application/gzip", undefined, true]);
    expect((await raw("GET", `${plain.url}/dir/chunk`)).status).toBe(404);
    expect((await raw("GET", `${plain.url}/dir/${encodeURIComponent("a b?#%.bin")}`)).body.toString()).toBe("odd");
  });

  it("cdn mode: x is answered from x.gz with Content-Encoding, or decoded when gzip is not accepted", async () => {
    const g = await raw("GET", `${cdn.url}/chunk`, { "Accept-Encoding": "gzip" });
    expect([g.status, g.headers["content-encoding"], g.body.equals(gz)]).toEqual([200, "gzip", true]);
    const d = await raw("GET", `${cdn.url}/chunk`, { Range: "bytes=0-9" });
    expect([d.status, d.headers["content-encoding"], d.body.equals(plainBytes)]).toEqual([200, undefined, true]);
    expect((await raw("GET", `${cdn.url.replace("/data", "")}/dir/file.bin`)).status).toBe(404); // outside basePath
    expect((await raw("GET", `${cdn.url}/file.bin`)).body.equals(plainBytes)).toBe(true);
  });

  it("ranges: a-b, suffix, clipping, 416 past the end; HEAD has no body", async () => {
    const r = await raw("GET", `${plain.url}/dir/file.bin`, { Range: "bytes=10-19" });
    expect([r.status, r.headers["content-range"], r.body.equals(plainBytes.subarray(10, 20))]).toEqual([206, "bytes 10-19/3000", true]);
    const s = await raw("GET", `${plain.url}/dir/file.bin`, { Range: "bytes=-5" });
    expect(s.body.equals(plainBytes.subarray(2995))).toBe(true);
    const c = await raw("GET", `${plain.url}/dir/file.bin`, { Range: "bytes=2990-5000" });
    expect(c.body.equals(plainBytes.subarray(2990))).toBe(true);
    const e = await raw("GET", `${plain.url}/dir/file.bin`, { Range: "bytes=3000-3001" });
    expect([e.status, e.headers["content-range"]]).toEqual([416, "bytes */3000"]);
    const h = await raw("HEAD", `${plain.url}/dir/file.bin`);
    expect([h.status, h.headers["content-length"], h.body.byteLength]).toEqual([200, "3000", 0]);
  });

  it("refuses traversal, directories and writes; logs requests; injects faults", async () => {
    expect((await raw("GET", `${plain.url}/dir/..%2Fsecret`)).status).toBe(404);
    expect((await raw("GET", `${plain.url}/dir/%2e%2e/secret`)).status).toBe(404);
    expect((await raw("GET", `${plain.url}/dir/sub`)).status).toBe(404);
    expect((await raw("PUT", `${plain.url}/dir/new`)).status).toBe(405);
    plain.failNext({ status: 503, pathIncludes: "file.bin" });
    expect((await raw("GET", `${plain.url}/dir/file.bin`)).status).toBe(503);
    expect((await raw("GET", `${plain.url}/dir/file.bin`)).status).toBe(200);
    expect(plain.requests.some((q) => q.path === "/dir/file.bin" && q.status === 503)).toBe(true);
  });
});
