import { concatBytes, CloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { Lz4FormatError, lz4DecodeBlock as decodeBlock } from "@cloudvolume/codec-lz4";

/*
 * N5's lz4 compression as n5-java writes it (Lz4Compression wraps the block data in lz4-java's
 * LZ4BlockOutputStream), which is not numcodecs' LZ4 framing (a 4-byte size, then one LZ4
 * block). The stream is a series of frames, each
 *
 *   "LZ4Block"        8-byte magic
 *   token             method | level: method 0x10 = stored, 0x20 = LZ4; level = log2(blockSize) - 10
 *   int32 LE          compressed length
 *   int32 LE          original length (at most the stream's block size)
 *   int32 LE          checksum of the original bytes: XXH32 with seed 0x9747b28c, as lz4-java's
 *                     Checksum view reports it (the low 28 bits)
 *   data              an LZ4 block (lz4 block format), or the bytes as they are
 *
 * ended by an empty frame (lengths 0, checksum 0). zarr-python's N5Store writes its own
 * "lz4" with numcodecs' framing; a block whose data does not start with the magic is handed
 * to a numcodecs-style "lz4" compression plugin when the Context has one.
 *
 * Everything here is plain TypeScript (LZ4 block decoder and a greedy encoder, XXH32), so it
 * runs in browsers as well as Node.
 */

const MAGIC = [0x4c, 0x5a, 0x34, 0x42, 0x6c, 0x6f, 0x63, 0x6b]; // "LZ4Block"
const HEADER = 21;
const METHOD_RAW = 0x10;
const METHOD_LZ4 = 0x20;
const LEVEL_BASE = 10;
const SEED = 0x9747b28c;

// ---- XXH32 ------------------------------------------------------------------------------

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** XXH32 of `b` (unsigned). */
export function xxhash32(b: Uint8Array, seed = 0): number {
  const n = b.length;
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) | 0, v2 = (seed + P2) | 0, v3 = seed | 0, v4 = (seed - P1) | 0;
    const limit = n - 16;
    do {
      v1 = Math.imul(rotl((v1 + Math.imul(u32(b, i), P2)) | 0, 13), P1); i += 4;
      v2 = Math.imul(rotl((v2 + Math.imul(u32(b, i), P2)) | 0, 13), P1); i += 4;
      v3 = Math.imul(rotl((v3 + Math.imul(u32(b, i), P2)) | 0, 13), P1); i += 4;
      v4 = Math.imul(rotl((v4 + Math.imul(u32(b, i), P2)) | 0, 13), P1); i += 4;
    } while (i <= limit);
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + n) | 0;
  for (; i + 4 <= n; i += 4) h = Math.imul(rotl((h + Math.imul(u32(b, i), P3)) | 0, 17), P4);
  for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(b[i], P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The checksum lz4-java's LZ4BlockOutputStream writes: StreamingXXHash32.asChecksum() keeps 28 bits. */
export function lz4BlockChecksum(b: Uint8Array): number {
  return xxhash32(b, SEED) & 0x0fffffff;
}

// ---- LZ4 block format ---------------------------------------------------------------------

/**
 * Decode one LZ4 block into exactly `out` (its original length). The block decoder is
 * @cloudvolume/codec-lz4's (strict: every length and offset checked); n5-java's frames
 * say the original length, so anything else is an error here.
 */
export function lz4DecodeBlock(src: Uint8Array, out: Uint8Array): void {
  const n = decodeBlock(src, out);
  if (n !== out.length) throw new Lz4FormatError(`LZ4 block decoded to ${n} bytes, its frame says ${out.length}`);
}

const MIN_MATCH = 4, LAST_LITERALS = 5, MF_LIMIT = 12, HASH_LOG = 14;

function pushLength(out: number[], n: number): void {
  while (n >= 255) {
    out.push(255);
    n -= 255;
  }
  out.push(n);
}

/** A greedy LZ4 block encoder (hash of 4 bytes, 64 KiB window). */
export function lz4EncodeBlock(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out: number[] = [];
  const emit = (anchor: number, end: number, offset: number, matchLen: number) => {
    const lit = end - anchor;
    const ml = matchLen - MIN_MATCH;
    out.push((Math.min(lit, 15) << 4) | (matchLen > 0 ? Math.min(ml, 15) : 0));
    if (lit >= 15) pushLength(out, lit - 15);
    for (let k = anchor; k < end; k++) out.push(src[k]);
    if (matchLen > 0) {
      out.push(offset & 0xff, offset >>> 8);
      if (ml >= 15) pushLength(out, ml - 15);
    }
  };
  let anchor = 0;
  if (n > MF_LIMIT) {
    const table = new Int32Array(1 << HASH_LOG).fill(-1);
    const hash = (i: number) => Math.imul(u32(src, i), 2654435761) >>> (32 - HASH_LOG);
    const matchLimit = n - LAST_LITERALS;
    let i = 0;
    while (i <= n - MF_LIMIT) {
      const h = hash(i);
      const ref = table[h];
      table[h] = i;
      if (ref >= 0 && i - ref <= 0xffff && u32(src, ref) === u32(src, i)) {
        let len = MIN_MATCH;
        while (i + len < matchLimit && src[ref + len] === src[i + len]) len++;
        emit(anchor, i, i - ref, len);
        i += len;
        anchor = i;
        if (i - 2 >= 0 && i - 2 <= n - MF_LIMIT) table[hash(i - 2)] = i - 2;
      } else i++;
    }
  }
  emit(anchor, n, 0, 0);
  return Uint8Array.from(out);
}

// ---- LZ4Block frames -------------------------------------------------------------------------

function isMagic(b: Uint8Array, at: number): boolean {
  if (b.length < at + 8) return false;
  for (let k = 0; k < 8; k++) if (b[at + k] !== MAGIC[k]) return false;
  return true;
}

/** True when `b` starts with lz4-java's "LZ4Block" magic. */
export function isLz4BlockStream(b: Uint8Array): boolean {
  return isMagic(b, 0);
}

const i32 = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

/** Decode an LZ4BlockOutputStream stream (up to its empty end frame, or the end of the bytes). */
export function decodeLz4BlockStream(b: Uint8Array, decodedSize?: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let i = 0;
  while (i < b.length) {
    if (!isMagic(b, i)) {
      throw new Lz4FormatError(
        i === 0
          ? `no "LZ4Block" magic at the start (n5-java's lz4 framing); zarr-python's N5Store writes numcodecs-framed lz4 instead, which needs an "lz4" compression plugin (@cloudvolume/codec-lz4)`
          : `no "LZ4Block" magic at byte ${i}`,
      );
    }
    if (i + HEADER > b.length) throw new Lz4FormatError(`frame header at byte ${i} is truncated`);
    const token = b[i + 8];
    const method = token & 0xf0;
    const level = LEVEL_BASE + (token & 0x0f);
    const clen = i32(b, i + 9), olen = i32(b, i + 13), check = i32(b, i + 17) >>> 0;
    if (method !== METHOD_RAW && method !== METHOD_LZ4) throw new Lz4FormatError(`unknown compression method 0x${method.toString(16)} in the frame at byte ${i}`);
    if (olen < 0 || clen < 0 || olen > 1 << level || (method === METHOD_RAW && clen !== olen) || (olen === 0) !== (clen === 0)) {
      throw new Lz4FormatError(`invalid frame lengths at byte ${i} (compressed ${clen}, original ${olen}, block size ${1 << level})`);
    }
    i += HEADER;
    if (olen === 0) {
      if (check !== 0) throw new Lz4FormatError("the end frame has a non-zero checksum");
      break; // lz4-java stops at the empty frame
    }
    if (i + clen > b.length) throw new Lz4FormatError(`frame data of ${clen} bytes at byte ${i} is truncated`);
    const data = b.subarray(i, i + clen);
    i += clen;
    let plain: Uint8Array;
    if (method === METHOD_RAW) plain = data;
    else {
      plain = new Uint8Array(olen);
      lz4DecodeBlock(data, plain);
    }
    const h = xxhash32(plain, SEED) >>> 0;
    // lz4-java writes the 28-bit value; accept the full hash too (other writers).
    if (check !== (h & 0x0fffffff) && check !== h) throw new Lz4FormatError(`checksum mismatch in the frame ending at byte ${i}`);
    parts.push(plain);
    total += olen;
  }
  if (parts.length === 1 && (decodedSize === undefined || decodedSize === total)) return parts[0].slice();
  return concatBytes(parts, total);
}

/** Encode as LZ4BlockOutputStream(out, blockSize) does: frames of at most blockSize bytes, then the empty frame. */
export function encodeLz4BlockStream(src: Uint8Array, blockSize = 65536): Uint8Array {
  if (!Number.isInteger(blockSize) || blockSize < 64 || blockSize > 1 << 25) throw new CloudVolumeError("INVALID_ARGUMENT", `lz4 blockSize must be an integer from 64 to ${1 << 25}, got ${blockSize}`);
  const level = Math.max(0, 32 - Math.clz32(blockSize - 1) - LEVEL_BASE);
  const frames: Uint8Array[] = [];
  const header = (method: number, clen: number, olen: number, check: number) => {
    const h = new Uint8Array(HEADER);
    h.set(MAGIC, 0);
    h[8] = method | level;
    const dv = new DataView(h.buffer);
    dv.setInt32(9, clen, true);
    dv.setInt32(13, olen, true);
    dv.setInt32(17, check, true);
    return h;
  };
  for (let s = 0; s < src.length; s += blockSize) {
    const chunk = src.subarray(s, Math.min(src.length, s + blockSize));
    const check = lz4BlockChecksum(chunk);
    const packed = lz4EncodeBlock(chunk);
    if (packed.length >= chunk.length) frames.push(header(METHOD_RAW, chunk.length, chunk.length, check), chunk);
    else frames.push(header(METHOD_LZ4, packed.length, chunk.length, check), packed);
  }
  frames.push(header(METHOD_RAW, 0, 0, 0));
  const out = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** N5's lz4 (n5-java framing) as a ByteCodec; used by the N5 block codec only, not a Context plugin. */
export function n5Lz4Codec(blockSize: number): ByteCodec {
  return {
    name: "n5-lz4",
    suffix: ".lz4",
    decode(bytes, opts = {}) {
      try {
        return decodeLz4BlockStream(bytes, opts.decodedSize);
      } catch (e) {
        if (e instanceof Lz4FormatError) {
          throw new CloudVolumeError("DECODE_FAILED", `lz4 (LZ4Block) decode of ${opts.key ?? "a block"} failed: ${e.message}`, { key: opts.key, cause: e });
        }
        throw e;
      }
    },
    encode(bytes) {
      return encodeLz4BlockStream(bytes, blockSize);
    },
  };
}
