import { CloudVolumeError } from "@cloudvolume/core";
import { GZIP_PACKAGE } from "./common.js";

/**
 * zlib streams (RFC 1950: a 2-byte header, deflate data, an Adler-32 trailer), the
 * `zlib` compressor of zarr and n5 (numcodecs' Zlib writes them with zlib.compress).
 * Not a transfer compression: Precomputed never stores it, so its suffix exists only
 * for the ByteCodec contract.
 */
export const ZLIB_NAME = "zlib";
export const ZLIB_SUFFIX = ".zz";
export const ZLIB_PACKAGE = GZIP_PACKAGE;
/** zlib's own default (Z_DEFAULT_COMPRESSION is level 6); zarr and n5 pass theirs in params.level. */
export const DEFAULT_ZLIB_LEVEL = 6;

export function zlibDecodeFailed(cause: unknown, key: string | undefined, size: number): CloudVolumeError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CloudVolumeError(
    "DECODE_FAILED",
    `zlib decode of ${key ?? "a chunk"} (${size} bytes) failed: ${reason}. The object is truncated, corrupt or not a zlib stream.`,
    key === undefined ? { cause } : { key, cause },
  );
}

export function zlibEmptyInput(key: string | undefined): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `zlib decode of ${key ?? "a chunk"} failed: the object has zero bytes`, key === undefined ? {} : { key });
}

export function zlibEncodeFailed(cause: unknown): CloudVolumeError {
  return new CloudVolumeError("ENCODE_FAILED", `zlib encode failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/** The level from `level`, else a codec configuration's `level` (numcodecs allows -1 = default, 0..9). */
export function zlibLevel(level: unknown): number {
  if (level === undefined || level === null) return DEFAULT_ZLIB_LEVEL;
  if (typeof level !== "number" || !Number.isInteger(level) || level < -1 || level > 9) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `zlib level must be an integer from -1 to 9, got ${JSON.stringify(level)}`);
  }
  return level === -1 ? DEFAULT_ZLIB_LEVEL : level;
}

/** RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7, and the header is a multiple of 31. */
export function looksLikeZlib(b: Uint8Array): boolean {
  return b.byteLength >= 2 && (b[0] & 0x0f) === 8 && b[0] >> 4 <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}
