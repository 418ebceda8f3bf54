/*
 * The native addon (native/fpzip.cc, built by node-gyp at install against Debian's
 * libfpzip), loaded through @cloudvolume/native so the package stays browser-safe.
 * Decoding runs our own bounds-checked decoder (native/fpzip_decode.hpp); encoding runs
 * libfpzip, the library CloudVolume's fpzip wraps, so the bytes are the same.
 */
import { lazyAddon } from "@cloudvolume/native";

export interface NativeFpzip {
  readHeader(stream: Uint8Array): { type: "float" | "double"; precision: number; nx: number; ny: number; nz: number; nf: number };
  decode(stream: Uint8Array, out: Uint8Array, isDouble: boolean, nx: number, ny: number, nz: number, nf: number): void;
  encode(values: Uint8Array, isDouble: boolean, nx: number, ny: number, nz: number, nf: number, precision: number): Uint8Array;
}

export const FIX_ADVICE = "install g++, make, python3 and libfpzip-dev (`apt-get install libfpzip-dev`), then run `pnpm rebuild @cloudvolume/codec-fpzip`";

const addon = lazyAddon<NativeFpzip>(import.meta.url, "fpzip", FIX_ADVICE);

export function nativeFpzip(): NativeFpzip | undefined {
  return addon.get();
}

/** Which implementation runs and why ("native", or "none" with what was tried and how to fix it). */
export function fpzipBackend(): { backend: "native" | "none"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "native" : "none", why };
}
