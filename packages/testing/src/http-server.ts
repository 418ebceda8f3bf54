import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join, resolve, sep } from "node:path";
import { gunzipSync } from "node:zlib";

/**
 * A read-only static file server for tests of the http(s):// store: serves `root` on
 * 127.0.0.1 (ephemeral port) with GET and HEAD, single byte ranges (`bytes=a-b`,
 * `a-`, `-n`; 206 + Content-Range, 416 + `Content-Range: bytes * /size` when a range
 * starts at or past the end) and no directory listings.
 *
 * `encoding` decides how CloudFiles' compressed files (`x.gz`, `x.br`) are served:
 * - "plain" (default): every file as it is on disk, by its own name. `x.gz` is
 *   `application/gzip` with no Content-Encoding, and `x` is a 404: a CloudFiles-written
 *   layer copied onto an ordinary web server.
 * - "cdn": a request for `x` with no such file is answered from `x.gz` or `x.br`
 *   with `Content-Encoding: gzip|br`, the way GCS and S3 serve objects uploaded with a
 *   Content-Encoding (and nginx's gzip_static). Like GCS's decompressive transcoding, a
 *   gzip body is decoded on the server (no Content-Encoding, Range ignored) when the
 *   request does not accept gzip; br is always sent as stored.
 */

export interface HttpTestServerOptions {
  encoding?: "plain" | "cdn";
  /** Served under this path prefix ("/data" serves root/x at /data/x); default "/". */
  basePath?: string;
}

export interface HttpRequestRecord {
  method: string;
  /** Path as received (percent-encoded). */
  path: string;
  headers: IncomingMessage["headers"];
  status: number;
}

export interface HttpFault {
  status?: number;
  /** Drop the connection without answering. */
  reset?: boolean;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  times?: number;
  pathIncludes?: string;
}

export interface HttpTestServer {
  /** `http://127.0.0.1:<port>` plus basePath, without a trailing slash. */
  readonly url: string;
  readonly root: string;
  readonly requests: HttpRequestRecord[];
  failNext(fault: HttpFault): void;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".gz": "application/gzip",
  ".br": "application/x-brotli",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && TYPES[name.slice(dot).toLowerCase()]) || "application/octet-stream";
}

function accepts(req: IncomingMessage, coding: string): boolean {
  return String(req.headers["accept-encoding"] ?? "")
    .toLowerCase()
    .split(",")
    .some((p) => {
      const [name, ...params] = p.trim().split(";");
      return (name.trim() === coding || name.trim() === "*") && !params.some((x) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(x));
    });
}

function parseRange(header: string | undefined, size: number): [number, number] | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size];
  }
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  const end = m[2] === "" ? size : Math.min(Number(m[2]) + 1, size);
  return [start, end];
}

async function readIfFile(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export async function startHttpTestServer(root: string, opts: HttpTestServerOptions = {}): Promise<HttpTestServer> {
  const absRoot = resolve(root);
  const mode = opts.encoding ?? "plain";
  const base = "/" + (opts.basePath ?? "").replace(/^\/+|\/+$/g, "");
  const requests: HttpRequestRecord[] = [];
  const faults: HttpFault[] = [];
  const sockets = new Set<Socket>();

  const finish = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer) => {
    requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, status });
    res.writeHead(status, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };
  const notFound = (req: IncomingMessage, res: ServerResponse) => {
    const body = Buffer.from("Not Found\n");
    finish(req, res, 404, { "Content-Type": "text/plain", "Content-Length": String(body.byteLength) }, body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = (req.url ?? "/").split("?")[0].split("#")[0];
    const fi = faults.findIndex((f) => !f.pathIncludes || raw.includes(f.pathIncludes));
    if (fi >= 0) {
      const f = faults[fi];
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) faults.splice(fi, 1);
      if (f.hang) return;
      if (f.reset) {
        req.socket.destroy();
        return;
      }
      return finish(req, res, f.status ?? 503, { "Content-Length": "0" });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return finish(req, res, 405, { Allow: "GET, HEAD", "Content-Length": "0" });
    }
    if (!(raw === base || raw.startsWith(base === "/" ? "/" : `${base}/`))) return notFound(req, res);
    let segments: string[];
    try {
      segments = raw.slice(base.length).split("/").filter((s) => s !== "").map(decodeURIComponent);
    } catch {
      return finish(req, res, 400, { "Content-Length": "0" });
    }
    if (segments.length === 0 || segments.some((s) => s === "." || s === ".." || s.includes("/") || s.includes("\\") || s.includes("\0"))) {
      return notFound(req, res);
    }
    const path = join(absRoot, ...segments);
    if (!path.startsWith(absRoot + sep)) return notFound(req, res);

    let data = await readIfFile(path);
    let encoding: string | undefined;
    let type = contentType(path);
    if (data === undefined && mode === "cdn") {
      for (const [suffix, coding] of [[".gz", "gzip"], [".br", "br"]] as const) {
        const d = await readIfFile(path + suffix);
        if (d !== undefined) {
          data = d;
          encoding = coding;
          type = contentType(path);
          break;
        }
      }
    }
    if (data === undefined) return notFound(req, res);

    const headers: Record<string, string> = { "Content-Type": type, "Accept-Ranges": "bytes", "Cache-Control": "no-cache" };
    if (encoding === "gzip" && !accepts(req, "gzip")) {
      // Decompressive transcoding (GCS's behaviour): decoded, whole, no Content-Length.
      requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, status: 200 });
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : gunzipSync(data));
      return;
    }
    if (encoding) headers["Content-Encoding"] = encoding;
    const size = data.byteLength;
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") return finish(req, res, 416, { "Content-Range": `bytes */${size}`, "Content-Length": "0" });
    if (range) {
      const [s, e] = range;
      return finish(req, res, 206, { ...headers, "Content-Range": `bytes ${s}-${e - 1}/${size}`, "Content-Length": String(e - s) }, data.subarray(s, e));
    }
    return finish(req, res, 200, { ...headers, "Content-Length": String(size) }, data);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const body = Buffer.from(`test server failure: ${(err as Error)?.message ?? err}\n`);
      finish(req, res, 500, { "Content-Type": "text/plain", "Content-Length": String(body.byteLength) }, body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${base === "/" ? "" : base}`;
  return {
    url,
    root: absRoot,
    requests,
    failNext(fault) {
      faults.push({ ...fault });
    },
    close() {
      return new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      });
    },
  };
}
