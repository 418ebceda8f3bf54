/*
 * The native addon (native/zfpc.cc, built by node-gyp at install against Debian's
 * libzfp), loaded through @cloudvolume/native so the package stays browser-safe. It
 * decodes and encodes one zfp stream at a time into a strided view of the chunk.
 */
import { lazyAddon } from "@cloudvolume/native";

export interface NativeZfp {
  decodeStream(stream: Uint8Array, out: Uint8Array, type: number, dims: number[], strides: number[], offset: number): void;
  encodeStream(values: Uint8Array, type: number, dims: number[], strides: number[], offset: number, mode: number, param: number): Uint8Array;
}

export const FIX_ADVICE = "install g++, make, python3 and libzfp-dev (`apt-get install libzfp-dev`), then run `pnpm rebuild @cloudvolume/codec-zfpc`";

const addon = lazyAddon<NativeZfp>(import.meta.url, "zfpc", FIX_ADVICE);

export function nativeZfp(): NativeZfp | undefined {
  return addon.get();
}

/** Which implementation runs and why ("native", or "none" with what was tried and how to fix it). */
export function zfpcBackend(): { backend: "native" | "none"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "native" : "none", why };
}
