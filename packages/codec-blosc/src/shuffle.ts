/*
 * Blosc's filters (c-blosc 1.x, shuffle-generic.c and bitshuffle.c), applied per block.
 *
 * Byte shuffle: the i-th byte of every element together, then the next byte of every
 * element, ...; the bytes past the last whole element are copied as they are.
 *
 * Bit shuffle (bitshuffle's bshuf_trans_bit_elem): for n elements of s bytes, n a
 * multiple of 8, row 8j+k holds bit k of byte j of element 0, 1, ..., n-1, packed least
 * significant bit first. Blosc 1.x (format version 2) bit-shuffles a block only when its
 * element count is a multiple of 8 and copies it unchanged otherwise; the bytes past the
 * last whole element are copied. (Format version 3, c-blosc2, shuffles the largest
 * multiple of 8 elements and copies the rest.)
 */

export function byteShuffle(src: Uint8Array, dst: Uint8Array, typesize: number): void {
  const n = src.length;
  if (typesize <= 1) return void dst.set(src);
  const elems = Math.floor(n / typesize);
  for (let j = 0; j < typesize; j++) {
    const base = j * elems;
    for (let i = 0, p = j; i < elems; i++, p += typesize) dst[base + i] = src[p];
  }
  for (let p = elems * typesize; p < n; p++) dst[p] = src[p];
}

export function byteUnshuffle(src: Uint8Array, dst: Uint8Array, typesize: number): void {
  const n = src.length;
  if (typesize <= 1) return void dst.set(src);
  const elems = Math.floor(n / typesize);
  if (typesize === 2) {
    for (let i = 0; i < elems; i++) {
      dst[2 * i] = src[i];
      dst[2 * i + 1] = src[elems + i];
    }
  } else {
    for (let j = 0; j < typesize; j++) {
      const base = j * elems;
      for (let i = 0, p = j; i < elems; i++, p += typesize) dst[p] = src[base + i];
    }
  }
  for (let p = elems * typesize; p < n; p++) dst[p] = src[p];
}

/** How many elements of the block the bit shuffle covers (blosc format version 2 or 3). */
function bitElems(n: number, typesize: number, formatVersion: number): number {
  const elems = Math.floor(n / typesize);
  if (formatVersion >= 3) return elems - (elems % 8);
  return elems % 8 === 0 ? elems : 0;
}

export function bitShuffle(src: Uint8Array, dst: Uint8Array, typesize: number, formatVersion = 2): void {
  const n = src.length;
  const elems = bitElems(n, typesize, formatVersion);
  const rowBytes = elems >> 3;
  dst.fill(0, 0, elems * typesize);
  for (let j = 0; j < typesize; j++) {
    for (let i = 0; i < elems; i += 8) {
      // 8 elements' byte j -> one byte in each of the 8 bit rows of byte j.
      let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
      for (let e = 0; e < 8; e++) {
        const v = src[(i + e) * typesize + j];
        b0 |= (v & 1) << e;
        b1 |= ((v >> 1) & 1) << e;
        b2 |= ((v >> 2) & 1) << e;
        b3 |= ((v >> 3) & 1) << e;
        b4 |= ((v >> 4) & 1) << e;
        b5 |= ((v >> 5) & 1) << e;
        b6 |= ((v >> 6) & 1) << e;
        b7 |= ((v >> 7) & 1) << e;
      }
      const o = 8 * j * rowBytes + (i >> 3);
      dst[o] = b0;
      dst[o + rowBytes] = b1;
      dst[o + 2 * rowBytes] = b2;
      dst[o + 3 * rowBytes] = b3;
      dst[o + 4 * rowBytes] = b4;
      dst[o + 5 * rowBytes] = b5;
      dst[o + 6 * rowBytes] = b6;
      dst[o + 7 * rowBytes] = b7;
    }
  }
  for (let p = elems * typesize; p < n; p++) dst[p] = src[p];
}

export function bitUnshuffle(src: Uint8Array, dst: Uint8Array, typesize: number, formatVersion = 2): void {
  const n = src.length;
  const elems = bitElems(n, typesize, formatVersion);
  const rowBytes = elems >> 3;
  for (let j = 0; j < typesize; j++) {
    for (let i = 0; i < elems; i += 8) {
      const o = 8 * j * rowBytes + (i >> 3);
      const r0 = src[o], r1 = src[o + rowBytes], r2 = src[o + 2 * rowBytes], r3 = src[o + 3 * rowBytes];
      const r4 = src[o + 4 * rowBytes], r5 = src[o + 5 * rowBytes], r6 = src[o + 6 * rowBytes], r7 = src[o + 7 * rowBytes];
      for (let e = 0; e < 8; e++) {
        dst[(i + e) * typesize + j] =
          ((r0 >> e) & 1) | (((r1 >> e) & 1) << 1) | (((r2 >> e) & 1) << 2) | (((r3 >> e) & 1) << 3) |
          (((r4 >> e) & 1) << 4) | (((r5 >> e) & 1) << 5) | (((r6 >> e) & 1) << 6) | (((r7 >> e) & 1) << 7);
      }
    }
  }
  for (let p = elems * typesize; p < n; p++) dst[p] = src[p];
}
