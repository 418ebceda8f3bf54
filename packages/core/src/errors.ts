/**
 * One error type for the whole library. Identity is checked with a brand symbol
 * from the global symbol registry, not `instanceof`, so two copies of core in one
 * bundle (or errors crossing a worker boundary after reconstruction) still agree.
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "INVALID_METADATA"
  | "INVALID_ARGUMENT"
  | "OUT_OF_BOUNDS"
  | "ALIGNMENT"
  | "UNKNOWN_CODEC"
  | "DECODE_FAILED"
  | "ENCODE_FAILED"
  | "READ_ONLY"
  | "UNSUPPORTED_SCHEME"
  /** The layer's format cannot do this operation (meshes on zarr, writes to a read-only format). */
  | "UNSUPPORTED"
  | "UNAVAILABLE"
  | "PERMISSION_DENIED"
  | "ABORTED"
  | "IO_ERROR";

const BRAND = Symbol.for("@cloudvolume/core/CloudVolumeError");

export interface ErrorContext {
  key?: string;
  url?: string;
  mip?: number;
  bbox?: string;
  cause?: unknown;
}

export class CloudVolumeError extends Error {
  readonly code: ErrorCode;
  readonly key?: string;
  readonly url?: string;
  readonly mip?: number;
  readonly bbox?: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = "CloudVolumeError";
    this.code = code;
    if (context.key !== undefined) this.key = context.key;
    if (context.url !== undefined) this.url = context.url;
    if (context.mip !== undefined) this.mip = context.mip;
    if (context.bbox !== undefined) this.bbox = context.bbox;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any CloudVolumeError, optionally of one code, whichever copy of core made it. */
export function isCloudVolumeError(err: unknown, code?: ErrorCode): err is CloudVolumeError {
  if (typeof err !== "object" || err === null || (err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as CloudVolumeError).code === code;
}
