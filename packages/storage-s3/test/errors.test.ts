import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isCloudVolumeError, withRetry, type ErrorCode } from "@cloudvolume/core";
import { S3Store, createS3Client } from "../src/s3-store.js";

/**
 * How the store maps what an S3 server (or the network) does to error codes, against a
 * tiny scripted HTTP server on 127.0.0.1: every status and failure a real server
 * produces only when it is sick. The real-server behaviour is in s3-store.test.ts.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: Server;
let endpoint: string;
let requests = 0;
const sockets = new Set<import("node:net").Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => handler(req, res));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const SECRET = "fake-secret-key-that-must-never-leak-0123";

function store(opts: { socketTimeoutMs?: number; endpoint?: string } = {}): S3Store {
  const client = createS3Client({
    endpoint: opts.endpoint ?? endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: SECRET },
    socketTimeoutMs: opts.socketTimeoutMs ?? 2000,
    connectionTimeoutMs: 2000,
  });
  return new S3Store({ client, bucket: "bkt", prefix: "layer", url: "s3://bkt/layer", ownsClient: true, redact: [SECRET], credentialSource: "the test secrets" });
}

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>req-1</RequestId></Error>`;
}

function respond(status: number, code: string, message = code): Handler {
  return (req, res) => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(req.method === "HEAD" ? undefined : xmlError(code, message));
  };
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (!isCloudVolumeError(e)) throw e;
    return e.code;
  }
}

describe("S3 error mapping", () => {
  it("404 NoSuchKey is a missing key; 404 NoSuchBucket is NOT_FOUND", async () => {
    const s = store();
    handler = respond(404, "NoSuchKey");
    expect(await s.get("a")).toBeUndefined();
    expect(await s.getObject("a", { range: { offset: 0, length: 3 } })).toBeUndefined();
    expect(await s.exists("a")).toBe(false);
    handler = respond(404, "NoSuchBucket", "The specified bucket does not exist");
    const err = await s.get("a").catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect((err as Error).message).toMatch(/bucket "bkt" does not exist/);
    await s.close();
  });

  it("401 / 403 are PERMISSION_DENIED, naming where the credentials came from", async () => {
    const s = store();
    handler = respond(403, "SignatureDoesNotMatch", `The request signature we calculated does not match; secret was ${SECRET}`);
    const err = await s.get("a").catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "PERMISSION_DENIED")).toBe(true);
    const e = err as Error;
    expect(e.message).toContain("the test secrets");
    expect(e.message).toContain("SignatureDoesNotMatch");
    // Even a server that echoes the secret back cannot make us repeat it.
    for (const text of [e.message, String(e.cause), inspect(e, { depth: 10 }), JSON.stringify(e)]) expect(text).not.toContain(SECRET);
    handler = respond(401, "Unauthorized");
    expect(await codeOf(s.put("a", new Uint8Array(3)))).toBe("PERMISSION_DENIED");
    await s.close();
  });

  it("429, 500, 503 and 408 are retryable UNAVAILABLE, for every operation", async () => {
    const s = store();
    for (const [status, code] of [[429, "SlowDown"], [500, "InternalError"], [503, "ServiceUnavailable"], [408, "RequestTimeout"]] as const) {
      handler = respond(status, code);
      expect(await codeOf(s.get("a")), `${status} get`).toBe("UNAVAILABLE");
      expect(await codeOf(s.put("a", new Uint8Array(1))), `${status} put`).toBe("UNAVAILABLE");
      expect(await codeOf(s.delete("a")), `${status} delete`).toBe("UNAVAILABLE");
      expect(await codeOf(s.exists("a")), `${status} exists`).toBe("UNAVAILABLE");
      expect(await codeOf((async () => { for await (const _ of s.list("")) void _; })()), `${status} list`).toBe("UNAVAILABLE");
    }
    await s.close();
  });

  it("400 RequestTimeout (S3's idle-connection timeout) is UNAVAILABLE; other 400s are INVALID_ARGUMENT", async () => {
    const s = store();
    handler = respond(400, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period");
    expect(await codeOf(s.put("a", new Uint8Array(1)))).toBe("UNAVAILABLE");
    handler = respond(400, "InvalidArgument", "Invalid Argument");
    expect(await codeOf(s.get("a"))).toBe("INVALID_ARGUMENT");
    handler = respond(409, "OperationAborted");
    expect(await codeOf(s.get("a"))).toBe("IO_ERROR");
    await s.close();
  });

  it("a 503 twice then success: withRetry (the volume layer's retry) gets the bytes", async () => {
    const s = store();
    let n = 0;
    handler = (_req, res) => {
      if (n++ < 2) return respond(503, "SlowDown")(_req, res);
      res.writeHead(200, { "content-length": "3", "content-encoding": "gzip" });
      res.end(Buffer.from([1, 2, 3]));
    };
    const before = requests;
    const got = await withRetry(() => s.getObject("a"), { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 });
    expect(got).toEqual({ data: new Uint8Array([1, 2, 3]), contentEncoding: "gzip" });
    // The SDK's own retries are off: exactly one request per attempt.
    expect(requests - before).toBe(3);
    await s.close();
  });

  it("a body cut short (connection closed before Content-Length bytes) is UNAVAILABLE, never a prefix", async () => {
    const s = store();
    handler = (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write(Buffer.alloc(50, 7));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    expect(await codeOf(s.get("a"))).toBe("UNAVAILABLE");
    await s.close();
  });

  it("connection refused and a server that never answers are UNAVAILABLE; an abort is ABORTED", async () => {
    // Find a free port, then close it again: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const refused = store({ endpoint: `http://127.0.0.1:${closedPort}` });
    expect(await codeOf(refused.get("a"))).toBe("UNAVAILABLE");
    await refused.close();

    handler = () => undefined; // accept, read the request, never respond
    const slow = store({ socketTimeoutMs: 300 });
    const t0 = Date.now();
    expect(await codeOf(slow.get("a"))).toBe("UNAVAILABLE");
    expect(Date.now() - t0).toBeLessThan(5000);

    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("user gave up")), 50);
    const t1 = Date.now();
    expect(await codeOf(slow.get("a", { signal: ac.signal }))).toBe("ABORTED");
    expect(Date.now() - t1).toBeLessThan(250);
    await slow.close();
  });

  it("a 416 for a range past the end of an existing object is an empty read", async () => {
    const s = store();
    handler = respond(416, "InvalidRange");
    expect(await s.get("a", { range: { offset: 500, length: 3 } })).toEqual(new Uint8Array(0));
    await s.close();
  });

  it("sends Range headers an S3 server understands, and none that asks for zero bytes", async () => {
    const s = store();
    const seen: Array<{ method?: string; range?: string }> = [];
    handler = (req, res) => {
      seen.push({ method: req.method, range: req.headers.range });
      res.writeHead(206, { "content-length": "0" });
      res.end();
    };
    await s.get("a", { range: { offset: 10, length: 5 } });
    await s.get("a", { range: { suffixLength: 7 } });
    await s.get("a", { range: { offset: 3, length: 0 } });
    await s.get("a", { range: { suffixLength: 0 } });
    expect(seen).toEqual([
      { method: "GET", range: "bytes=10-14" },
      { method: "GET", range: "bytes=-7" },
      { method: "HEAD", range: undefined },
      { method: "HEAD", range: undefined },
    ]);
    await s.close();
  });

  it("writes send Content-Encoding, Content-Type and Cache-Control, and no streaming checksum", async () => {
    const s = store();
    const seen: IncomingMessage["headers"][] = [];
    handler = (req, res) => {
      seen.push(req.headers);
      res.writeHead(200);
      res.end();
    };
    await s.put("c/0-64_0-64_0-64", new Uint8Array([1, 2, 3]), { contentEncoding: "gzip", contentType: "application/octet-stream", cacheControl: "no-cache" });
    await s.put("info", new Uint8Array([123, 125]), { contentType: "application/json" });
    expect(seen[0]).toMatchObject({ "content-encoding": "gzip", "content-type": "application/octet-stream", "cache-control": "no-cache", "content-length": "3" });
    expect(seen[1]["content-encoding"]).toBeUndefined();
    expect(seen[1]["content-type"]).toBe("application/json");
    for (const h of seen) {
      expect(Object.keys(h).filter((k) => k.startsWith("x-amz-checksum") || k === "x-amz-trailer")).toEqual([]);
      expect(String(h["x-amz-content-sha256"] ?? "")).not.toMatch(/STREAMING/);
      expect(String(h.authorization)).toContain("AKIDTEST");
      expect(JSON.stringify(h)).not.toContain(SECRET);
    }
    await s.close();
  });

  it("never logs: no console output and no process warnings while failing", async () => {
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m));
    const s = store();
    try {
      handler = respond(403, "InvalidAccessKeyId");
      await s.get("a").catch(() => undefined);
      handler = respond(503, "SlowDown");
      await s.put("a", new Uint8Array(2)).catch(() => undefined);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
      await s.close();
    }
  });
});
