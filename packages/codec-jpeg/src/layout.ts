/**
 * Picture layout of the image codecs (shared/spec/precomputed.md, "Image codecs (png, jpeg,
 * jxl) store the chunk as one 2-D picture of width x and height y*z (z slices stacked
 * vertically), channels interleaved").
 *
 * Read row-major, pixel p of that picture is p = x + X*(y + Y*z) (row y + Y*z, column x):
 * exactly the index the voxel has inside one channel's plane of the Fortran-order chunk.
 * So converting between the picture and the chunk never reorders pixels; it only
 * (de)interleaves channels: planar[c*n + p] <-> pixels[p*stride + c].
 *
 * (codec-png and codec-jxl carry the same small file; they share no package.)
 */

type Samples = Uint8Array | Uint8ClampedArray | Uint16Array;

/** Interleaved pixels (`stride` samples per pixel, the first `channels` used) -> planar. */
export function deinterleave(pixels: Samples, stride: number, channels: number, n: number, planar: Samples): void {
  if (channels === 1 && stride === 1) {
    planar.set(pixels.subarray(0, n));
    return;
  }
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let p = 0, s = c; p < n; p++, s += stride) planar[base + p] = pixels[s];
  }
}

/** Planar -> interleaved pixels with `stride` samples per pixel (extra samples are left as they are). */
export function interleave(planar: Samples, channels: number, n: number, stride: number, pixels: Samples): void {
  if (channels === 1 && stride === 1) {
    pixels.set(planar.subarray(0, n));
    return;
  }
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let p = 0, s = c; p < n; p++, s += stride) pixels[s] = planar[base + p];
  }
}
