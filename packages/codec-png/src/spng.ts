import { checkDecodeOutput, checkEncodeInput, chunkDecodeFailed, chunkEncodeFailed, type ArrayCodec, type ChunkSpec } from "@cloudvolume/core";
import { lazyAddon } from "@cloudvolume/native";
import { PNG_NAME } from "./common.js";
import { pngCodec as fastPngCodec, pngGeometry, pngLevel } from "./png.js";

/*
 * The png codec on libspng (native/spng.cc), the library CloudVolume's pyspng wraps,
 * called as pyspng calls it: the files we write are CloudVolume's. Node only (loaded
 * through @cloudvolume/native); without the addon the Node entry uses fast-png (png.ts).
 * A picture that is not the chunk's (palette, another depth or colour type) or a file that
 * does not end with IEND goes to fast-png's decoder, whose errors say what is wrong.
 */
interface NativePng {
  decode(png: Uint8Array, out: Uint8Array, width: number, height: number, channels: number, depth: number): void;
  encode(voxels: Uint8Array, width: number, height: number, channels: number, depth: number, level: number): Uint8Array;
}

const addon = lazyAddon<NativePng>(
  import.meta.url,
  "spng",
  "install g++, make, python3 and libspng-dev (`apt-get install libspng-dev`), then run `pnpm rebuild @cloudvolume/codec-png`",
);

export function nativePng(): NativePng | undefined {
  return addon.get();
}

/** Which implementation the Node entry uses ("libspng" or "fast-png") and why. */
export function pngBackend(): { backend: "libspng" | "fast-png"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "libspng" : "fast-png", why };
}

export function createSpngCodec(native: NativePng): ArrayCodec {
  return {
    name: PNG_NAME,
    decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array | Promise<Uint8Array> {
      const g = pngGeometry(chunk, "decode");
      checkDecodeOutput(PNG_NAME, chunk, out, g.bytes);
      if (bytes.byteLength === 0) throw chunkDecodeFailed(PNG_NAME, chunk, "the file is empty");
      const target = out ?? new Uint8Array(g.bytes);
      try {
        native.decode(bytes, target, g.width, g.height, g.channels, g.depth);
      } catch (err) {
        if ((err as Error).message === "MISMATCH") return fastPngCodec.decode(bytes, chunk, out);
        throw chunkDecodeFailed(PNG_NAME, chunk, `${(err as Error).message}; the file may be truncated or not png-encoded`, err);
      }
      return target;
    },
    encode(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
      const g = pngGeometry(chunk, "encode");
      checkEncodeInput(PNG_NAME, chunk, voxels, g.bytes);
      const level = pngLevel(chunk);
      try {
        return native.encode(voxels, g.width, g.height, g.channels, g.depth, level);
      } catch (err) {
        throw chunkEncodeFailed(PNG_NAME, chunk, (err as Error).message, err);
      }
    },
  };
}
