import { CloudVolumeError } from "./errors.js";

/** A parsed cloudpath `[format://]protocol://path`. */
export interface ParsedUrl {
  /** Data format; defaults to "precomputed". */
  format: string;
  /** Storage protocol ("file", "mem", "gs", "s3", "http", "https", ...). */
  protocol: string;
  /** Everything after `protocol://` (for file:, an absolute or relative path). */
  path: string;
  /** `protocol://path` without the format prefix. */
  storageUrl: string;
  /** The cloudpath as given (trimmed), when it came through parseUrl. */
  input?: string;
}

/** Formats we know by name, so `zarr://s3://...` parses as format + protocol. */
export const KNOWN_FORMATS = ["precomputed", "graphene", "zarr", "zarr2", "zarr3", "n5", "boss"] as const;

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The cloudpath of a layer of `format` at `storageUrl`; the default format needs no prefix. */
export function formatUrl(format: string, storageUrl: string): string {
  return format === "precomputed" ? storageUrl : `${format}://${storageUrl}`;
}

/**
 * Parse a cloudpath. A bare path (no `scheme://`) is a local directory. The
 * format prefix is recognised for known formats (and, given `protocols`, for any scheme
 * that is no storage protocol and is followed by another: `npychunks://file:///x`), so
 * `gs://b/p` is storage.
 */
export function parseUrl(url: string, opts: { formats?: readonly string[]; protocols?: readonly string[] } = {}): ParsedUrl {
  if (typeof url !== "string" || url.trim() === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty cloudpath");
  const formats = opts.formats ?? KNOWN_FORMATS;
  let rest = url.trim();
  let format = "precomputed";
  const first = SCHEME.exec(rest);
  // Given the storage protocols there are (Context.parse does), `name://protocol://...` with
  // a name that is no protocol is a format prefix even when no plugin knows the format, so
  // the error names a missing *format* (and how to add one). A protocol may wrap another
  // URL (`faulty://file://...`), so a known protocol never counts as a format.
  const prefixed = first !== null && opts.protocols !== undefined && !opts.protocols.includes(first[1].toLowerCase()) &&
    SCHEME.test(rest.slice(first[0].length));
  if (first && (formats.includes(first[1].toLowerCase()) || prefixed)) {
    format = first[1].toLowerCase();
    rest = rest.slice(first[0].length);
    if (rest.trim() === "") throw new CloudVolumeError("INVALID_ARGUMENT", `cloudpath ${JSON.stringify(url)} names a format but no location`, { url });
  }
  const second = SCHEME.exec(rest);
  if (!second) {
    // No protocol: a local path (CloudVolume treats bare paths as file://).
    if (rest.includes("://")) throw new CloudVolumeError("UNSUPPORTED_SCHEME", `cannot parse cloudpath ${JSON.stringify(url)}`, { url });
    return { format, protocol: "file", path: rest, storageUrl: `file://${rest}`, input: url.trim() };
  }
  const protocol = second[1].toLowerCase();
  const path = rest.slice(second[0].length);
  if (formats.includes(protocol)) {
    throw new CloudVolumeError("UNSUPPORTED_SCHEME", `cloudpath ${JSON.stringify(url)} names format "${protocol}" twice or without a storage protocol`, { url });
  }
  return { format, protocol, path, storageUrl: `${protocol}://${path}`, input: url.trim() };
}
