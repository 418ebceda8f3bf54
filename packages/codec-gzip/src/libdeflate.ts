/*
 * The libdeflate addon (native/deflate.cc, built at install against Debian's
 * libdeflate), loaded through @cloudvolume/native. Node entry only: the web entry never
 * imports this. Where it is missing (no libdeflate-dev at install, CLOUDVOLUME_NO_NATIVE=1)
 * gzip decodes through node:zlib, with the same bytes and the same errors' codes.
 */
import { lazyAddon } from "@cloudvolume/native";

export interface NativeDeflate {
  /** Bytes produced, or -1 when the stream is longer than `out`; throws on bad data. */
  gunzipInto(input: Uint8Array, out: Uint8Array): number;
  /** The same on libuv's thread pool. */
  gunzipAsync(input: Uint8Array, out: Uint8Array, done: (err: Error | null, produced: number) => void): void;
}

const addon = lazyAddon<NativeDeflate>(
  import.meta.url,
  "deflate",
  "install g++, make, python3 and libdeflate-dev (`apt-get install libdeflate-dev`), then run `pnpm rebuild @cloudvolume/codec-gzip`",
);
let disabled = false;

export function nativeDeflate(): NativeDeflate | undefined {
  return disabled ? undefined : addon.get();
}

/** Which inflater gzip decoding uses ("libdeflate" or "node:zlib") and why. */
export function gzipBackend(): { backend: "libdeflate" | "node:zlib"; why: string } {
  if (disabled) return { backend: "node:zlib", why: "libdeflate turned off (useLibdeflate(false))" };
  const { loaded, why } = addon.status();
  return { backend: loaded ? "libdeflate" : "node:zlib", why };
}

/** For tests and comparisons: decode through node:zlib (false) or libdeflate where built (true, the default). */
export function useLibdeflate(on: boolean): void {
  disabled = !on;
}
