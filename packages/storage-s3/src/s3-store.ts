import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import {
  CloudVolumeError,
  checkKey,
  isCloudVolumeError,
  type ByteRange,
  type ErrorCode,
  type GetOptions,
  type KeyValueStore,
  type PutOptions,
  type StoredObject,
} from "@cloudvolume/core";
import type { S3Credentials } from "./common.js";

/**
 * The S3 key-value store on @aws-sdk/client-s3: the heavy half of the package, loaded
 * by the plugin's load() on first use.
 *
 * Retries are NOT done here: the SDK's own are switched off (maxAttempts 1) and every
 * transient failure (429, 5xx, network, timeouts, truncated bodies) becomes a
 * retryable UNAVAILABLE, so the caller's withRetry (core; the precomputed reader uses
 * the Context's policy and per-protocol limiter) is the one place that decides how
 * often and how long to back off. Two layers would multiply (4 x 3 attempts).
 */

/** put() also takes a signal here: an aborted upload leaves nothing (S3 PUT is all or nothing). */
export interface S3PutOptions extends PutOptions {
  signal?: AbortSignal;
}

export interface S3ClientSettings {
  /** undefined: AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** undefined: anonymous (unsigned) requests, for public buckets. */
  credentials?: S3Credentials;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  maxSockets?: number;
}

/** An S3Client configured as this package needs it for S3 and S3-compatible servers. */
export function createS3Client(s: S3ClientSettings): S3Client {
  // AWS SDK v3 warns once per process on Node < 22 that its future versions will need
  // 22. This package supports Node 20 (its engines), so on every CLI run the warning
  // would only be noise; AWS's documented switch turns it off, unless the user set it.
  if (typeof process !== "undefined" && process.env) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    // The SDK's default since 2025 is to add CRC32 checksums to every upload, sent as an
    // aws-chunked streaming trailer, and to validate response checksums. radosgw, MinIO
    // versions and other S3-compatible servers reject or mangle that: only when required.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // One attempt per call: the Context's retry policy does the backing off (see above).
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: s.connectionTimeoutMs ?? 10_000,
      socketTimeout: s.socketTimeoutMs ?? 30_000,
      httpAgent: { keepAlive: true, maxSockets: s.maxSockets ?? 64 },
      httpsAgent: { keepAlive: true, maxSockets: s.maxSockets ?? 64 },
    },
  };
  if (s.endpoint !== undefined) config.endpoint = s.endpoint;
  else config.followRegionRedirects = true; // a bucket in another AWS region answers 301
  if (s.credentials) {
    const { accessKeyId, secretAccessKey, sessionToken } = s.credentials;
    config.credentials = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  } else {
    // Anonymous: explicit empty credentials (never the SDK's default chain, which would
    // probe ~/.aws and the EC2 metadata service) and a signer that leaves requests unsigned.
    config.credentials = { accessKeyId: "", secretAccessKey: "" };
    config.signer = { sign: async (request) => request };
  }
  return new S3Client(config);
}

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Path inside the bucket that keys live under ("" or "layer/sub"). */
  prefix?: string;
  /** Reported as `url` and in errors; default `s3://<bucket>/<prefix>`. */
  url?: string;
  /** Where the credentials came from ("~/.cloudvolume/secrets/aws-secret.json", "anonymous"), for error messages. */
  credentialSource?: string;
  /** Strings to blank out of any message we pass on (the secret key, the session token). */
  redact?: readonly string[];
  /** Destroy the client on close(); off for clients shared between stores. */
  ownsClient?: boolean;
}

const NETWORK_CODES = new Set([
  "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN",
  "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "ESOCKETTIMEDOUT", "UND_ERR_SOCKET",
]);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function checkRange(range: ByteRange, key: string, url: string): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid = "suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length);
  if (!valid) throw new CloudVolumeError("INVALID_ARGUMENT", `invalid byte range ${JSON.stringify(range)} for key ${JSON.stringify(key)}: offsets and lengths must be non-negative integers`, { key, url });
}

/** The HTTP Range header for a non-empty range (RFC 9110 14.1.2): inclusive ends, `-N` for a suffix. */
function rangeHeader(range: ByteRange): string {
  return "suffixLength" in range ? `bytes=-${range.suffixLength}` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

function isEmptyRange(range: ByteRange | undefined): boolean {
  return range !== undefined && ("suffixLength" in range ? range.suffixLength === 0 : range.length === 0);
}

function identity(enc: string | undefined): boolean {
  return enc === undefined || enc === "" || enc === "identity" || enc === "none";
}

/**
 * One bucket (and a path in it) as a KeyValueStore. Missing keys are undefined; the
 * Content-Encoding an object was stored with comes back from getObject untouched (S3
 * does not decode it, and neither do we: the format layer does).
 */
export class S3Store implements KeyValueStore {
  readonly url: string;
  readonly bucket: string;
  readonly capabilities = { write: true, list: true, rangeReads: true } as const;
  /** "" or "layer/sub/": prepended to every key. */
  private readonly base: string;
  // #private: util.inspect and JSON.stringify of a store never reach the client (and its credentials).
  readonly #client: S3Client;
  readonly #redact: readonly string[];
  readonly #credentialSource: string;
  readonly #ownsClient: boolean;

  constructor(opts: S3StoreOptions) {
    if (!opts || !opts.client) throw new CloudVolumeError("INVALID_ARGUMENT", "S3Store needs { client, bucket }");
    if (typeof opts.bucket !== "string" || opts.bucket === "" || opts.bucket.includes("/")) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `S3Store needs a bucket name without slashes, got ${JSON.stringify(opts.bucket)}`);
    }
    this.#client = opts.client;
    this.bucket = opts.bucket;
    const prefix = checkKey(opts.prefix ?? "");
    this.base = prefix === "" ? "" : `${prefix}/`;
    this.url = opts.url ?? `s3://${opts.bucket}${prefix === "" ? "" : `/${prefix}`}`;
    this.#redact = (opts.redact ?? []).filter((s) => typeof s === "string" && s.length >= 4);
    this.#credentialSource = opts.credentialSource ?? "the configured credentials";
    this.#ownsClient = opts.ownsClient ?? false;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    return (await this.getObject(key, opts))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    const { signal, range } = opts;
    this.throwIfAborted(signal, key);
    const k = this.fullKey(key);
    if (range) checkRange(range, key, this.url);
    if (isEmptyRange(range)) {
      // No valid Range header asks for zero bytes (`bytes=-0` returns the whole object on
      // some servers): ask whether the object exists instead.
      const head = await this.head(key, k, signal);
      if (!head) return undefined;
      return identity(head.contentEncoding) ? { data: new Uint8Array(0) } : { data: new Uint8Array(0), contentEncoding: head.contentEncoding };
    }
    let res;
    try {
      res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: k, ...(range ? { Range: rangeHeader(range) } : {}) }),
        { abortSignal: signal },
      );
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 && !this.isNoSuchBucket(err)) return undefined;
      // 416: the range starts at or past the end of an object that exists.
      if (status === 416 && range) return { data: new Uint8Array(0) };
      throw this.fail(err, "read", key, signal);
    }
    let data: Uint8Array;
    try {
      if (!res.Body) throw new CloudVolumeError("UNAVAILABLE", `S3 sent no body for key ${JSON.stringify(key)} in ${this.url}`, { key, url: this.url });
      data = await res.Body.transformToByteArray();
    } catch (err) {
      throw this.fail(err, "read", key, signal);
    }
    // A connection cut mid-body that the HTTP stack did not notice: retry, never hand on a prefix.
    if (res.ContentLength !== undefined && data.byteLength !== res.ContentLength) {
      throw new CloudVolumeError("UNAVAILABLE", `S3 body of key ${JSON.stringify(key)} in ${this.url} was truncated: ${data.byteLength} of ${res.ContentLength} bytes`, { key, url: this.url });
    }
    return identity(res.ContentEncoding) ? { data } : { data, contentEncoding: res.ContentEncoding };
  }

  /**
   * One PUT: S3 makes the object visible whole or not at all, so an upload that fails
   * or is aborted midway never leaves a partial object behind (no temp-and-rename needed).
   */
  async put(key: string, data: Uint8Array, opts: S3PutOptions = {}): Promise<void> {
    const k = this.fullKey(key);
    if (!(data instanceof Uint8Array)) throw new CloudVolumeError("INVALID_ARGUMENT", `put of key ${JSON.stringify(key)}: data must be a Uint8Array`, { key, url: this.url });
    this.throwIfAborted(opts.signal, key);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: k,
          Body: data,
          ContentLength: data.byteLength,
          // CloudVolume's uploads: Content-Type per object (octet-stream for chunks, JSON
          // for info), Content-Encoding for the transfer compression, Cache-Control from cdn_cache.
          ContentType: opts.contentType ?? "application/octet-stream",
          ...(identity(opts.contentEncoding) ? {} : { ContentEncoding: opts.contentEncoding }),
          ...(opts.cacheControl ? { CacheControl: opts.cacheControl } : {}),
        }),
        { abortSignal: opts.signal },
      );
    } catch (err) {
      throw this.fail(err, "write", key, opts.signal);
    }
  }

  /** Deleting a missing key is not an error (S3 answers 204 either way). */
  async delete(key: string): Promise<void> {
    const k = this.fullKey(key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: k }));
    } catch (err) {
      if (statusOf(err) === 404 && !this.isNoSuchBucket(err)) return;
      throw this.fail(err, "delete", key);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key, this.fullKey(key))) !== undefined;
  }

  /** Keys under `prefix` (a string prefix, relative to this store), page by page (ListObjectsV2). */
  async *list(prefix: string = ""): AsyncGenerator<string> {
    let p = "";
    if (prefix !== "") {
      // checkKey drops a trailing slash, but for a prefix it matters ("a/" is not "a").
      p = checkKey(prefix, this.url);
      if (p !== "" && prefix.endsWith("/")) p += "/";
    }
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base + p, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (err) {
        throw this.fail(err, "list", prefix);
      }
      for (const obj of page.Contents ?? []) {
        if (obj.Key !== undefined && obj.Key.startsWith(this.base)) yield obj.Key.slice(this.base.length);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }

  private async head(key: string, k: string, signal?: AbortSignal): Promise<{ contentEncoding?: string } | undefined> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: k }), { abortSignal: signal });
      return { contentEncoding: res.ContentEncoding };
    } catch (err) {
      // HEAD has no body, so a missing bucket looks like a missing key here.
      if (statusOf(err) === 404) return undefined;
      throw this.fail(err, "stat", key, signal);
    }
  }

  private fullKey(key: string): string {
    const k = checkKey(key, this.url);
    if (k === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty key", { key, url: this.url });
    return this.base + k;
  }

  private isNoSuchBucket(err: unknown): boolean {
    const e = err as SdkError;
    return e?.name === "NoSuchBucket" || e?.Code === "NoSuchBucket";
  }

  private throwIfAborted(signal: AbortSignal | undefined, key: string): void {
    if (signal?.aborted) throw new CloudVolumeError("ABORTED", `S3 request for key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: signal.reason });
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of this.#redact) out = out.split(s).join("[redacted]");
    return out;
  }

  /**
   * An SDK error as a CloudVolumeError. The SDK error is NOT kept as `cause`: it carries
   * the raw response and would be printed whole by util.inspect. The cause is a plain
   * Error with the S3 code, status and request id, its message scrubbed of secrets.
   */
  private fail(err: unknown, op: string, key: string, signal?: AbortSignal): CloudVolumeError {
    if (isCloudVolumeError(err)) return err;
    const e = (err ?? {}) as SdkError;
    const where = `${op} of key ${JSON.stringify(key)} in ${this.url}`;
    if (signal?.aborted || e.name === "AbortError") {
      return new CloudVolumeError("ABORTED", `S3 ${where} was aborted`, { key, url: this.url, cause: signal?.reason });
    }
    const status = statusOf(err);
    const s3code = e.Code ?? (e.name && e.name !== "Error" && e.name !== "UnknownError" ? e.name : undefined) ?? e.code;
    const sdkMessage = this.scrub(String(e.message ?? err));
    const cause = Object.assign(new Error(sdkMessage), {
      name: s3code ?? "S3Error",
      ...(status !== undefined ? { status } : {}),
      ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
    });
    const detail = [status, s3code].filter((x) => x !== undefined).join(" ");
    const make = (code: ErrorCode, what: string) =>
      new CloudVolumeError(code, `S3 ${where} failed${detail ? ` (${detail})` : ""}: ${what}`, { key, url: this.url, cause });
    if (status === 401 || status === 403) {
      return make("PERMISSION_DENIED", `access denied; check ${this.#credentialSource} and the bucket's policy`);
    }
    if (status === 404) {
      return make("NOT_FOUND", this.isNoSuchBucket(err) ? `bucket "${this.bucket}" does not exist` : "not found");
    }
    // S3 sends its idle-connection RequestTimeout as a 400: transient like a 408.
    if (status === 408 || status === 429 || (status !== undefined && status >= 500) || s3code === "RequestTimeout") {
      return make("UNAVAILABLE", "the server is busy or failing; retry later");
    }
    if (status === 400) return make("INVALID_ARGUMENT", `the server refused the request: ${sdkMessage}`);
    if (status === undefined) {
      const errno = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
      if (e.name === "TimeoutError" || (errno !== undefined && NETWORK_CODES.has(errno)) || /socket hang up|aborted|ECONNRESET|premature close/i.test(sdkMessage)) {
        return make("UNAVAILABLE", `network error: ${sdkMessage}`);
      }
    }
    return make("IO_ERROR", sdkMessage);
  }
}
