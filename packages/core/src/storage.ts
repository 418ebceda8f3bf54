import { CloudVolumeError } from "./errors.js";

export type ByteRange = { offset: number; length: number } | { suffixLength: number };

export interface PutOptions {
  /** Transfer encoding of `data` (gzip, br, ...). File stores turn it into a name suffix. */
  contentEncoding?: string;
  contentType?: string;
  cacheControl?: string;
}

export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
}

/** A stored object with the transfer encoding it was found under. */
export interface StoredObject {
  data: Uint8Array;
  /** e.g. "gzip" when a file store found `<key>.gz`, or the HTTP Content-Encoding. */
  contentEncoding?: string;
}

/**
 * Bytes by key. A missing key is `undefined`, never an exception (zarrita's
 * contract): callers decide whether absence is an error (fillMissing).
 */
export interface KeyValueStore {
  readonly url: string;
  readonly capabilities: { readonly write: boolean; readonly list: boolean; readonly rangeReads: boolean };
  get(key: string, opts?: GetOptions): Promise<Uint8Array | undefined>;
  /** Like get, but also reports the transfer encoding the object is stored under (not yet decoded). */
  getObject?(key: string, opts?: GetOptions): Promise<StoredObject | undefined>;
  put?(key: string, data: Uint8Array, opts?: PutOptions): Promise<void>;
  delete?(key: string): Promise<void>;
  exists?(key: string): Promise<boolean>;
  /** Keys below `prefix` (relative to the store root), in no promised order. */
  list?(prefix: string): AsyncIterable<string>;
  close?(): Promise<void>;
}

/**
 * Normalise and check a key: forward slashes, no empty, `.` or `..` segments,
 * no leading slash. No key may escape a store's root (DEVELOPERS.md "Security").
 */
export function checkKey(key: string, storeUrl?: string): string {
  if (typeof key !== "string") throw new CloudVolumeError("INVALID_ARGUMENT", "key must be a string", { url: storeUrl });
  const parts = key.split("/");
  for (const p of parts) {
    if (p === ".." || p === "." || p.includes("\\") || p.includes("\0")) {
      throw new CloudVolumeError("PERMISSION_DENIED", `key ${JSON.stringify(key)} would escape the storage root`, { key, url: storeUrl });
    }
  }
  if (key.startsWith("/")) {
    throw new CloudVolumeError("PERMISSION_DENIED", `key ${JSON.stringify(key)} must be relative to the storage root`, { key, url: storeUrl });
  }
  return parts.filter((p) => p !== "").join("/");
}

/** Join path segments with single slashes. */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
}

/** Turn `range` into [start, end) for an object of `size` bytes. */
export function resolveRange(range: ByteRange, size: number): [number, number] {
  const count = (v: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `byte range ${what} must be a non-negative integer, got ${v}`);
  };
  if ("suffixLength" in range) {
    count(range.suffixLength, "suffixLength");
    return [Math.max(0, size - range.suffixLength), size];
  }
  count(range.offset, "offset");
  count(range.length, "length");
  const start = Math.min(range.offset, size);
  return [start, Math.min(size, start + range.length)];
}
