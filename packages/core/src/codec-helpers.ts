import type { ChunkSpec } from "./codec.js";
import { CloudVolumeError, type ErrorContext } from "./errors.js";

/**
 * Helpers for array codecs: one wording for "which chunk", one shape for the errors a
 * codec raises about it (so every codec's messages name the chunk alike), and reading
 * an encoding parameter from the scale.
 */

/** The chunk as error messages name it: `<key> (<x>x<y>x<z> voxels, <c> channel(s) of <dtype>)`. */
export function describeChunk(chunk: ChunkSpec): string {
  return `${chunk.key ?? "(no key)"} (${chunk.shape.join("x")} voxels, ${chunk.channels} channel(s) of ${chunk.dtype})`;
}

/** The ErrorContext of an error about `chunk`: its key (when it has one) and the cause (when given). */
export function chunkErrorContext(chunk: ChunkSpec, cause?: unknown): ErrorContext {
  const ctx: ErrorContext = {};
  if (chunk.key !== undefined) ctx.key = chunk.key;
  if (cause !== undefined) ctx.cause = cause;
  return ctx;
}

/** DECODE_FAILED for `chunk`: `<codec> chunk <describeChunk>: <what>`, with the chunk's key and the cause. */
export function chunkDecodeFailed(codec: string, chunk: ChunkSpec, what: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `${codec} chunk ${describeChunk(chunk)}: ${what}`, chunkErrorContext(chunk, cause));
}

/** ENCODE_FAILED for `chunk`: `<codec> encode of <describeChunk> failed: <why>`, with the chunk's key and the cause. */
export function chunkEncodeFailed(codec: string, chunk: ChunkSpec, why: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("ENCODE_FAILED", `${codec} encode of ${describeChunk(chunk)} failed: ${why}`, chunkErrorContext(chunk, cause));
}

/** Throws INVALID_ARGUMENT when the caller's `out` buffer (if given) does not have exactly the `bytes` the decoded chunk needs. */
export function checkDecodeOutput(codec: string, chunk: ChunkSpec, out: Uint8Array | undefined, bytes: number): void {
  if (out && out.byteLength !== bytes) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${codec} decode: output buffer has ${out.byteLength} bytes, chunk ${describeChunk(chunk)} needs ${bytes}`, chunkErrorContext(chunk));
  }
}

/** Throws INVALID_ARGUMENT unless the voxels handed to an encoder are exactly the `bytes` the chunk holds. */
export function checkEncodeInput(codec: string, chunk: ChunkSpec, voxels: Uint8Array, bytes: number): void {
  if (voxels.byteLength !== bytes) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${codec} encode of ${describeChunk(chunk)}: got ${voxels.byteLength} bytes of voxels, expected ${bytes}`, chunkErrorContext(chunk));
  }
}

/**
 * An integer encoding parameter from the scale (`chunk.params[name]`, e.g. png_level):
 * `fallback` when absent (undefined or null), else it must be an integer in [lo, hi] or
 * this throws INVALID_ARGUMENT naming the codec, the chunk and the allowed range.
 */
export function encodeIntParam(codec: string, chunk: ChunkSpec, name: string, lo: number, hi: number, fallback: number): number {
  const v = chunk.params?.[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `${codec} encode of ${describeChunk(chunk)}: ${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`,
      chunkErrorContext(chunk),
    );
  }
  return v;
}
