import type { Bucket, File, Storage, StorageOptions } from "@google-cloud/storage";
import {
  CloudVolumeError,
  checkKey,
  isCloudVolumeError,
  type ByteRange,
  type ErrorCode,
  type GetOptions,
  type KeyValueStore,
  type ParsedUrl,
  type PutOptions,
  type StoredObject,
} from "@cloudvolume/core";
import { resolveGoogleCredentials, secretValues, type GoogleSecrets, type ResolvedGoogleCredentials } from "./secrets.js";

/**
 * Above this size a put uses a resumable upload, at or below it one multipart
 * request: the same 8 MiB split as Python's google-cloud-storage (which CloudFiles
 * uses), so both write objects the same way.
 */
export const DEFAULT_RESUMABLE_THRESHOLD = 8 * 1024 * 1024;

export interface GcsStoreOptions {
  /** Bucket name. */
  bucket: string;
  /** Path inside the bucket that keys live under ("layer/sub"); default the bucket root. */
  prefix?: string;
  /**
   * JSON API endpoint, e.g. a test server's `http://127.0.0.1:port`. A custom
   * endpoint gets no authentication unless secrets are given (the library's
   * `useAuthWithCustomEndpoint`), so a local test server needs no credentials.
   */
  apiEndpoint?: string;
  /** Key file object, its JSON, or an access token; default: files in the secrets directory, then the library defaults. */
  secrets?: GoogleSecrets;
  projectId?: string;
  /** Puts larger than this many bytes use a resumable upload (default 8 MiB). */
  resumableThreshold?: number;
  /**
   * Resumable uploads send chunks of this many bytes (a multiple of 256 KiB), one
   * request each; default: the whole object in one request.
   */
  resumableChunkSize?: number;
  /** Check CRC32C of whole downloads and of uploads (default true). */
  validation?: boolean;
  /** Use this client instead of building one (its endpoint and credentials win). */
  storage?: Storage;
  /** Where to look for secret files (tests): environment and home directory. */
  env?: Record<string, string | undefined>;
  home?: string;
}

type HttpLikeError = Error & { code?: unknown; response?: { status?: number; statusCode?: number }; errors?: unknown };

/** Network failures worth a retry (node-fetch / gaxios / stream codes). */
const TRANSIENT_CODES = new Set([
  "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE", "UND_ERR_SOCKET", "CONTENT_DOWNLOAD_MISMATCH", "FILE_NO_UPLOAD", "FILE_NO_UPLOAD_DELETE",
]);

function statusOf(err: HttpLikeError): number | undefined {
  if (typeof err.code === "number") return err.code;
  if (typeof err.code === "string" && /^\d{3}$/.test(err.code)) return Number(err.code);
  const s = err.response?.status ?? err.response?.statusCode;
  return typeof s === "number" ? s : undefined;
}

function checkRange(range: ByteRange, key: string, url: string): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid = "suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length);
  if (!valid) throw new CloudVolumeError("INVALID_ARGUMENT", `invalid byte range ${JSON.stringify(range)} for key ${JSON.stringify(key)}: offsets and lengths must be non-negative integers`, { key, url });
}

/**
 * A GCS bucket (or a path in it) as a KeyValueStore, over @google-cloud/storage.
 *
 * Objects are read raw: requests say `Accept-Encoding: gzip` (so GCS never applies
 * decompressive transcoding) and the library's own gunzip is off, so getObject
 * returns the stored bytes with the object's Content-Encoding and the format layer
 * decodes exactly once, as CloudFiles' `raw_download=True` does. Writes are whole
 * objects (a multipart or resumable upload is atomic on GCS) with Content-Type,
 * Content-Encoding and Cache-Control set from PutOptions, as CloudFiles' put_file.
 *
 * The library's own retries are off: 429, 5xx and network failures surface as
 * UNAVAILABLE and the Context's retry policy (exponential backoff with jitter)
 * decides, under the Context's per-protocol concurrency limit.
 */
export class GcsStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities = { write: true, list: true, rangeReads: true } as const;
  readonly bucketName: string;
  /** "" or "layer/sub/". */
  private readonly base: string;
  private readonly resumableThreshold: number;
  private readonly chunkSize: number | undefined;
  private readonly validation: boolean;
  private readonly secrets: string[];

  constructor(
    private readonly bucket: Bucket,
    opts: { prefix?: string; resumableThreshold?: number; resumableChunkSize?: number; validation?: boolean; secrets?: string[] },
  ) {
    this.bucketName = bucket.name;
    const prefix = checkKey(opts.prefix ?? "");
    this.base = prefix === "" ? "" : `${prefix}/`;
    this.url = `gs://${bucket.name}${prefix === "" ? "" : `/${prefix}`}`;
    this.resumableThreshold = opts.resumableThreshold ?? DEFAULT_RESUMABLE_THRESHOLD;
    if (opts.resumableChunkSize !== undefined && (opts.resumableChunkSize <= 0 || opts.resumableChunkSize % (256 * 1024) !== 0)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `resumableChunkSize must be a positive multiple of 256 KiB, got ${opts.resumableChunkSize}`);
    }
    this.chunkSize = opts.resumableChunkSize;
    this.validation = opts.validation ?? true;
    this.secrets = opts.secrets ?? [];
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    return (await this.getObject(key, opts))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    const name = this.fullKey(key);
    this.throwIfAborted(opts.signal, key);
    const range = opts.range;
    if (range) checkRange(range, key, this.url);
    const file = this.bucket.file(name);
    // A zero-length range cannot be asked of HTTP (`bytes=-0` is unsatisfiable, `a-(a-1)` invalid): ask whether the object exists.
    if (range && ("suffixLength" in range ? range.suffixLength === 0 : range.length === 0)) {
      const meta = await this.metadata(file, key, opts.signal);
      if (!meta) return undefined;
      return withEncoding(new Uint8Array(0), meta.contentEncoding);
    }
    const readOpts: Record<string, unknown> = { decompress: false, validation: !range && this.validation ? "crc32c" : false };
    if (range && "suffixLength" in range) readOpts.end = -range.suffixLength; // the library sends `bytes=-n`
    else if (range) {
      readOpts.start = range.offset;
      readOpts.end = range.offset + range.length - 1;
    }
    try {
      const { data, encoding } = await this.download(file, readOpts, opts.signal);
      return withEncoding(data, encoding);
    } catch (err) {
      const status = statusOf(err as HttpLikeError);
      if (status === 404) return undefined;
      // The range starts at or past the end: the object exists, the slice is empty.
      if (status === 416) return { data: new Uint8Array(0) };
      throw this.fail(err, "read", key, opts.signal);
    }
  }

  async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    const name = this.fullKey(key);
    if (!(data instanceof Uint8Array)) throw new CloudVolumeError("INVALID_ARGUMENT", `put of key ${JSON.stringify(key)}: data must be a Uint8Array`, { key, url: this.url });
    const enc = opts.contentEncoding;
    const metadata: Record<string, string> = { contentType: opts.contentType ?? "application/octet-stream" };
    if (enc !== undefined && enc !== "" && enc !== "identity" && enc !== "none") metadata.contentEncoding = enc;
    if (opts.cacheControl) metadata.cacheControl = opts.cacheControl;
    const resumable = data.byteLength > this.resumableThreshold;
    // Copy: the caller may reuse its buffer as soon as we return, and a resumable upload
    // may still hold chunks of it for a retry inside the library.
    const body = Buffer.from(data);
    try {
      await new Promise<void>((resolve, reject) => {
        const ws = this.bucket.file(name).createWriteStream({
          resumable,
          metadata,
          contentType: metadata.contentType,
          validation: this.validation ? "crc32c" : false,
          ...(resumable && this.chunkSize !== undefined ? { chunkSize: this.chunkSize } : {}),
        });
        ws.on("error", reject);
        ws.once("finish", () => resolve());
        ws.end(body);
      });
    } catch (err) {
      throw this.fail(err, "write", key);
    }
  }

  /** Remove a key; a missing key is not an error. */
  async delete(key: string): Promise<void> {
    const name = this.fullKey(key);
    try {
      await this.bucket.file(name).delete({ ignoreNotFound: true });
    } catch (err) {
      if (statusOf(err as HttpLikeError) === 404) return;
      throw this.fail(err, "delete", key);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.metadata(this.bucket.file(this.fullKey(key)), key)) !== undefined;
  }

  /**
   * Keys under `prefix` (a string prefix, relative to this store), page by page
   * (objects.list with pageToken), so a scale with millions of chunks is never
   * listed into memory at once. Directory placeholder objects (names ending in "/")
   * are skipped, as CloudFiles does.
   */
  async *list(prefix: string = ""): AsyncGenerator<string> {
    let p = "";
    if (prefix !== "") {
      p = checkKey(prefix, this.url);
      if (p !== "" && prefix.endsWith("/")) p += "/";
    }
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = (await this.bucket.getFiles({ prefix: this.base + p, autoPaginate: false, maxResults: 1000, pageToken })) as unknown as [File[], { pageToken?: string } | null];
      } catch (err) {
        throw this.fail(err, "list", prefix);
      }
      for (const f of files) if (!f.name.endsWith("/")) yield f.name.slice(this.base.length);
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  private async metadata(file: File, key: string, signal?: AbortSignal): Promise<{ contentEncoding?: string } | undefined> {
    try {
      const [meta] = await file.getMetadata();
      this.throwIfAborted(signal, key);
      return meta as { contentEncoding?: string };
    } catch (err) {
      if (statusOf(err as HttpLikeError) === 404) return undefined;
      throw this.fail(err, "stat", key, signal);
    }
  }

  /** Read a media download into memory, with the Content-Encoding it came under. */
  private download(file: File, readOpts: Record<string, unknown>, signal?: AbortSignal): Promise<{ data: Uint8Array; encoding?: string }> {
    return new Promise((resolve, reject) => {
      const stream = file.createReadStream(readOpts);
      const parts: Buffer[] = [];
      let encoding: string | undefined;
      let settled = false;
      const onAbort = () => {
        settled = true;
        stream.destroy();
        reject(new CloudVolumeError("ABORTED", "read aborted", { cause: signal?.reason }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (fn: () => void) => {
        signal?.removeEventListener("abort", onAbort);
        if (!settled) {
          settled = true;
          fn();
        }
      };
      stream.on("response", (res: { headers?: Record<string, string | string[] | undefined> }) => {
        const h = res.headers?.["content-encoding"];
        encoding = Array.isArray(h) ? h[0] : h;
      });
      stream.on("data", (c: Buffer) => parts.push(c));
      stream.on("error", (err) => done(() => reject(err)));
      stream.once("end", () => done(() => {
        const total = parts.reduce((n, p) => n + p.byteLength, 0);
        const out = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          out.set(p, o);
          o += p.byteLength;
        }
        resolve({ data: out, encoding });
      }));
    });
  }

  private fullKey(key: string): string {
    const k = checkKey(key, this.url);
    if (k === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty key", { key, url: this.url });
    return this.base + k;
  }

  private throwIfAborted(signal: AbortSignal | undefined, key: string): void {
    if (signal?.aborted) throw new CloudVolumeError("ABORTED", `read of key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: signal.reason });
  }

  /** Remove every secret value from `text`. */
  private redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[redacted]");
    return out.replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/g, "Bearer [redacted]");
  }

  /**
   * A CloudVolumeError for a failed request. The library's error is NOT kept as the
   * cause: it can carry the request configuration, Authorization header included.
   * The cause is a plain Error with the (redacted) message and the HTTP status.
   */
  private fail(err: unknown, op: string, key: string, signal?: AbortSignal): CloudVolumeError {
    if (isCloudVolumeError(err)) return err;
    if (signal?.aborted) return new CloudVolumeError("ABORTED", `${op} of key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: signal.reason });
    const e = (err ?? {}) as HttpLikeError;
    const status = statusOf(e);
    const netCode = typeof e.code === "string" ? e.code : undefined;
    const detail = this.redact(String(e.message ?? e).split("\n")[0].slice(0, 300));
    let code: ErrorCode;
    let hint = "";
    if (status === 401 || status === 403) {
      code = "PERMISSION_DENIED";
      hint = `; check the credentials for bucket ${this.bucketName} (the secrets option, or ${this.bucketName}-google-secret.json / google-secret.json in $CLOUD_VOLUME_DIR/secrets)`;
    } else if (status === 408 || status === 429 || (status !== undefined && status >= 500)) {
      code = "UNAVAILABLE";
    } else if (status === undefined && (netCode === undefined || TRANSIENT_CODES.has(netCode) || (e as { type?: unknown }).type === "system")) {
      code = "UNAVAILABLE";
    } else if (status === 400 || status === 412) {
      code = "INVALID_ARGUMENT";
    } else {
      code = "IO_ERROR";
    }
    const what = status !== undefined ? `HTTP ${status}` : netCode ?? "request failed";
    const cause = Object.assign(new Error(detail), { status, code: netCode });
    return new CloudVolumeError(code, `cannot ${op} key ${JSON.stringify(key)} in ${this.url}: ${what}: ${detail}${hint}`, { key, url: this.url, cause });
  }
}

function withEncoding(data: Uint8Array, encoding: string | undefined): StoredObject {
  return encoding === undefined || encoding === "" || encoding === "identity" ? { data } : { data, contentEncoding: encoding };
}

/** Client settings that identify one Storage instance (clients are shared per plugin). */
function clientKey(endpoint: string | undefined, c: ResolvedGoogleCredentials, projectId: string | undefined): string {
  return JSON.stringify([endpoint ?? "", c.source, c.kind, projectId ?? ""]);
}

/**
 * Build a @google-cloud/storage client. The library's retries are off: the Context
 * retries (one policy for every protocol, and no retries hidden under its limiter).
 */
export async function createStorageClient(
  opts: Pick<GcsStoreOptions, "apiEndpoint" | "projectId">,
  creds: ResolvedGoogleCredentials,
): Promise<Storage> {
  const { Storage } = await import("@google-cloud/storage");
  const o: StorageOptions = { retryOptions: { autoRetry: false, maxRetries: 0 } };
  if (opts.apiEndpoint) o.apiEndpoint = opts.apiEndpoint;
  if (opts.projectId) o.projectId = opts.projectId;
  if (creds.kind === "credentials") {
    o.credentials = creds.credentials as StorageOptions["credentials"];
    o.projectId ??= creds.projectId;
    if (opts.apiEndpoint) o.useAuthWithCustomEndpoint = true;
  } else if (creds.kind === "token" && !opts.apiEndpoint) {
    const { OAuth2Client } = await import("google-auth-library");
    const client = new OAuth2Client();
    client.setCredentials({ access_token: creds.token });
    o.authClient = client as unknown as StorageOptions["authClient"];
  }
  const storage = new Storage(o);
  if (creds.kind === "token" && opts.apiEndpoint) {
    // Against a custom endpoint the library's resumable uploads never authenticate
    // (createWriteStream does not pass useAuthWithCustomEndpoint on), but every
    // request, resumable ones included, goes through the client's interceptors.
    const authorization = `Bearer ${creds.token}`;
    storage.interceptors.push({
      request: ((reqOpts: { headers?: Record<string, string> }) => {
        reqOpts.headers = { ...reqOpts.headers, Authorization: authorization };
        return reqOpts;
      }) as unknown as (typeof storage.interceptors)[number]["request"],
    });
  }
  return storage;
}

/** Open a store directly (without a Context). */
export async function openGcsStore(opts: GcsStoreOptions, clients?: Map<string, Promise<Storage>>): Promise<GcsStore> {
  if (typeof opts.bucket !== "string" || opts.bucket === "") throw new CloudVolumeError("INVALID_ARGUMENT", "a GCS store needs a bucket name");
  let secrets: string[] = [];
  let storage = opts.storage;
  if (!storage) {
    const creds = resolveGoogleCredentials(opts.bucket, { secrets: opts.secrets, env: opts.env, home: opts.home });
    secrets = secretValues(creds);
    const k = clientKey(opts.apiEndpoint, creds, opts.projectId);
    let p = clients?.get(k);
    if (!p) {
      p = createStorageClient(opts, creds);
      clients?.set(k, p);
      p.catch(() => clients?.delete(k));
    }
    storage = await p;
  }
  return new GcsStore(storage.bucket(opts.bucket), {
    prefix: opts.prefix,
    resumableThreshold: opts.resumableThreshold,
    resumableChunkSize: opts.resumableChunkSize,
    validation: opts.validation,
    secrets,
  });
}

/** `gs://<bucket>/<path>` -> bucket and the path inside it. */
export function parseGsPath(url: ParsedUrl): { bucket: string; prefix: string } {
  const path = checkKey(url.path, url.storageUrl);
  const slash = path.indexOf("/");
  const bucket = slash < 0 ? path : path.slice(0, slash);
  if (bucket === "") throw new CloudVolumeError("INVALID_ARGUMENT", `GCS cloudpath ${JSON.stringify(url.storageUrl)} needs a bucket: gs://<bucket>/<path>`, { url: url.storageUrl });
  return { bucket, prefix: slash < 0 ? "" : path.slice(slash + 1) };
}
