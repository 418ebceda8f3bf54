import { checkEncodeInput, chunkDecodeFailed, chunkEncodeFailed, type ArrayCodec, type ChunkSpec } from "@cloudvolume/core";
import { lazyAddon } from "@cloudvolume/native";
import { JPEG_NAME } from "./common.js";
import { checkJpegChunk, jpegEncodeGeometry, jpegQuality } from "./jpeg.js";

/*
 * The jpeg codec on libturbojpeg (native/turbojpeg.cc), the library CloudVolume's
 * simplejpeg wraps, with its defaults: the bytes we write are CloudVolume's, and it reads
 * them as simplejpeg does. Node only (loaded through @cloudvolume/native); without the
 * addon the Node entry uses the WebAssembly codec (jpeg.ts), which decodes the same.
 */
interface NativeJpeg {
  decode(jpeg: Uint8Array, out: Uint8Array, width: number, height: number, channels: number): void;
  encode(voxels: Uint8Array, width: number, height: number, channels: number, quality: number): Uint8Array;
}

const addon = lazyAddon<NativeJpeg>(
  import.meta.url,
  "turbojpeg",
  "install g++, make, python3 and libturbojpeg0-dev (`apt-get install libturbojpeg0-dev`), then run `pnpm rebuild @cloudvolume/codec-jpeg`",
);

export function nativeJpeg(): NativeJpeg | undefined {
  return addon.get();
}

/** Which implementation the Node entry uses ("libturbojpeg" or "wasm") and why. */
export function jpegBackend(): { backend: "libturbojpeg" | "wasm"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "libturbojpeg" : "wasm", why };
}

export function createTurboJpegCodec(native: NativeJpeg): ArrayCodec {
  return {
    name: JPEG_NAME,
    // async, as the WebAssembly codec: a bad call is a rejected promise either way.
    async decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Promise<Uint8Array> {
      const g = checkJpegChunk(bytes, chunk, out);
      const target = out ?? new Uint8Array(g.pixels * g.channels);
      try {
        native.decode(bytes, target, g.width, g.height, g.channels);
      } catch (err) {
        throw chunkDecodeFailed(JPEG_NAME, chunk, (err as Error).message, err);
      }
      return target;
    },
    async encode(voxels: Uint8Array, chunk: ChunkSpec): Promise<Uint8Array> {
      const g = jpegEncodeGeometry(chunk);
      checkEncodeInput(JPEG_NAME, chunk, voxels, g.pixels * g.channels);
      const quality = jpegQuality(chunk);
      try {
        return native.encode(voxels, g.width, g.height, g.channels, quality);
      } catch (err) {
        throw chunkEncodeFailed(JPEG_NAME, chunk, (err as Error).message, err);
      }
    },
  };
}
