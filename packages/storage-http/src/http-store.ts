import {
  CloudVolumeError,
  checkKey,
  isCloudVolumeError,
  resolveRange,
  type ByteRange,
  type ErrorCode,
  type GetOptions,
  type KeyValueStore,
  type StoredObject,
} from "@cloudvolume/core";

export interface HttpStoreOptions {
  /** Base URL (`https://host/path/to/layer`); keys are appended after a "/". */
  url: string;
  /** fetch to use (default globalThis.fetch): inject one for auth, proxies or tests. */
  fetch?: typeof globalThis.fetch;
  /** Extra request headers (e.g. Authorization). Never included in error messages. */
  headers?: Record<string, string>;
  /**
   * Treat 403 like 404 (default true). Public S3 and GCS buckets without list
   * permission answer 403 for objects that do not exist; CloudFiles' HTTP interface
   * treats both as missing, so fillMissing works over use_https. Set false to get
   * PERMISSION_DENIED instead.
   */
  forbiddenIsMissing?: boolean;
  /**
   * When `<key>` is missing, getObject tries `<key>.gz` and `<key>.br` (default true):
   * a layer written by CloudFiles to local disk keeps compressed chunks under those
   * names, and an ordinary web server serves them as plain files.
   */
  compressedVariants?: boolean;
}

/** Name suffixes CloudFiles uses for compressed files, and the encoding each means. */
const VARIANTS: ReadonlyArray<readonly [suffix: string, encoding: string | undefined]> = [
  ["", undefined],
  [".gz", "gzip"],
  [".br", "br"],
];

interface Fetched {
  data: Uint8Array;
  /** The response's Content-Encoding: fetch has already decoded the body when set. */
  headerEncoding?: string;
}

function checkRange(range: ByteRange, key: string, url: string): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid = "suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length);
  if (!valid) throw new CloudVolumeError("INVALID_ARGUMENT", `invalid byte range ${JSON.stringify(range)} for key ${JSON.stringify(key)}: offsets and lengths must be non-negative integers`, { key, url });
}

function isEmptyRange(range: ByteRange): boolean {
  return "suffixLength" in range ? range.suffixLength === 0 : range.length === 0;
}

/** Percent-encode each path segment: `?`, `#`, `%`, spaces and unicode stay part of the name. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

/**
 * A read-only KeyValueStore over HTTP(S) with fetch (browser-safe: no Node built-ins).
 *
 * Transfer encodings: fetch (in browsers and in Node) decodes a response with
 * `Content-Encoding: gzip|br` itself and cannot be told not to, so such bodies are
 * returned decoded with `contentEncoding` undefined, and the format layer does not
 * decode them again. CloudFiles' layers copied to a plain web server keep
 * compressed chunks as `<key>.gz` / `<key>.br` files served without Content-Encoding;
 * getObject finds them by name when `<key>` is missing and reports the encoding the
 * name means (for `.gz`, only if the body really starts with the gzip magic bytes:
 * a server that sent it with Content-Encoding has had it decoded by fetch already).
 * The suffix that answered last is tried first next time, so such a layer costs one
 * request per chunk after the first hit, not two.
 *
 * Ranges use `Range: bytes=a-b` / `bytes=-n`; a 200 to a ranged request (a server
 * that ignores Range) is sliced locally, 416 is an empty slice. Ranged reads only
 * look at `<key>` itself (shard files are never stored compressed by name).
 * 404 (and, by default, 403) is undefined; 408, 429 and 5xx and network failures
 * are UNAVAILABLE (retried by the Context); an aborted signal is ABORTED.
 */
export class HttpStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities = { write: false, list: false, rangeReads: true } as const;
  private readonly base: string;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;
  private readonly forbiddenIsMissing: boolean;
  private readonly variants: boolean;
  /** Index into VARIANTS of the suffix that answered last. */
  private preferred = 0;

  constructor(opts: HttpStoreOptions) {
    if (typeof opts?.url !== "string" || !/^https?:\/\/[^/]/i.test(opts.url)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `an HTTP store needs an http:// or https:// URL, got ${JSON.stringify(opts?.url)}`);
    }
    this.url = opts.url.replace(/\/+$/, "");
    this.base = `${this.url}/`;
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new CloudVolumeError("UNAVAILABLE", "no fetch in this runtime: pass { fetch } to the HTTP store");
    // Call through globalThis: browsers reject fetch called with another `this`.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...(opts.headers ?? {}) };
    this.forbiddenIsMissing = opts.forbiddenIsMissing ?? true;
    this.variants = opts.compressedVariants ?? true;
  }

  /** Exactly `<key>`, decoded if the server sent a Content-Encoding. */
  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    const k = this.check(key, opts);
    return (await this.fetchKey(k, key, opts.range, opts.signal))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    const k = this.check(key, opts);
    if (opts.range || !this.variants) {
      const r = await this.fetchKey(k, key, opts.range, opts.signal);
      return r && { data: r.data };
    }
    const order = [this.preferred, ...VARIANTS.keys()].filter((v, i, a) => a.indexOf(v) === i);
    for (const v of order) {
      const [suffix, encoding] = VARIANTS[v];
      const r = await this.fetchKey(k + suffix, key, undefined, opts.signal);
      if (r === undefined) continue;
      this.preferred = v;
      return { data: r.data, ...(this.encodingOf(r, encoding) ? { contentEncoding: encoding } : {}) };
    }
    return undefined;
  }

  async exists(key: string): Promise<boolean> {
    const k = this.check(key, {});
    const suffixes = this.variants ? VARIANTS.map(([s]) => s) : [""];
    for (const s of suffixes) if (await this.fetchKey(k + s, key, { offset: 0, length: 0 })) return true;
    return false;
  }

  /** Whether a body found under a compressed name is still encoded. */
  private encodingOf(r: Fetched, encoding: string | undefined): boolean {
    if (encoding === undefined || r.headerEncoding !== undefined) return false;
    if (encoding === "gzip") return r.data.byteLength >= 2 && r.data[0] === 0x1f && r.data[1] === 0x8b;
    return true;
  }

  private check(key: string, opts: GetOptions): string {
    const k = checkKey(key, this.url);
    if (k === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty key", { key, url: this.url });
    if (opts.signal?.aborted) throw new CloudVolumeError("ABORTED", `read of key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: opts.signal.reason });
    if (opts.range) checkRange(opts.range, key, this.url);
    return k;
  }

  /** GET (or HEAD, for an empty range) one name; undefined when missing. */
  private async fetchKey(name: string, key: string, range: ByteRange | undefined, signal?: AbortSignal): Promise<Fetched | undefined> {
    const headers: Record<string, string> = { ...this.headers };
    const head = range !== undefined && isEmptyRange(range);
    if (range && !head) {
      headers.Range = "suffixLength" in range ? `bytes=-${range.suffixLength}` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    }
    const target = this.base + encodeKey(name);
    let res: Response;
    try {
      res = await this.fetchFn(target, { method: head ? "HEAD" : "GET", headers, signal, redirect: "follow" });
    } catch (err) {
      throw this.fail(err, key, undefined, signal);
    }
    const status = res.status;
    if (status === 404 || status === 410 || (status === 403 && this.forbiddenIsMissing)) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (status === 416) {
      await res.body?.cancel().catch(() => undefined);
      return { data: new Uint8Array(0) };
    }
    if (status !== 200 && status !== 206) {
      const text = await res.text().catch(() => "");
      throw this.fail(undefined, key, { status, text }, signal);
    }
    const headerEncoding = res.headers.get("content-encoding") ?? undefined;
    let data: Uint8Array;
    try {
      data = head ? new Uint8Array(0) : new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw this.fail(err, key, undefined, signal);
    }
    if (range && !head && status === 200) {
      // The server ignored Range and sent the whole object: cut the slice here.
      const [s, e] = resolveRange(range, data.byteLength);
      data = data.slice(s, e);
    } else if (range && !head && status === 206 && "offset" in range) {
      const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
      if (m && Number(m[1]) !== range.offset) {
        throw new CloudVolumeError("IO_ERROR", `read of key ${JSON.stringify(key)} from ${this.url}: asked for bytes from ${range.offset}, the server sent them from ${m[1]}`, { key, url: this.url });
      }
      if (data.byteLength > range.length) data = data.slice(0, range.length);
    }
    return headerEncoding === undefined || headerEncoding === "identity" ? { data } : { data, headerEncoding };
  }

  private fail(err: unknown, key: string, http?: { status: number; text: string }, signal?: AbortSignal): CloudVolumeError {
    if (isCloudVolumeError(err)) return err;
    if (signal?.aborted || isAbort(err)) {
      return new CloudVolumeError("ABORTED", `read of key ${JSON.stringify(key)} from ${this.url} was aborted`, { key, url: this.url, cause: signal?.reason ?? err });
    }
    if (http) {
      const { status } = http;
      const detail = http.text.replace(/\s+/g, " ").trim().slice(0, 200);
      let code: ErrorCode = "IO_ERROR";
      let hint = "";
      if (status === 401 || status === 403) {
        code = "PERMISSION_DENIED";
        hint = "; the server refused access (pass headers with credentials, or check that the data is public)";
      } else if (status === 408 || status === 429 || status >= 500) code = "UNAVAILABLE";
      return new CloudVolumeError(code, `cannot read key ${JSON.stringify(key)} from ${this.url}: HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`, {
        key, url: this.url, cause: Object.assign(new Error(`HTTP ${status}`), { status }),
      });
    }
    // fetch rejects with a TypeError for network failures (refused, reset, DNS, TLS).
    const why = (err as { cause?: { code?: unknown } })?.cause?.code ?? (err as Error)?.message ?? String(err);
    return new CloudVolumeError("UNAVAILABLE", `cannot read key ${JSON.stringify(key)} from ${this.url}: ${String(why)}`, { key, url: this.url, cause: err });
  }
}
