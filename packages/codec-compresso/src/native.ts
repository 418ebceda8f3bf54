/*
 * The native addon (native/compresso.cc, built by node-gyp at install), loaded through
 * @cloudvolume/native so the package stays browser-safe. Elsewhere, when the build
 * failed, or with CLOUDVOLUME_NO_NATIVE=1, the TypeScript codec is used and
 * `compressoBackend()` says why.
 */
import { lazyAddon } from "@cloudvolume/native";

export interface NativeCompresso {
  decode(stream: Uint8Array, out: Uint8Array, sx: number, sy: number, sz: number, bytesPerVoxel: number): void;
  /** Slice z alone (sx * sy voxels) through the z index; throws where the stream cannot be read so. */
  decodeSlice(stream: Uint8Array, out: Uint8Array, sx: number, sy: number, sz: number, bytesPerVoxel: number, z: number): void;
  encode(voxels: Uint8Array, sx: number, sy: number, sz: number, bytesPerVoxel: number): Uint8Array;
}

const addon = lazyAddon<NativeCompresso>(import.meta.url, "compresso", "run `pnpm rebuild @cloudvolume/codec-compresso` with g++, make and python3 installed");

export function nativeCompresso(): NativeCompresso | undefined {
  return addon.get();
}

/** Which implementation runs and why ("native", or "typescript" with what was tried and how to fix it). */
export function compressoBackend(): { backend: "native" | "typescript"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "native" : "typescript", why };
}
