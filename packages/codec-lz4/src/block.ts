/*
 * The LZ4 block format (lz4/doc/lz4_Block_format.md), decoded strictly: every length and
 * offset is checked against the input and the output, so a truncated or corrupt block
 * throws (Lz4FormatError) instead of reading past its end or writing garbage. Used by
 * the numcodecs framing here and by blosc's lz4 / lz4hc streams (@cloudvolume/codec-blosc).
 *
 * A sequence is: a token (4 bits literal length, 4 bits match length - 4), literal-length
 * extension bytes (when 15: add bytes while they are 255), the literals, a 2-byte
 * little-endian offset (1..65535, never past the start of the output), match-length
 * extension bytes. The last sequence has literals only and ends the block.
 */

export class Lz4FormatError extends Error {}

/**
 * Decode one LZ4 block from `src` into `dst`. Returns the number of bytes written; the
 * caller checks it against the size it expects. Throws Lz4FormatError on malformed input
 * or when the block decodes to more than `dst` holds.
 */
export function lz4DecodeBlock(src: Uint8Array, dst: Uint8Array): number {
  const iend = src.length;
  const oend = dst.length;
  let ip = 0;
  let op = 0;
  if (iend === 0) throw new Lz4FormatError("empty LZ4 block");
  for (;;) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= iend) throw new Lz4FormatError(`literal length runs past the end of the block (at byte ${ip})`);
        b = src[ip++];
        lit += b;
      } while (b === 255);
    }
    if (lit > 0) {
      if (ip + lit > iend) throw new Lz4FormatError(`${lit} literals at byte ${ip} run past the end of the ${iend}-byte block (truncated?)`);
      if (op + lit > oend) throw new Lz4FormatError(`the block decodes to more than the expected ${oend} bytes`);
      if (lit < 32) {
        for (let i = 0; i < lit; i++) dst[op + i] = src[ip + i];
      } else {
        dst.set(src.subarray(ip, ip + lit), op);
      }
      ip += lit;
      op += lit;
    }
    if (ip === iend) return op; // the last sequence: literals only
    if (ip + 2 > iend) throw new Lz4FormatError(`match offset at byte ${ip} runs past the end of the block (truncated?)`);
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4FormatError(`invalid match offset ${offset} at output byte ${op}`);
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (ip >= iend) throw new Lz4FormatError(`match length runs past the end of the block (at byte ${ip})`);
        b = src[ip++];
        ml += b;
      } while (b === 255);
    }
    ml += 4;
    if (op + ml > oend) throw new Lz4FormatError(`the block decodes to more than the expected ${oend} bytes`);
    let m = op - offset;
    if (offset >= ml && ml >= 32) {
      dst.copyWithin(op, m, m + ml);
      op += ml;
    } else {
      // Overlapping (offset < length: a run) or short: byte by byte, as the format defines it.
      const end = op + ml;
      while (op < end) dst[op++] = dst[m++];
    }
    if (ip >= iend) throw new Lz4FormatError("the block ends with a match; the last sequence must be literals (truncated?)");
  }
}
