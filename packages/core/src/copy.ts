import type { Vec3 } from "./bbox.js";

/*
 * The hot path of every cutout: copy a sub-box between two Fortran-ordered
 * (x fastest) byte buffers. Written as flat loops on purpose (DEVELOPERS.md
 * "Performance"): contiguous axes are merged first, long runs go through the
 * engine's memmove (`TypedArray#set`), short runs through 32-bit word loops
 * when everything is 4-byte aligned, and bytes only as a last resort. No
 * callback per row or voxel.
 */

/** Runs at least this long use TypedArray#set; shorter ones are cheaper as an inline loop. */
const MEMMOVE_THRESHOLD = 192;

export interface CopyBox {
  /** Source bytes and its shape in voxels (x, y, z). */
  src: Uint8Array;
  srcShape: Vec3;
  srcOrigin: Vec3;
  /** Destination bytes and its shape in voxels (x, y, z). */
  dst: Uint8Array;
  dstShape: Vec3;
  dstOrigin: Vec3;
  /** Extent of the box to copy, in voxels. */
  size: Vec3;
  /** Bytes per voxel of one channel. */
  bytesPerVoxel: number;
  /** Channels (the outermost axis of both buffers). */
  channels?: number;
}

export function copyBox(b: CopyBox): void {
  const bpv = b.bytesPerVoxel;
  const channels = b.channels ?? 1;
  const [sx, sy, sz] = b.size;
  if (sx <= 0 || sy <= 0 || sz <= 0) return;

  // Byte strides of each axis in both buffers.
  const srcY = b.srcShape[0] * bpv, srcZ = srcY * b.srcShape[1], srcC = srcZ * b.srcShape[2];
  const dstY = b.dstShape[0] * bpv, dstZ = dstY * b.dstShape[1], dstC = dstZ * b.dstShape[2];

  let srcBase = b.srcOrigin[0] * bpv + b.srcOrigin[1] * srcY + b.srcOrigin[2] * srcZ;
  let dstBase = b.dstOrigin[0] * bpv + b.dstOrigin[1] * dstY + b.dstOrigin[2] * dstZ;

  // Merge axes that are contiguous in both buffers so runs get as long as possible.
  let run = sx * bpv;
  let ny = sy, nz = sz, nc = channels;
  let sStepY = srcY, dStepY = dstY, sStepZ = srcZ, dStepZ = dstZ;
  if (sx === b.srcShape[0] && sx === b.dstShape[0]) {
    run *= sy; ny = 1;
    if (sy === b.srcShape[1] && sy === b.dstShape[1]) {
      run *= sz; nz = 1;
      if (sz === b.srcShape[2] && sz === b.dstShape[2]) { run *= nc; nc = 1; }
    }
  }

  const src = b.src, dst = b.dst;
  if (run >= MEMMOVE_THRESHOLD) {
    for (let c = 0; c < nc; c++) {
      for (let z = 0; z < nz; z++) {
        let so = srcBase + c * srcC + z * sStepZ;
        let d = dstBase + c * dstC + z * dStepZ;
        for (let y = 0; y < ny; y++) {
          dst.set(src.subarray(so, so + run), d);
          so += sStepY; d += dStepY;
        }
      }
    }
    return;
  }

  const aligned =
    ((src.byteOffset + srcBase) & 3) === 0 && ((dst.byteOffset + dstBase) & 3) === 0 &&
    (run & 3) === 0 && (sStepY & 3) === 0 && (dStepY & 3) === 0 && (sStepZ & 3) === 0 &&
    (dStepZ & 3) === 0 && (srcC & 3) === 0 && (dstC & 3) === 0 &&
    (src.byteOffset & 3) === 0 && (dst.byteOffset & 3) === 0;
  if (aligned) {
    const s32 = new Int32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
    const d32 = new Int32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2);
    copyWords(s32, d32, srcBase >> 2, dstBase >> 2, run >> 2, ny, nz, nc, sStepY >> 2, dStepY >> 2, sStepZ >> 2, dStepZ >> 2, srcC >> 2, dstC >> 2);
    return;
  }
  copyBytes(src, dst, srcBase, dstBase, run, ny, nz, nc, sStepY, dStepY, sStepZ, dStepZ, srcC, dstC);
}

function copyWords(
  s: Int32Array, d: Int32Array, sBase: number, dBase: number, run: number,
  ny: number, nz: number, nc: number, sy: number, dy: number, sz: number, dz: number, sc: number, dc: number,
): void {
  for (let c = 0; c < nc; c++) {
    for (let z = 0; z < nz; z++) {
      let so = sBase + c * sc + z * sz;
      let dO = dBase + c * dc + z * dz;
      for (let y = 0; y < ny; y++) {
        for (let i = 0; i < run; i++) d[dO + i] = s[so + i];
        so += sy; dO += dy;
      }
    }
  }
}

function copyBytes(
  s: Uint8Array, d: Uint8Array, sBase: number, dBase: number, run: number,
  ny: number, nz: number, nc: number, sy: number, dy: number, sz: number, dz: number, sc: number, dc: number,
): void {
  for (let c = 0; c < nc; c++) {
    for (let z = 0; z < nz; z++) {
      let so = sBase + c * sc + z * sz;
      let dO = dBase + c * dc + z * dz;
      for (let y = 0; y < ny; y++) {
        for (let i = 0; i < run; i++) d[dO + i] = s[so + i];
        so += sy; dO += dy;
      }
    }
  }
}

/** True when every byte of `bytes` equals the corresponding byte of a repeated `pattern`. */
export function isUniform(bytes: Uint8Array, pattern: Uint8Array): boolean {
  const n = pattern.length;
  if (n === 1) {
    const v = pattern[0];
    // Compare 32 bits at a time where alignment allows.
    if ((bytes.byteOffset & 3) === 0) {
      const words = bytes.byteLength >> 2;
      const w = new Int32Array(bytes.buffer, bytes.byteOffset, words);
      const vv = (v | (v << 8) | (v << 16) | (v << 24)) | 0;
      for (let i = 0; i < words; i++) if (w[i] !== vv) return false;
      for (let i = words << 2; i < bytes.length; i++) if (bytes[i] !== v) return false;
      return true;
    }
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== v) return false;
    return true;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pattern[i % n]) return false;
  return true;
}

/** Fill `dst` with a repeated byte pattern (one voxel's bytes). */
export function fillPattern(dst: Uint8Array, pattern: Uint8Array): void {
  const n = pattern.length;
  if (n === 0 || dst.length === 0) return;
  if (pattern.every((v) => v === pattern[0])) {
    dst.fill(pattern[0]);
    return;
  }
  dst.set(pattern.subarray(0, Math.min(n, dst.length)));
  // Doubling copyWithin: log2(n) memmoves instead of one store per voxel.
  let filled = Math.min(n, dst.length);
  while (filled < dst.length) {
    const len = Math.min(filled, dst.length - filled);
    dst.copyWithin(filled, 0, len);
    filled += len;
  }
}
