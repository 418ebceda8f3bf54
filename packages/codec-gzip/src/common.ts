import { CloudVolumeError } from "@cloudvolume/core";

/** Content-Encoding value and CloudFiles' on-disk suffix (shared/spec/precomputed.md: `.gz`). */
export const GZIP_NAME = "gzip";
export const GZIP_SUFFIX = ".gz";
export const GZIP_PACKAGE = "@cloudvolume/codec-gzip";

/**
 * CloudVolume/CloudFiles write gzip at level 9 unless told otherwise
 * (shared/spec/precomputed.md; cloudfiles.compression.gzip_compress).
 */
export const DEFAULT_GZIP_LEVEL = 9;

/** Any decoder failure, as the one error type callers check for. */
export function gzipDecodeFailed(cause: unknown, key: string | undefined, size: number): CloudVolumeError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CloudVolumeError(
    "DECODE_FAILED",
    `gzip decode of ${key ?? "a chunk"} (${size} bytes) failed: ${reason}. The object is truncated, corrupt or not gzip-compressed.`,
    key === undefined ? { cause } : { key, cause },
  );
}

/** An empty body is never a gzip stream (CloudFiles: "File contains zero bytes"). */
export function emptyInput(key: string | undefined): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `gzip decode of ${key ?? "a chunk"} failed: the object has zero bytes`, key === undefined ? {} : { key });
}

export function gzipEncodeFailed(cause: unknown): CloudVolumeError {
  return new CloudVolumeError("ENCODE_FAILED", `gzip encode failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

export function checkLevel(level: number | undefined): number {
  if (level === undefined) return DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `gzip level must be an integer from 0 to 9, got ${level}`);
  }
  return level;
}
