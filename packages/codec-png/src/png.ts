import { decode as decodePng, encode as encodePng, type DecodedPng } from "fast-png";
import { CloudVolumeError, checkDecodeOutput, checkEncodeInput, checkPictureSize, chunkDecodeFailed, chunkEncodeFailed, chunkErrorContext, deinterleave, describeChunk, encodeIntParam, interleave, viewAs, type ArrayCodec, type ChunkSpec } from "@cloudvolume/core";
import { DEFAULT_PNG_LEVEL, PNG_NAME } from "./common.js";

/**
 * The Precomputed `png` encoding (shared/spec/precomputed.md, "Image codecs"): the chunk
 * is one PNG of width x and height y*z, z slices stacked vertically, channels interleaved
 * per pixel. uint8 -> 8-bit samples, uint16 -> 16-bit samples; 1, 2, 3, 4 channels are
 * PNG's grayscale, grayscale+alpha, RGB and RGBA colour types (PNG spec §6.1).
 *
 * What CloudVolume does (cloudvolume/chunks.py, encode_png / decode_png, on pyspng =
 * libspng): encode is as2d() (the layout above) then pyspng.encode(compress_level=
 * png_level, default 9); we write the same picture. 16-bit samples are big-endian in the
 * file (PNG spec §7.1); libspng and fast-png both convert to and from host-order numbers,
 * so the values agree (test/fixtures holds libspng-written 16-bit chunks).
 * Difference: CloudVolume's decode_png reshapes the decoded (height, width, channels)
 * array straight into Fortran (x, y, z, c), which reads *interleaved* samples as if they
 * were planar: for 2-4 channels it scrambles the channels of the chunk it wrote itself
 * (the same bug as its 3-channel jpeg decode, see fixtures/pc_image_rgb_jpeg). We
 * de-interleave, which is what its encoder wrote and what Neuroglancer reads. For one
 * channel the two agree.
 */


export interface Geometry {
  width: number;
  height: number;
  channels: number;
  depth: 8 | 16;
  /** Pixels in the picture (= voxels per channel). */
  pixels: number;
  /** Decoded size in bytes. */
  bytes: number;
}

/** The picture of a chunk (checked: uint8 or uint16, 1-4 channels, PNG's size limits). */
export function pngGeometry(chunk: ChunkSpec, op: "decode" | "encode"): Geometry {
  const { dtype, channels } = chunk;
  if (dtype !== "uint8" && dtype !== "uint16") {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `png ${op} of ${describeChunk(chunk)}: the png encoding holds uint8 or uint16 voxels only; ` +
        "check the layer's data_type and the scale's encoding in info (raw suits other types)",
      chunkErrorContext(chunk),
    );
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `png ${op} of ${describeChunk(chunk)}: the png encoding holds 1 to 4 channels (gray, gray+alpha, RGB, RGBA); check num_channels in info`,
      chunkErrorContext(chunk),
    );
  }
  const [x, y, z] = chunk.shape;
  const height = y * z;
  if (![x, y, z].every((d) => Number.isInteger(d) && d > 0) || x > 0x7fffffff || height > 0x7fffffff) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `png ${op} of ${describeChunk(chunk)}: not a valid chunk shape for a PNG picture`, chunkErrorContext(chunk));
  }
  const depth = dtype === "uint8" ? 8 : 16;
  const pixels = x * height;
  return { width: x, height, channels, depth, pixels, bytes: pixels * channels * (depth / 8) };
}

/** fflate's level type (0 | 1 | ... | 9), reached through fast-png's options. */
type ZlibLevel = NonNullable<NonNullable<Parameters<typeof encodePng>[1]>["zlib"]>["level"];

const COLOUR_NAMES = ["", "gray", "gray+alpha", "RGB", "RGBA"];

function decodeFailed(chunk: ChunkSpec, what: string, cause?: unknown): CloudVolumeError {
  return chunkDecodeFailed(PNG_NAME, chunk, what, cause);
}

function checkDecoded(png: DecodedPng, g: Geometry, chunk: ChunkSpec): void {
  if (png.palette) {
    throw decodeFailed(chunk, "the file is an indexed-colour (palette) PNG; Precomputed png chunks hold the sample values themselves");
  }
  checkPictureSize(PNG_NAME, chunk, png.width, png.height);
  if (png.channels !== g.channels) {
    throw decodeFailed(
      chunk,
      `the picture has ${png.channels} channel(s) (${COLOUR_NAMES[png.channels] ?? "?"}), the layer has ${g.channels}; check num_channels in info`,
    );
  }
  if (png.depth !== g.depth) {
    throw decodeFailed(chunk, `the picture has ${png.depth}-bit samples, ${chunk.dtype} needs ${g.depth}-bit; check data_type in info`);
  }
  const expected = g.pixels * g.channels;
  const ok = g.depth === 8 ? png.data instanceof Uint8Array : png.data instanceof Uint16Array;
  if (!ok || png.data.length !== expected) {
    throw decodeFailed(chunk, `the decoder returned ${png.data.length} samples, expected ${expected}`);
  }
}

/** A Uint16Array over `bytes` (no copy) when aligned, else undefined. */
function u16View(bytes: Uint8Array): Uint16Array | undefined {
  return bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : undefined;
}

/** `png_level` from the scale (zlib level 0-9), default 9 as CloudVolume. */
export function pngLevel(chunk: ChunkSpec): number {
  return encodeIntParam(PNG_NAME, chunk, "png_level", 0, 9, DEFAULT_PNG_LEVEL);
}

export const pngCodec: ArrayCodec = {
  name: PNG_NAME,

  decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array {
    const g = pngGeometry(chunk, "decode");
    checkDecodeOutput(PNG_NAME, chunk, out, g.bytes);
    if (bytes.byteLength === 0) throw decodeFailed(chunk, "the file is empty");
    let png: DecodedPng;
    try {
      // CRCs on: they are what catches a corrupt byte inside the compressed data
      // (fast-png does not verify zlib's Adler-32), as libspng does by default.
      png = decodePng(bytes, { checkCrc: true });
    } catch (err) {
      throw decodeFailed(chunk, `not a valid PNG file (${err instanceof Error ? err.message : String(err)}); it may be truncated or not png-encoded`, err);
    }
    checkDecoded(png, g, chunk);
    const target = out ?? new Uint8Array(g.bytes);
    if (g.depth === 8) {
      deinterleave(png.data as Uint8Array, g.channels, g.channels, g.pixels, target);
    } else {
      // fast-png already turned the file's big-endian samples into numbers.
      const view = u16View(target);
      if (view) {
        deinterleave(png.data as Uint16Array, g.channels, g.channels, g.pixels, view);
      } else {
        const tmp = new Uint16Array(g.pixels * g.channels);
        deinterleave(png.data as Uint16Array, g.channels, g.channels, g.pixels, tmp);
        target.set(new Uint8Array(tmp.buffer));
      }
    }
    return target;
  },

  encode(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
    const g = pngGeometry(chunk, "encode");
    checkEncodeInput(PNG_NAME, chunk, voxels, g.bytes);
    const level = pngLevel(chunk);
    const n = g.pixels;
    let data: Uint8Array | Uint16Array;
    if (g.depth === 8) {
      // One channel: the voxels are already the picture; fast-png only reads them.
      data = g.channels === 1 ? voxels : new Uint8Array(n * g.channels);
      if (g.channels > 1) interleave(voxels, g.channels, n, g.channels, data);
    } else {
      data = new Uint16Array(n * g.channels);
      interleave(viewAs(voxels, "uint16") as Uint16Array, g.channels, n, g.channels, data);
    }
    let encoded: Uint8Array;
    try {
      encoded = encodePng({ width: g.width, height: g.height, data, depth: g.depth, channels: g.channels }, { zlib: { level: level as ZlibLevel } });
    } catch (err) {
      throw chunkEncodeFailed(PNG_NAME, chunk, err instanceof Error ? err.message : String(err), err);
    }
    // fast-png returns a view of its growable write buffer; do not keep the slack alive.
    return encoded.byteLength * 2 < encoded.buffer.byteLength ? encoded.slice() : encoded;
  },
};
