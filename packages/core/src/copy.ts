import type { Vec3 } from "./bbox.js";

/*
 * The hot path of every cutout: copy a sub-box between two Fortran-ordered
 * (x fastest) byte buffers. Written as flat loops on purpose (DEVELOPERS.md
 * "Performance"): contiguous axes are merged first, long runs go through the
 * engine's memmove (`TypedArray#set`), shorter runs through unrolled 8-byte
 *  (else 4-byte) word loops when every offset allows, and misaligned rows as a last
 * resort (unaligned 4-byte DataView moves). No callback per row or voxel.
 */

/** Runs at least this long use TypedArray#set; shorter ones are cheaper as an inline loop. */
const MEMMOVE_THRESHOLD = 1024;

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

  // Widest word that every offset and stride is a multiple of (in both buffers).
  const bits = src.byteOffset | dst.byteOffset | srcBase | dstBase | run | sStepY | dStepY | sStepZ | dStepZ | srcC | dstC;
  if ((bits & 7) === 0 && F64_COPIES_EXACT) {
    const s = new Float64Array(src.buffer, src.byteOffset, src.byteLength >> 3);
    const d = new Float64Array(dst.buffer, dst.byteOffset, dst.byteLength >> 3);
    for (let c = 0; c < nc; c++) for (let z = 0; z < nz; z++) {
      copyRowsF64(s, d, (srcBase + c * srcC + z * sStepZ) >> 3, (dstBase + c * dstC + z * dStepZ) >> 3, run >> 3, ny, sStepY >> 3, dStepY >> 3);
    }
  } else if ((bits & 3) === 0) {
    const s = new Int32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
    const d = new Int32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2);
    for (let c = 0; c < nc; c++) for (let z = 0; z < nz; z++) {
      copyRowsI32(s, d, (srcBase + c * srcC + z * sStepZ) >> 2, (dstBase + c * dstC + z * dStepZ) >> 2, run >> 2, ny, sStepY >> 2, dStepY >> 2);
    }
  } else {
    // Misaligned (e.g. uint8 boxes at odd x): unaligned 4-byte DataView accesses.
    const s = new DataView(src.buffer, src.byteOffset, src.byteLength);
    const d = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    for (let c = 0; c < nc; c++) for (let z = 0; z < nz; z++) {
      copyRowsUnaligned(s, d, src, dst, srcBase + c * srcC + z * sStepZ, dstBase + c * dstC + z * dStepZ, run, ny, sStepY, dStepY);
    }
  }
}

/*
 * Row copiers: `ny` rows of `run` words, unrolled by 8 (measured on Node 20:
 * a 64^3 -> 512x512x64 assembly runs ~4.5-5 GB/s with 8-byte words unrolled
 * by 8, ~2.3 GB/s with 4-byte words one at a time, and ~0.7-2.4 GB/s with a
 * TypedArray#set of a fresh subarray per row, whose allocation dominates).
 * Three copies of one loop, each monomorphic in its array type on purpose.
 */
function copyRowsF64(s: Float64Array, d: Float64Array, so: number, dO: number, run: number, ny: number, sy: number, dy: number): void {
  if (run >= 32) return copyLongRowsF64(s, d, so, dO, run, ny, sy, dy);
  // Two rows per pass: short rows (a 64-wide uint8 chunk row is 8 words) are
  // dominated by loop overhead, and pairing them measured ~20% faster.
  const end8 = run - 7;
  let y = 0;
  for (; y + 1 < ny; y += 2) {
    const so2 = so + sy, dO2 = dO + dy;
    let i = 0;
    for (; i < end8; i += 8) {
      const a = so + i, b = dO + i, a2 = so2 + i, b2 = dO2 + i;
      d[b] = s[a]; d[b + 1] = s[a + 1]; d[b + 2] = s[a + 2]; d[b + 3] = s[a + 3];
      d[b + 4] = s[a + 4]; d[b + 5] = s[a + 5]; d[b + 6] = s[a + 6]; d[b + 7] = s[a + 7];
      d[b2] = s[a2]; d[b2 + 1] = s[a2 + 1]; d[b2 + 2] = s[a2 + 2]; d[b2 + 3] = s[a2 + 3];
      d[b2 + 4] = s[a2 + 4]; d[b2 + 5] = s[a2 + 5]; d[b2 + 6] = s[a2 + 6]; d[b2 + 7] = s[a2 + 7];
    }
    for (; i < run; i++) { d[dO + i] = s[so + i]; d[dO2 + i] = s[so2 + i]; }
    so += 2 * sy; dO += 2 * dy;
  }
  if (y < ny) for (let i = 0; i < run; i++) d[dO + i] = s[so + i];
}

/** Long rows (a 64-wide uint64 row is 64 words): unrolled by 16, one row at a time (measured ~10% faster than by 8). */
function copyLongRowsF64(s: Float64Array, d: Float64Array, so: number, dO: number, run: number, ny: number, sy: number, dy: number): void {
  const end16 = run - 15;
  for (let y = 0; y < ny; y++) {
    let i = 0;
    for (; i < end16; i += 16) {
      const a = so + i, b = dO + i;
      d[b] = s[a]; d[b + 1] = s[a + 1]; d[b + 2] = s[a + 2]; d[b + 3] = s[a + 3];
      d[b + 4] = s[a + 4]; d[b + 5] = s[a + 5]; d[b + 6] = s[a + 6]; d[b + 7] = s[a + 7];
      d[b + 8] = s[a + 8]; d[b + 9] = s[a + 9]; d[b + 10] = s[a + 10]; d[b + 11] = s[a + 11];
      d[b + 12] = s[a + 12]; d[b + 13] = s[a + 13]; d[b + 14] = s[a + 14]; d[b + 15] = s[a + 15];
    }
    for (; i < run; i++) d[dO + i] = s[so + i];
    so += sy; dO += dy;
  }
}

function copyRowsI32(s: Int32Array, d: Int32Array, so: number, dO: number, run: number, ny: number, sy: number, dy: number): void {
  const end8 = run - 7;
  for (let y = 0; y < ny; y++) {
    let i = 0;
    for (; i < end8; i += 8) {
      const a = so + i, b = dO + i;
      d[b] = s[a]; d[b + 1] = s[a + 1]; d[b + 2] = s[a + 2]; d[b + 3] = s[a + 3];
      d[b + 4] = s[a + 4]; d[b + 5] = s[a + 5]; d[b + 6] = s[a + 6]; d[b + 7] = s[a + 7];
    }
    for (; i < run; i++) d[dO + i] = s[so + i];
    so += sy; dO += dy;
  }
}

/** Byte rows at any alignment: two unaligned int32 moves per 8 bytes (~2x a byte loop), bytes for the tail. */
function copyRowsUnaligned(s: DataView, d: DataView, s8: Uint8Array, d8: Uint8Array, so: number, dO: number, run: number, ny: number, sy: number, dy: number): void {
  const end8 = run - 7;
  for (let y = 0; y < ny; y++) {
    let i = 0;
    for (; i < end8; i += 8) {
      d.setInt32(dO + i, s.getInt32(so + i, true), true);
      d.setInt32(dO + i + 4, s.getInt32(so + i + 4, true), true);
    }
    for (; i < run; i++) d8[dO + i] = s8[so + i];
    so += sy; dO += dy;
  }
}

/**
 * Float64Array copies move 8 bytes per element, but only if the engine keeps NaN
 * payloads intact: uint64 labels such as 2^64-1 are NaN bit patterns. V8 does;
 * NaN-boxing engines (SpiderMonkey, JavaScriptCore) may canonicalise NaNs when an
 * element passes through a JS value. Probe once through the very copier used on
 * the hot path, and fall back to 4-byte words where payloads change.
 */
const F64_COPIES_EXACT: boolean = (() => {
  const patterns = [0xffffffffn, 0xfff80000n, 0x7ff00000n, 0x7ff40000n, 0xfff00000n];
  const src32 = new Uint32Array(patterns.length * 2 * 8);
  for (let i = 0; i < src32.length; i += 2) {
    src32[i] = 0x00000001 + i; // low word: a non-zero payload
    src32[i + 1] = Number(patterns[(i >> 1) % patterns.length]);
  }
  const s = new Float64Array(src32.buffer);
  const d = new Float64Array(s.length);
  for (let k = 0; k < 3; k++) copyRowsF64(s, d, 0, 0, s.length, 1, 0, 0);
  const out32 = new Uint32Array(d.buffer);
  for (let i = 0; i < src32.length; i++) if (out32[i] !== src32[i]) return false;
  return true;
})();

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
