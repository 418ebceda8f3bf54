import type { ChunkSpec } from "./codec.js";
import { chunkDecodeFailed } from "./codec-helpers.js";

/**
 * Picture layout of the image codecs (shared/spec/precomputed.md, "Image codecs (png, jpeg,
 * jxl) store the chunk as one 2-D picture of width x and height y*z (z slices stacked
 * vertically), channels interleaved").
 *
 * Read row-major, pixel p of that picture is p = x + X*(y + Y*z) (row y + Y*z, column x):
 * exactly the index the voxel has inside one channel's plane of the Fortran-order chunk.
 * So converting between the picture and the chunk never reorders pixels; it only
 * (de)interleaves channels: planar[c*n + p] <-> pixels[p*stride + c].
 */

/**
 * Sample arrays the image codecs hand over: 8-bit (plain or clamped, as canvas-style APIs
 * return) or 16-bit. Source and destination of one call hold samples of the same width.
 */
export type PictureSamples = Uint8Array | Uint8ClampedArray | Uint16Array;

/**
 * Clamped 8-bit arrays are read and written through a plain Uint8Array view (the same
 * bytes, and the values are 0-255 either way), so the loops below only ever meet two
 * element kinds and V8 keeps them fast (measured on 64^3 x 3 chunks: a third kind made
 * the 8-bit loops ~15% slower).
 */
function plain(a: PictureSamples): Uint8Array | Uint16Array {
  return a instanceof Uint8ClampedArray ? new Uint8Array(a.buffer, a.byteOffset, a.length) : a;
}

/**
 * Interleaved pixels -> planar (Fortran x, y, z, c) samples. `pixels` holds `stride`
 * samples per pixel of which the first `channels` are copied (stride > channels skips
 * e.g. the alpha of an RGBA decoder's output); `planar` receives `channels` planes of
 * `n` samples each. No bounds checks: the caller sizes both arrays.
 */
export function deinterleave(pixels: PictureSamples, stride: number, channels: number, n: number, planar: PictureSamples): void {
  if (channels === 1 && stride === 1) {
    planar.set(pixels.subarray(0, n));
    return;
  }
  pixels = plain(pixels);
  planar = plain(planar);
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let p = 0, s = c; p < n; p++, s += stride) planar[base + p] = pixels[s];
  }
}

/**
 * Planar (Fortran x, y, z, c) samples -> interleaved pixels with `stride` samples per
 * pixel, the first `channels` of each written (extra samples are left as they are).
 * The inverse of `deinterleave`.
 */
export function interleave(planar: PictureSamples, channels: number, n: number, stride: number, pixels: PictureSamples): void {
  if (channels === 1 && stride === 1) {
    pixels.set(planar.subarray(0, n));
    return;
  }
  planar = plain(planar);
  pixels = plain(pixels);
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let p = 0, s = c; p < n; p++, s += stride) pixels[s] = planar[base + p];
  }
}

/**
 * Throws DECODE_FAILED (as `chunkDecodeFailed(codec, ...)`) unless a decoded picture is
 * `width` x `height` = the chunk's x by y*z, the layout above.
 */
export function checkPictureSize(codec: string, chunk: ChunkSpec, width: number, height: number): void {
  const [x, y, z] = chunk.shape;
  if (width !== x || height !== y * z) {
    throw chunkDecodeFailed(
      codec,
      chunk,
      `the picture is ${width}x${height} pixels, the chunk needs ${x}x${y * z} (width x, height y*z); ` +
        "the file belongs to another chunk or the scale's chunk size in info is wrong",
    );
  }
}
