/*
 * BloscLZ (c-blosc's blosclz.c, FastLZ level 1 descended), the stream format behind
 * cname "blosclz" (blosc compressor format 0, version 1).
 *
 * Instructions, from the first byte on (whose top 3 bits carry a marker and are ignored):
 * - ctrl < 32: a literal run of ctrl + 1 bytes.
 * - ctrl >= 32: a match. len = (ctrl >> 5) - 1, extended by the following bytes while
 *   they are 255 when it is 6; then a byte `code`. The 13-bit biased distance is
 *   ((ctrl & 31) << 8) + code; when it is 8191 (ofs 31, code 255) two more bytes give a
 *   16-bit distance added to 8191. The match copies len + 3 bytes from distance + 1
 *   bytes back (byte by byte, so short distances repeat).
 */

export class BloscLzError extends Error {}

const MAX_DISTANCE = 8191;

/** Decode a blosclz stream into `dst`; returns the bytes written (throws BloscLzError when malformed). */
export function blosclzDecode(src: Uint8Array, dst: Uint8Array): number {
  const iend = src.length;
  const oend = dst.length;
  if (iend === 0) throw new BloscLzError("empty blosclz stream");
  let ip = 0;
  let op = 0;
  let ctrl = src[ip++] & 31;
  for (;;) {
    if (ctrl >= 32) {
      let len = (ctrl >> 5) - 1;
      let ofs = (ctrl & 31) << 8;
      if (len === 6) {
        let code: number;
        do {
          if (ip >= iend) throw new BloscLzError("match length runs past the end of the stream");
          code = src[ip++];
          len += code;
        } while (code === 255);
      }
      if (ip >= iend) throw new BloscLzError("match distance runs past the end of the stream");
      const code = src[ip++];
      let back = ofs + code; // biased distance
      if (code === 255 && ofs === 31 << 8) {
        if (ip + 2 > iend) throw new BloscLzError("far match distance runs past the end of the stream");
        ofs = (src[ip] << 8) | src[ip + 1];
        ip += 2;
        back = ofs + MAX_DISTANCE;
      }
      len += 3;
      let ref = op - back - 1;
      if (ref < 0) throw new BloscLzError(`match distance ${back + 1} reaches before the start of the output (at ${op})`);
      if (op + len > oend) throw new BloscLzError(`the stream decodes to more than the expected ${oend} bytes`);
      const end = op + len;
      while (op < end) dst[op++] = dst[ref++];
    } else {
      const n = ctrl + 1;
      if (ip + n > iend) throw new BloscLzError(`a ${n}-byte literal run at ${ip} passes the end of the stream (truncated?)`);
      if (op + n > oend) throw new BloscLzError(`the stream decodes to more than the expected ${oend} bytes`);
      for (let k = 0; k < n; k++) dst[op + k] = src[ip + k];
      ip += n;
      op += n;
    }
    if (ip >= iend) return op;
    ctrl = src[ip++];
  }
}

const HASH_LOG = 13;

/**
 * A blosclz stream for `src` (greedy, one hash probe per position, near matches only),
 * or undefined when it would not be smaller than `maxOut` bytes (the caller stores the
 * data raw, as blosc does).
 */
export function blosclzEncode(src: Uint8Array, maxOut: number): Uint8Array | undefined {
  const n = src.length;
  if (n < 16) return undefined;
  const out = new Uint8Array(n + Math.ceil(n / 32) + 16);
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  let op = 0;
  let anchor = 0; // first literal not yet written
  const flushLiterals = (end: number): boolean => {
    while (anchor < end) {
      const run = Math.min(32, end - anchor);
      if (op + 1 + run > maxOut) return false;
      out[op++] = run - 1;
      for (let k = 0; k < run; k++) out[op++] = src[anchor + k];
      anchor += run;
    }
    return true;
  };
  // The first instruction must be a literal run (the decoder masks the first control byte),
  // and so must the last: c-blosc 1.21's decoder (blosclz 2) wants literals after the final
  // match, as its compressor leaves them (no match starts in the last 12 bytes, none ends
  // in the last 2). We keep 12 and 4.
  const limit = n - 12;
  const matchEnd = n - 4;
  let i = 1;
  while (i < limit) {
    const h = (Math.imul(src[i] | (src[i + 1] << 8) | (src[i + 2] << 16), 2654435761) >>> (32 - HASH_LOG));
    const cand = table[h];
    table[h] = i;
    const dist = i - cand;
    if (cand >= 0 && dist <= MAX_DISTANCE && src[cand] === src[i] && src[cand + 1] === src[i + 1] && src[cand + 2] === src[i + 2]) {
      let m = 3;
      while (i + m < matchEnd && src[cand + m] === src[i + m]) m++;
      if (!flushLiterals(i)) return undefined;
      const back = dist - 1;
      const len = m - 3;
      if (op + 3 + Math.ceil(len / 255) > maxOut) return undefined;
      if (len < 6) {
        out[op++] = ((len + 1) << 5) | (back >> 8);
      } else {
        out[op++] = (7 << 5) | (back >> 8);
        let rest = len - 6;
        for (; rest >= 255; rest -= 255) out[op++] = 255;
        out[op++] = rest;
      }
      out[op++] = back & 255;
      i += m;
      anchor = i;
      if (i + 2 < n) table[(Math.imul(src[i - 1] | (src[i] << 8) | (src[i + 1] << 16), 2654435761) >>> (32 - HASH_LOG))] = i - 1;
    } else {
      i++;
    }
  }
  if (!flushLiterals(n)) return undefined;
  if (op >= maxOut) return undefined;
  out[0] |= 1 << 5; // blosclz's marker on the first control byte
  return out.subarray(0, op);
}
