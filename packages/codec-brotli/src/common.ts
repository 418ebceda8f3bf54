import { CloudVolumeError } from "@cloudvolume/core";

/** Content-Encoding value and CloudFiles' on-disk suffix (shared/spec/precomputed.md: `.br`). */
export const BROTLI_NAME = "br";
export const BROTLI_SUFFIX = ".br";
export const BROTLI_PACKAGE = "@cloudvolume/codec-brotli";

/**
 * CloudFiles' default brotli quality (cloudfiles/compression.py, brotli_compress:
 * "5/6 are good balance between compression speed and compression rate"), so files we
 * write match what CloudVolume writes. Quality runs 0-11 (RFC 7932 leaves it to the encoder).
 */
export const DEFAULT_BROTLI_QUALITY = 5;

/** Which decoder an entry uses: node:zlib, a native brotli stream format, or the pure-JS fallback. */
export type BrotliBackend = "node:zlib" | "native:brotli" | "native:br" | "brotli.js";

export function brotliDecodeFailed(cause: unknown, key: string | undefined, size: number, reason?: string): CloudVolumeError {
  const why = reason ?? (cause instanceof Error ? cause.message : String(cause));
  return new CloudVolumeError(
    "DECODE_FAILED",
    `brotli decode of ${key ?? "a chunk"} (${size} bytes) failed: ${why}. The object is truncated, corrupt or not brotli-compressed.`,
    { ...(key === undefined ? {} : { key }), ...(cause === undefined ? {} : { cause }) },
  );
}

/** An empty body is never a brotli stream (CloudFiles: "File contains zero bytes"). */
export function emptyInput(key: string | undefined): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `brotli decode of ${key ?? "a chunk"} failed: the object has zero bytes`, key === undefined ? {} : { key });
}

export function brotliEncodeFailed(cause: unknown): CloudVolumeError {
  return new CloudVolumeError("ENCODE_FAILED", `brotli encode failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

export function checkQuality(level: number | undefined): number {
  if (level === undefined) return DEFAULT_BROTLI_QUALITY;
  if (!Number.isInteger(level) || level < 0 || level > 11) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `brotli quality (level) must be an integer from 0 to 11, got ${level}`);
  }
  return level;
}
