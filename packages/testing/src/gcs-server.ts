import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync } from "node:zlib";

/**
 * A small Google Cloud Storage JSON API server for tests (no emulator can be
 * installed here). It keeps buckets in memory and implements the subset of the API
 * that @google-cloud/storage and our gs:// store use, following the JSON API
 * reference:
 *
 * - objects.get: metadata (`GET /storage/v1/b/B/o/O`) and media (`?alt=media`, also
 *   under `/download/storage/v1/...`), with single byte ranges (`bytes=a-b`, `a-`,
 *   `-n`), 206 + Content-Range, and 416 + `Content-Range: bytes * /size` when a range
 *   starts at or past the end (an empty object cannot satisfy any range).
 * - Decompressive transcoding, as GCS does it: an object stored with
 *   `contentEncoding: gzip` is served gunzipped, without Content-Encoding or
 *   Content-Length and with any Range ignored (the whole object, 200), UNLESS the
 *   request says `Accept-Encoding: gzip` (then the stored bytes are served with
 *   `Content-Encoding: gzip`, ranges apply to them) or the object's Cache-Control has
 *   `no-transform`. GCS never transcodes other encodings (br, zstd): they are served
 *   as stored, with their Content-Encoding. `transcoding: false` turns this off.
 *   Media responses carry `x-goog-stored-content-encoding`, `x-goog-stored-content-length`,
 *   `x-goog-hash` (crc32c and md5 of the stored bytes) and `x-goog-generation`.
 * - objects.insert (`POST /upload/storage/v1/b/B/o`): `uploadType=media` (name and
 *   contentEncoding as query parameters, Content-Type header), `multipart` (a
 *   multipart/related body: JSON metadata part, then the media part) and `resumable`
 *   (POST with JSON metadata -> 200 with the session URI in `Location`; then PUTs to
 *   the session with `Content-Range: bytes a-b/total`, `bytes a-b/*`, `bytes a-* /total`
 *   or a status query `bytes * /total|*`; 308 with `Range: bytes=0-n` while incomplete,
 *   200 with the object resource when the last byte arrives; DELETE cancels with 499).
 *   A non-final chunk persists only whole multiples of 256 KiB (GCS's granularity; the
 *   308 Range says how much), a chunk starting past the persisted size is a 400, and
 *   `X-Goog-Hash` on the final request is verified (400 on mismatch). `ifGenerationMatch`
 *   is honoured (412), 0 meaning "must not exist".
 * - objects.list (`GET /storage/v1/b/B/o`): prefix, delimiter (with `prefixes`),
 *   maxResults counting items and prefixes together, opaque pageToken; names in UTF-8
 *   byte order.
 * - objects.delete (204, 404 when missing); buckets.get / buckets.insert / buckets.list.
 *
 * Everything else answers 501 naming the method, so a client relying on more of the
 * API fails loudly instead of passing by accident. Errors use GCS's JSON error body
 * (`{"error": {"code", "message", "errors": [{reason, message}]}}`).
 *
 * Test hooks: `token` (every request must carry `Authorization: Bearer <token>`,
 * else 401), `failNext` (inject statuses, dropped connections or hangs), and a log of
 * every request received.
 */

export interface GcsTestObject {
  data: Uint8Array;
  contentType: string;
  contentEncoding?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
  generation: number;
  metageneration: number;
  timeCreated: string;
  updated: string;
}

export type GcsTestBucket = Map<string, GcsTestObject>;

export interface GcsTestServerOptions {
  /** Buckets to create at start (more with createBucket or buckets.insert). */
  buckets?: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Decompressive transcoding of gzip objects (default true, as on GCS). */
  transcoding?: boolean;
}

export interface GcsRequestRecord {
  method: string;
  /** Path as received (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Bytes in the request body. */
  bodyLength: number;
}

export interface GcsFault {
  /** Answer with this status and a GCS error body (e.g. 503, 429, 403). */
  status?: number;
  /** Drop the connection without an answer (a network error for the client). */
  reset?: boolean;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  /** How many matching requests to fail (default 1). */
  times?: number;
  /** Only requests with this method / whose path contains this string. */
  method?: string;
  pathIncludes?: string;
}

export interface GcsTestServer {
  /** `http://127.0.0.1:<port>`: pass as @google-cloud/storage's apiEndpoint. */
  readonly url: string;
  readonly buckets: Map<string, GcsTestBucket>;
  readonly requests: GcsRequestRecord[];
  createBucket(name: string): GcsTestBucket;
  /** Store an object directly (no request), e.g. to seed a test. */
  putObject(bucket: string, name: string, data: Uint8Array, meta?: { contentType?: string; contentEncoding?: string; cacheControl?: string }): GcsTestObject;
  failNext(fault: GcsFault): void;
  close(): Promise<void>;
}

/** GCS's resumable upload granularity: non-final chunks are multiples of 256 KiB. */
export const GCS_CHUNK_GRANULARITY = 256 * 1024;

// ------------------------------------------------------------------ checksums

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), the checksum GCS keeps for every object. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** GCS's encoding of a CRC32C: base64 of the big-endian 4 bytes. */
export function crc32cBase64(data: Uint8Array): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32c(data));
  return b.toString("base64");
}

function md5Base64(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

// ------------------------------------------------------------------ errors

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly reason: string) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 409: "conflict", 412: "conditionNotMet",
  416: "requestedRangeNotSatisfiable", 429: "rateLimitExceeded", 499: "clientClosedRequest", 501: "notImplemented",
  500: "backendError", 502: "backendError", 503: "backendError",
};

function sendError(res: ServerResponse, status: number, message: string, reason = REASONS[status] ?? "error", extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: status, message, errors: [{ message, domain: "global", reason }] } });
  res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8", "Content-Length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8", "Content-Length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

// ------------------------------------------------------------------ helpers

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function acceptsGzip(req: IncomingMessage): boolean {
  const v = String(req.headers["accept-encoding"] ?? "").toLowerCase();
  return v.split(",").some((p) => {
    const [name, ...params] = p.trim().split(";");
    if (name.trim() !== "gzip" && name.trim() !== "*") return false;
    // "gzip;q=0" explicitly refuses gzip.
    return !params.some((x) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(x));
  });
}

/** Parse one `bytes=` range against `size`; undefined = no usable range (serve it all); "unsatisfiable" = 416. */
function parseRange(header: string | undefined, size: number): [number, number] | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined; // multiple or malformed ranges: ignored, as RFC 9110 allows
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return [start, end + 1];
}

interface ResumableSession {
  bucket: string;
  name: string;
  meta: InsertMeta;
  parts: Buffer[];
  persisted: number;
  total?: number;
  done?: GcsTestObject;
  cancelled?: boolean;
  ifGenerationMatch?: string | null;
}

interface InsertMeta {
  contentType?: string;
  contentEncoding?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
}

function metaFromJson(v: unknown): InsertMeta {
  const o = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
  const s = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
  return {
    contentType: s("contentType"),
    contentEncoding: s("contentEncoding"),
    cacheControl: s("cacheControl"),
    metadata: o.metadata && typeof o.metadata === "object" ? (o.metadata as Record<string, string>) : undefined,
  };
}

/** Split a multipart/related body into its parts (headers lower-cased, body bytes). */
function parseMultipart(body: Buffer, boundary: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new HttpError(400, "multipart body without its boundary", "invalid");
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === "--") break; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() === "\r\n") pos += 2;
    const next = body.indexOf(delim, pos);
    if (next < 0) throw new HttpError(400, "multipart body is not terminated", "invalid");
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const part = body.subarray(pos, end);
    const sep = part.indexOf("\r\n\r\n");
    if (sep < 0) throw new HttpError(400, "multipart part without headers", "invalid");
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, sep).toString("utf8").split("\r\n")) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    parts.push({ headers, body: part.subarray(sep + 4) });
    pos = next;
  }
  return parts;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

// ------------------------------------------------------------------ server

export async function startGcsTestServer(opts: GcsTestServerOptions = {}): Promise<GcsTestServer> {
  const buckets = new Map<string, GcsTestBucket>();
  const requests: GcsRequestRecord[] = [];
  const faults: GcsFault[] = [];
  const sessions = new Map<string, ResumableSession>();
  const sockets = new Set<Socket>();
  const transcoding = opts.transcoding ?? true;
  let generationCounter = 1_700_000_000_000_000;
  let url = "";

  const createBucket = (name: string): GcsTestBucket => {
    let b = buckets.get(name);
    if (!b) {
      b = new Map();
      buckets.set(name, b);
    }
    return b;
  };
  for (const b of opts.buckets ?? []) createBucket(b);

  const bucketOf = (name: string): GcsTestBucket => {
    const b = buckets.get(name);
    if (!b) throw new HttpError(404, "The specified bucket does not exist.", "notFound");
    return b;
  };

  const store = (bucket: string, name: string, data: Uint8Array, meta: InsertMeta): GcsTestObject => {
    const b = bucketOf(bucket);
    if (name === "" || Buffer.byteLength(name) > 1024) throw new HttpError(400, "Invalid object name", "invalid");
    const now = new Date().toISOString();
    const obj: GcsTestObject = {
      data: new Uint8Array(data),
      contentType: meta.contentType || "application/octet-stream",
      contentEncoding: meta.contentEncoding || undefined,
      cacheControl: meta.cacheControl || undefined,
      metadata: meta.metadata,
      generation: ++generationCounter,
      metageneration: 1,
      timeCreated: now,
      updated: now,
    };
    b.set(name, obj);
    return obj;
  };

  const checkGeneration = (bucket: string, name: string, want: string | null | undefined): void => {
    if (want === null || want === undefined) return;
    const cur = buckets.get(bucket)?.get(name);
    const ok = want === "0" ? cur === undefined : cur !== undefined && String(cur.generation) === want;
    if (!ok) throw new HttpError(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet");
  };

  const resource = (bucket: string, name: string, o: GcsTestObject): Record<string, unknown> => {
    const enc = encodeURIComponent(name);
    const r: Record<string, unknown> = {
      kind: "storage#object",
      id: `${bucket}/${name}/${o.generation}`,
      selfLink: `${url}/storage/v1/b/${bucket}/o/${enc}`,
      mediaLink: `${url}/download/storage/v1/b/${bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name,
      bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: "STANDARD",
      size: String(o.data.byteLength),
      md5Hash: md5Base64(o.data),
      crc32c: crc32cBase64(o.data),
      etag: `C${o.generation.toString(36)}=`,
      timeCreated: o.timeCreated,
      updated: o.updated,
      timeStorageClassUpdated: o.timeCreated,
    };
    if (o.contentEncoding) r.contentEncoding = o.contentEncoding;
    if (o.cacheControl) r.cacheControl = o.cacheControl;
    if (o.metadata) r.metadata = o.metadata;
    return r;
  };

  const getObject = (bucket: string, name: string): GcsTestObject => {
    const o = bucketOf(bucket).get(name);
    if (!o) throw new HttpError(404, `No such object: ${bucket}/${name}`, "notFound");
    return o;
  };

  const serveMedia = (req: IncomingMessage, res: ServerResponse, bucket: string, name: string, q: URLSearchParams): void => {
    const o = getObject(bucket, name);
    if (q.has("generation") && q.get("generation") !== String(o.generation)) throw new HttpError(404, `No such object: ${bucket}/${name}`, "notFound");
    const headers: Record<string, string> = {
      "Content-Type": o.contentType,
      "Cache-Control": o.cacheControl ?? "private, max-age=0",
      ETag: `"${createHash("md5").update(o.data).digest("hex")}"`,
      "Last-Modified": new Date(o.updated).toUTCString(),
      "x-goog-generation": String(o.generation),
      "x-goog-metageneration": String(o.metageneration),
      "x-goog-stored-content-encoding": o.contentEncoding ?? "identity",
      "x-goog-stored-content-length": String(o.data.byteLength),
      "x-goog-hash": `crc32c=${crc32cBase64(o.data)},md5=${md5Base64(o.data)}`,
      "Accept-Ranges": "bytes",
    };
    const noTransform = /(^|,)\s*no-transform\s*(,|$)/i.test(o.cacheControl ?? "");
    if (transcoding && o.contentEncoding === "gzip" && !noTransform && !acceptsGzip(req)) {
      // Decompressive transcoding: whole object, decoded, no Content-Length, Range ignored.
      let plain: Buffer;
      try {
        plain = gunzipSync(o.data);
      } catch {
        throw new HttpError(500, "stored object is not valid gzip but is marked Content-Encoding: gzip", "backendError");
      }
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : plain);
      return;
    }
    if (o.contentEncoding) headers["Content-Encoding"] = o.contentEncoding;
    const size = o.data.byteLength;
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") {
      sendError(res, 416, "The requested range cannot be satisfied.", "requestedRangeNotSatisfiable", { "Content-Range": `bytes */${size}` });
      return;
    }
    const [start, end] = range ?? [0, size];
    const body = Buffer.from(o.data.buffer, o.data.byteOffset + start, end - start);
    headers["Content-Length"] = String(body.byteLength);
    if (range) headers["Content-Range"] = `bytes ${start}-${end - 1}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const list = (res: ServerResponse, bucket: string, q: URLSearchParams): void => {
    const b = bucketOf(bucket);
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const maxRaw = q.get("maxResults");
    const max = maxRaw === null ? 1000 : Math.min(1000, Math.max(1, Number(maxRaw) || 1000));
    let after: string | undefined;
    let skipPrefix: string | undefined;
    const token = q.get("pageToken");
    if (token) {
      try {
        const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { a: string; p?: string };
        after = t.a;
        skipPrefix = t.p;
      } catch {
        throw new HttpError(400, "Invalid page token", "invalid");
      }
    }
    const names = [...b.keys()].filter((n) => n.startsWith(prefix)).sort(utf8Compare);
    const items: Record<string, unknown>[] = [];
    const prefixes: string[] = [];
    let lastName: string | undefined;
    let lastPrefix = skipPrefix;
    let more = false;
    for (const n of names) {
      if (after !== undefined && utf8Compare(n, after) <= 0) continue;
      if (lastPrefix !== undefined && n.startsWith(lastPrefix)) {
        lastName = n;
        continue;
      }
      if (items.length + prefixes.length >= max) {
        more = true;
        break;
      }
      const rest = n.slice(prefix.length);
      const i = delimiter === "" ? -1 : rest.indexOf(delimiter);
      if (i >= 0) {
        const p = prefix + rest.slice(0, i + delimiter.length);
        prefixes.push(p);
        lastPrefix = p;
      } else {
        items.push(resource(bucket, n, b.get(n)!));
      }
      lastName = n;
    }
    const out: Record<string, unknown> = { kind: "storage#objects" };
    if (more && lastName !== undefined) out.nextPageToken = Buffer.from(JSON.stringify({ a: lastName, p: lastPrefix }), "utf8").toString("base64url");
    if (prefixes.length > 0) out.prefixes = prefixes;
    if (items.length > 0) out.items = items;
    sendJson(res, 200, out);
  };

  const verifyHash = (header: string | string[] | undefined, data: Buffer): void => {
    if (!header) return;
    for (const part of String(header).split(",")) {
      const i = part.indexOf("=");
      if (i < 0) continue;
      const kind = part.slice(0, i).trim().toLowerCase();
      const value = part.slice(i + 1).trim();
      const actual = kind === "crc32c" ? crc32cBase64(data) : kind === "md5" ? md5Base64(data) : undefined;
      if (actual !== undefined && actual !== value) {
        throw new HttpError(400, `Provided ${kind} hash "${value}" doesn't match calculated hash "${actual}".`, "invalid");
      }
    }
  };

  const insert = async (req: IncomingMessage, res: ServerResponse, bucket: string, q: URLSearchParams, body: Buffer): Promise<void> => {
    bucketOf(bucket);
    const uploadType = q.get("uploadType") ?? "media";
    const queryMeta: InsertMeta = {};
    if (q.get("contentEncoding")) queryMeta.contentEncoding = q.get("contentEncoding")!;
    if (uploadType === "media") {
      const name = q.get("name");
      if (!name) throw new HttpError(400, "Required parameter: name", "required");
      checkGeneration(bucket, name, q.get("ifGenerationMatch"));
      verifyHash(req.headers["x-goog-hash"], body);
      const o = store(bucket, name, body, { contentType: String(req.headers["content-type"] ?? "") || undefined, ...queryMeta });
      sendJson(res, 200, resource(bucket, name, o));
      return;
    }
    if (uploadType === "multipart") {
      const ct = String(req.headers["content-type"] ?? "");
      const m = /^multipart\/related\s*;\s*boundary="?([^";]+)"?/i.exec(ct);
      if (!m) throw new HttpError(400, "uploadType=multipart needs a multipart/related body", "invalid");
      const parts = parseMultipart(body, m[1]);
      if (parts.length !== 2) throw new HttpError(400, `multipart upload needs 2 parts (metadata, media), got ${parts.length}`, "invalid");
      let json: unknown;
      try {
        json = JSON.parse(parts[0].body.toString("utf8"));
      } catch {
        throw new HttpError(400, "the metadata part is not JSON", "invalid");
      }
      const meta = metaFromJson(json);
      const name = q.get("name") ?? ((json as { name?: unknown }).name as string | undefined);
      if (!name) throw new HttpError(400, "Required parameter: name", "required");
      meta.contentType = meta.contentType ?? parts[1].headers["content-type"];
      checkGeneration(bucket, name, q.get("ifGenerationMatch"));
      verifyHash(req.headers["x-goog-hash"], parts[1].body);
      const o = store(bucket, name, parts[1].body, { ...meta, ...queryMeta });
      sendJson(res, 200, resource(bucket, name, o));
      return;
    }
    if (uploadType === "resumable") {
      let json: unknown = {};
      if (body.byteLength > 0) {
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          throw new HttpError(400, "the resumable upload metadata is not JSON", "invalid");
        }
      }
      const meta = metaFromJson(json);
      const name = q.get("name") ?? ((json as { name?: unknown }).name as string | undefined);
      if (!name) throw new HttpError(400, "Required parameter: name", "required");
      const xct = req.headers["x-upload-content-type"];
      if (!meta.contentType && typeof xct === "string") meta.contentType = xct;
      const xlen = req.headers["x-upload-content-length"];
      const id = randomBytes(12).toString("hex");
      sessions.set(id, {
        bucket, name, meta: { ...meta, ...queryMeta }, parts: [], persisted: 0,
        total: typeof xlen === "string" && xlen !== "" ? Number(xlen) : undefined,
        ifGenerationMatch: q.get("ifGenerationMatch"),
      });
      const location = `${url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      res.writeHead(200, { Location: location, "X-GUploader-UploadID": id, "Content-Length": "0" });
      res.end();
      return;
    }
    throw new HttpError(400, `Invalid uploadType "${uploadType}"`, "invalid");
  };

  const resumablePut = (req: IncomingMessage, res: ServerResponse, id: string, body: Buffer): void => {
    const s = sessions.get(id);
    if (!s || s.cancelled) throw new HttpError(404, "No such upload session", "notFound");
    if (s.done) {
      sendJson(res, 200, resource(s.bucket, s.name, s.done));
      return;
    }
    const cr = String(req.headers["content-range"] ?? "").trim();
    let start: number;
    let total: number | undefined = s.total;
    let statusOnly = false;
    let m: RegExpExecArray | null;
    if (cr === "") {
      start = 0; // the whole object in one request
      total = body.byteLength;
    } else if ((m = /^bytes \*\/(\d+|\*)$/.exec(cr))) {
      statusOnly = true;
      start = s.persisted;
      if (m[1] !== "*") total = Number(m[1]);
    } else if ((m = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(cr))) {
      start = Number(m[1]);
      if (m[2] !== "*" && Number(m[2]) - start + 1 !== body.byteLength) {
        throw new HttpError(400, `Content-Range ${cr} does not match the ${body.byteLength} bytes sent`, "invalid");
      }
      if (m[3] !== "*") total = Number(m[3]);
      else if (m[2] === "*") total = start + body.byteLength; // `a-*/*`: this request carries the rest
    } else {
      throw new HttpError(400, `Malformed Content-Range "${cr}"`, "invalid");
    }
    if (total !== undefined && s.total !== undefined && total !== s.total) throw new HttpError(400, `the upload's total size changed from ${s.total} to ${total}`, "invalid");
    if (!statusOnly) {
      if (start > s.persisted) throw new HttpError(400, `the chunk starts at byte ${start} but only ${s.persisted} bytes are persisted`, "invalid");
      // Bytes before `persisted` were already received: keep the first copy.
      let fresh = body.subarray(s.persisted - start);
      const isFinal = total !== undefined && s.persisted + fresh.byteLength >= total;
      if (!isFinal) fresh = fresh.subarray(0, fresh.byteLength - (fresh.byteLength % GCS_CHUNK_GRANULARITY));
      if (total !== undefined && s.persisted + fresh.byteLength > total) throw new HttpError(400, "more bytes than the declared total", "invalid");
      s.parts.push(Buffer.from(fresh));
      s.persisted += fresh.byteLength;
    }
    if (total !== undefined) s.total = total;
    if (s.total !== undefined && s.persisted === s.total) {
      const data = Buffer.concat(s.parts);
      verifyHash(req.headers["x-goog-hash"], data);
      checkGeneration(s.bucket, s.name, s.ifGenerationMatch);
      s.done = store(s.bucket, s.name, data, s.meta);
      s.parts = [];
      sendJson(res, 200, resource(s.bucket, s.name, s.done));
      return;
    }
    const headers: Record<string, string> = { "Content-Length": "0" };
    if (s.persisted > 0) headers.Range = `bytes=0-${s.persisted - 1}`;
    res.writeHead(308, headers);
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? "/", "http://localhost");
    const body = await readBody(req);
    requests.push({ method: req.method ?? "GET", path: u.pathname, query: u.searchParams, headers: req.headers, bodyLength: body.byteLength });

    const fi = faults.findIndex((f) => (!f.method || f.method === req.method) && (!f.pathIncludes || (req.url ?? "").includes(f.pathIncludes)));
    if (fi >= 0) {
      const f = faults[fi];
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) faults.splice(fi, 1);
      if (f.hang) return; // the socket is destroyed on close()
      if (f.reset) {
        req.socket.destroy();
        return;
      }
      sendError(res, f.status ?? 503, `injected failure ${f.status ?? 503}`);
      return;
    }

    if (opts.token !== undefined) {
      const auth = String(req.headers.authorization ?? "");
      if (auth === "") throw new HttpError(401, "Anonymous caller does not have storage access to the requested resource.", "required");
      if (auth !== `Bearer ${opts.token}`) throw new HttpError(401, "Invalid Credentials", "authError");
    }

    const path = u.pathname;
    const q = u.searchParams;
    const method = req.method ?? "GET";
    let m: RegExpExecArray | null;

    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]);
      const id = q.get("upload_id");
      if (id && method === "PUT") return resumablePut(req, res, id, body);
      if (id && method === "DELETE") {
        const s = sessions.get(id);
        if (s) s.cancelled = true;
        res.writeHead(499, { "Content-Length": "0" });
        res.end();
        return;
      }
      if (method === "POST") return insert(req, res, bucket, q, body);
      throw new HttpError(405, `${method} is not allowed on the upload endpoint`, "invalid");
    }
    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]);
      const name = decodeURIComponent(m[2]);
      if (method === "GET" || method === "HEAD") {
        if (q.get("alt") === "media") return serveMedia(req, res, bucket, name, q);
        if (path.startsWith("/download/")) throw new HttpError(400, "the download endpoint needs alt=media", "invalid");
        return sendJson(res, 200, resource(bucket, name, getObject(bucket, name)));
      }
      if (method === "DELETE") {
        const b = bucketOf(bucket);
        checkGeneration(bucket, name, q.get("ifGenerationMatch"));
        if (!b.delete(name)) throw new HttpError(404, `No such object: ${bucket}/${name}`, "notFound");
        res.writeHead(204);
        res.end();
        return;
      }
      throw new HttpError(501, `objects.${method.toLowerCase()} is not implemented by the GCS test server`, "notImplemented");
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      if (method === "GET") return list(res, decodeURIComponent(m[1]), q);
      throw new HttpError(501, `${method} on the objects collection is not implemented by the GCS test server (uploads go to /upload/storage/v1)`, "notImplemented");
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      if (method === "GET") {
        bucketOf(name);
        return sendJson(res, 200, { kind: "storage#bucket", id: name, name, storageClass: "STANDARD", location: "US" });
      }
      if (method === "DELETE") {
        if (bucketOf(name).size > 0) throw new HttpError(409, "The bucket you tried to delete is not empty.", "conflict");
        buckets.delete(name);
        res.writeHead(204);
        res.end();
        return;
      }
      throw new HttpError(501, `buckets.${method.toLowerCase()} is not implemented by the GCS test server`, "notImplemented");
    }
    if (path === "/storage/v1/b") {
      if (method === "GET") return sendJson(res, 200, { kind: "storage#buckets", items: [...buckets.keys()].sort().map((name) => ({ kind: "storage#bucket", id: name, name })) });
      if (method === "POST") {
        let json: { name?: unknown } = {};
        try {
          json = JSON.parse(body.toString("utf8") || "{}");
        } catch {
          throw new HttpError(400, "the bucket resource is not JSON", "invalid");
        }
        const name = typeof json.name === "string" ? json.name : "";
        if (!BUCKET_NAME.test(name)) throw new HttpError(400, `Invalid bucket name: '${name}'`, "invalid");
        if (buckets.has(name)) throw new HttpError(409, "Your previous request to create the named bucket succeeded and you already own it.", "conflict");
        createBucket(name);
        return sendJson(res, 200, { kind: "storage#bucket", id: name, name });
      }
    }
    throw new HttpError(501, `${method} ${path} is not implemented by the GCS test server`, "notImplemented");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendError(res, err.status, err.message, err.reason);
      else sendError(res, 500, `test server failure: ${(err as Error)?.message ?? err}`);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    buckets,
    requests,
    createBucket,
    putObject(bucket, name, data, meta = {}) {
      createBucket(bucket);
      return store(bucket, name, data, meta);
    },
    failNext(fault) {
      faults.push({ ...fault });
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
