import { CloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { lz4CompressBlock, lz4DecodeBlock } from "@cloudvolume/codec-lz4";
import { zstdCompress, zstdDecompress } from "@cloudvolume/codec-zstd";
import { unzlibSync, zlibSync } from "fflate";
import { BloscLzError, blosclzDecode, blosclzEncode } from "./blosclz.js";
import { bitShuffle, bitUnshuffle, byteShuffle, byteUnshuffle } from "./shuffle.js";

/*
 * Blosc 1.x buffers (c-blosc's README_CHUNK_FORMAT; what numcodecs' Blosc, zarr v2 and
 * n5's blosc write):
 *
 *   byte 0      format version (2 for c-blosc 1.x)
 *   byte 1      the compressor's format version
 *   byte 2      flags: 0x01 byte shuffle, 0x02 stored uncompressed (memcpyed),
 *               0x04 bit shuffle, 0x10 blocks not split into per-byte streams,
 *               bits 5-7 the compressor: 0 blosclz, 1 lz4 (lz4 and lz4hc), 2 snappy,
 *               3 zlib, 4 zstd
 *   byte 3      typesize (the element size shuffles work on)
 *   bytes 4-15  uncompressed size, block size, compressed size (int32 little-endian)
 *   then, unless memcpyed, one int32 start offset per block, and the blocks: each is
 *   `nsplits` streams of int32 length + data, where a stream whose length equals its
 *   uncompressed size is stored raw. A block is split into typesize streams unless flag
 *   0x10 says not, the type is over 16 bytes, a block holds fewer than 128 elements or
 *   it is the last, partial block.
 *
 * Decoding is ours (TypeScript, checking every size and offset against the buffer), so
 * a truncated or corrupt buffer is DECODE_FAILED naming the key; numcodecs.js's blosc
 * WebAssembly build checks none of it and hands back garbage. The per-stream codecs:
 * blosclz here, lz4 from @cloudvolume/codec-lz4 (decoding with its strict block decoder,
 * compressing with liblz4 in WebAssembly), zstd from @cloudvolume/codec-zstd, zlib from
 * fflate. snappy (not in numcodecs' default build either) is refused by name.
 *
 * Encoding follows c-blosc 1.21 (numcodecs 0.11): the same header, splitting rule
 * (zstd never splits), clevel 0 = stored, typesize from the data type (params.typesize:
 * zarr passes the element size, as numcodecs takes it from the array), shuffle -1
 * (AUTOSHUFFLE) = bit shuffle for 1-byte types, byte shuffle otherwise. lz4hc is written
 * with liblz4's fast compressor (the same stream format; readers cannot tell).
 */

export const BLOSC_NAME = "blosc";
export const BLOSC_SUFFIX = ".blosc";
export const BLOSC_PACKAGE = "@cloudvolume/codec-blosc";

const HEADER = 16;
const MAX_SPLITS = 16;
const MIN_BUFFERSIZE = 128;
const MAX_BUFFERSIZE = 0x7fffffff - HEADER;

const FLAG_SHUFFLE = 0x01;
const FLAG_MEMCPYED = 0x02;
const FLAG_BITSHUFFLE = 0x04;
const FLAG_DONT_SPLIT = 0x10;

export const BLOSC_CNAMES = ["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"] as const;
export type BloscCname = (typeof BLOSC_CNAMES)[number];
const FORMAT_OF: Record<BloscCname, number> = { blosclz: 0, lz4: 1, lz4hc: 1, snappy: 2, zlib: 3, zstd: 4 };
const FORMAT_NAMES = ["blosclz", "lz4/lz4hc", "snappy", "zlib", "zstd"];

/** The configuration numcodecs writes (`{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}`) plus the element size. */
export interface BloscParams {
  cname?: string;
  clevel?: number;
  /** 0 none, 1 byte shuffle, 2 bit shuffle, -1 auto (bit shuffle for 1-byte types). */
  shuffle?: number;
  /** Bytes per block; 0 = automatic. */
  blocksize?: number;
  /** Element size the shuffles work on (numcodecs takes it from the array's itemsize). */
  typesize?: number;
}

/** What a blosc header says. */
export interface BloscHeader {
  version: number;
  versionlz: number;
  flags: number;
  typesize: number;
  nbytes: number;
  blocksize: number;
  cbytes: number;
  /** The stream compressor's name ("lz4/lz4hc" for format 1). */
  compressor: string;
  shuffle: "none" | "byte" | "bit";
  memcpyed: boolean;
}

class BloscFormatError extends Error {}

const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 255;
  b[p + 1] = (v >>> 8) & 255;
  b[p + 2] = (v >>> 16) & 255;
  b[p + 3] = (v >>> 24) & 255;
}

/** Parse and check a blosc header (BloscFormatError when it cannot be one). */
export function readBloscHeader(b: Uint8Array): BloscHeader {
  if (b.byteLength < HEADER) throw new BloscFormatError(`${b.byteLength} bytes is shorter than the 16-byte blosc header`);
  const version = b[0];
  const flags = b[2];
  const typesize = b[3];
  const nbytes = u32(b, 4);
  const blocksize = u32(b, 8);
  const cbytes = u32(b, 12);
  if (version < 1 || version > 4) throw new BloscFormatError(`format version ${version} is not a blosc format (1..4)`);
  if (typesize === 0) throw new BloscFormatError("typesize 0");
  if (nbytes > MAX_BUFFERSIZE || cbytes > MAX_BUFFERSIZE + HEADER) throw new BloscFormatError(`impossible sizes (nbytes ${nbytes}, cbytes ${cbytes})`);
  if (cbytes < HEADER) throw new BloscFormatError(`compressed size ${cbytes} is smaller than the header`);
  if (nbytes > 0 && (blocksize === 0 || blocksize > Math.max(nbytes, 1 << 30))) throw new BloscFormatError(`block size ${blocksize} for ${nbytes} bytes`);
  const memcpyed = (flags & FLAG_MEMCPYED) !== 0;
  const shuffle = flags & FLAG_SHUFFLE ? "byte" : flags & FLAG_BITSHUFFLE ? "bit" : "none";
  const format = flags >> 5;
  return { version, versionlz: b[1], flags, typesize, nbytes, blocksize, cbytes, compressor: FORMAT_NAMES[format] ?? `unknown compressor format ${format}`, shuffle, memcpyed };
}

function splits(typesize: number, bsize: number, leftover: boolean, dontSplit: boolean): number {
  return !dontSplit && !leftover && typesize <= MAX_SPLITS && Math.floor(bsize / typesize) >= MIN_BUFFERSIZE ? typesize : 1;
}

async function decodeStream(format: number, src: Uint8Array, dst: Uint8Array): Promise<void> {
  let n: number;
  switch (format) {
    case 0:
      try {
        n = blosclzDecode(src, dst);
      } catch (e) {
        throw new BloscFormatError(`blosclz stream: ${(e as BloscLzError).message}`);
      }
      break;
    case 1:
      try {
        n = lz4DecodeBlock(src, dst);
      } catch (e) {
        throw new BloscFormatError(`lz4 stream: ${(e as Error).message}`);
      }
      break;
    case 3: {
      let out: Uint8Array;
      try {
        out = unzlibSync(src, { out: dst });
      } catch (e) {
        throw new BloscFormatError(`zlib stream: ${(e as Error).message}`);
      }
      n = out.byteLength;
      if (out.buffer !== dst.buffer || out.byteOffset !== dst.byteOffset) {
        if (n > dst.byteLength) throw new BloscFormatError(`zlib stream decodes to ${n} bytes, expected ${dst.byteLength}`);
        dst.set(out);
      }
      break;
    }
    case 4: {
      let out: Uint8Array;
      try {
        out = await zstdDecompress(src);
      } catch (e) {
        throw new BloscFormatError(`zstd stream: ${(e as Error).message}`);
      }
      n = out.byteLength;
      if (n === dst.byteLength) dst.set(out);
      break;
    }
    case 2:
      throw new BloscFormatError("it uses snappy, which this decoder does not include (nor does numcodecs' default build); re-encode it with lz4, zstd or zlib");
    default:
      throw new BloscFormatError(`unknown compressor format ${format}`);
  }
  if (n !== dst.byteLength) throw new BloscFormatError(`a stream decodes to ${n} bytes, expected ${dst.byteLength}`);
}

/** Decode a blosc buffer (BloscFormatError on anything malformed). */
async function decompress(b: Uint8Array): Promise<Uint8Array> {
  const h = readBloscHeader(b);
  if (b.byteLength < h.cbytes) throw new BloscFormatError(`the header says ${h.cbytes} bytes but there are ${b.byteLength} (truncated)`);
  const { nbytes, blocksize, typesize, flags } = h;
  const out = new Uint8Array(nbytes);
  if (nbytes === 0) return out;
  if (h.memcpyed) {
    if (h.cbytes !== nbytes + HEADER) throw new BloscFormatError(`a stored (memcpyed) buffer of ${nbytes} bytes must be ${nbytes + HEADER} bytes, the header says ${h.cbytes}`);
    out.set(b.subarray(HEADER, HEADER + nbytes));
    return out;
  }
  const src = b.subarray(0, h.cbytes);
  const nblocks = Math.ceil(nbytes / blocksize);
  const leftover = nbytes % blocksize;
  if (HEADER + 4 * nblocks > src.byteLength) throw new BloscFormatError(`${nblocks} block offsets do not fit in ${src.byteLength} bytes`);
  const format = flags >> 5;
  const dontSplit = (flags & FLAG_DONT_SPLIT) !== 0;
  const filtered = h.shuffle !== "none";
  const tmp = filtered ? new Uint8Array(blocksize) : undefined;
  for (let j = 0; j < nblocks; j++) {
    const last = j === nblocks - 1 && leftover > 0;
    const bsize = last ? leftover : blocksize;
    const dest = out.subarray(j * blocksize, j * blocksize + bsize);
    const target = tmp ? tmp.subarray(0, bsize) : dest;
    const nsplits = splits(typesize, bsize, last, dontSplit);
    const neblock = Math.floor(bsize / nsplits);
    if (neblock * nsplits !== bsize) throw new BloscFormatError(`block ${j} of ${bsize} bytes does not split into ${nsplits} streams`);
    let p = u32(src, HEADER + 4 * j);
    if (p < HEADER + 4 * nblocks || p > src.byteLength) throw new BloscFormatError(`block ${j} starts at ${p}, outside the ${src.byteLength}-byte buffer`);
    for (let s = 0; s < nsplits; s++) {
      if (p + 4 > src.byteLength) throw new BloscFormatError(`block ${j} stream ${s} length runs past the end (truncated)`);
      const cb = u32(src, p);
      p += 4;
      if (p + cb > src.byteLength) throw new BloscFormatError(`block ${j} stream ${s} of ${cb} bytes runs past the end (truncated)`);
      const piece = target.subarray(s * neblock, (s + 1) * neblock);
      const data = src.subarray(p, p + cb);
      if (cb === neblock) piece.set(data);
      else await decodeStream(format, data, piece);
      p += cb;
    }
    if (tmp) {
      if (h.shuffle === "byte") byteUnshuffle(target, dest, typesize);
      else bitUnshuffle(target, dest, typesize, h.version);
    }
  }
  return out;
}

function check(v: unknown, name: string, ok: (n: number) => boolean, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || !ok(v)) throw new CloudVolumeError("INVALID_ARGUMENT", `blosc ${name} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

/** Validated encode settings from a numcodecs-style configuration. */
export function bloscSettings(params: Readonly<Record<string, unknown>> | BloscParams = {}, level?: number): Required<BloscParams> & { cname: BloscCname } {
  const p = params as Record<string, unknown>;
  const cname = (p.cname ?? "lz4") as string;
  if (!(BLOSC_CNAMES as readonly string[]).includes(cname)) throw new CloudVolumeError("INVALID_ARGUMENT", `blosc cname must be one of ${BLOSC_CNAMES.join(", ")}, got ${JSON.stringify(cname)}`);
  if (cname === "snappy") throw new CloudVolumeError("INVALID_ARGUMENT", "blosc cname snappy is not supported (numcodecs' default build lacks it too); use lz4, zstd, zlib or blosclz");
  const clevel = check(level ?? p.clevel ?? 5, "clevel", (n) => n >= 0 && n <= 9, "an integer from 0 to 9");
  let shuffle = check(p.shuffle ?? 1, "shuffle", (n) => n >= -1 && n <= 2, "-1 (auto), 0, 1 or 2");
  const typesize = check(p.typesize ?? 1, "typesize", (n) => n >= 1 && n <= 255, "an integer from 1 to 255");
  const blocksize = check(p.blocksize ?? 0, "blocksize", (n) => n >= 0, "a non-negative integer");
  if (shuffle === -1) shuffle = typesize === 1 ? 2 : 1; // numcodecs' AUTOSHUFFLE
  return { cname: cname as BloscCname, clevel, shuffle, typesize, blocksize };
}

/** c-blosc 1.21's compute_blocksize, near enough (any block size decodes). */
function computeBlocksize(cname: BloscCname, clevel: number, typesize: number, nbytes: number, forced: number, split: (b: number) => boolean): number {
  if (nbytes < typesize) return 1;
  let bs = nbytes;
  if (forced) bs = Math.max(forced, MIN_BUFFERSIZE);
  else if (nbytes >= 32 * 1024) {
    bs = 32 * 1024;
    if (cname === "zlib" || cname === "zstd" || cname === "lz4hc") bs *= 8;
    const factor = [0.25, 0.5, 1, 2, 4, 4, 8, 8, 8, 16][clevel];
    bs = Math.floor(bs * factor);
    if (clevel > 0 && split(bs)) {
      bs = Math.min(bs, 1 << 18) * typesize;
      bs = Math.min(Math.max(bs, 1 << 16), 1 << 20);
    }
  }
  if (bs > nbytes) bs = nbytes;
  if (bs > typesize) bs = Math.floor(bs / typesize) * typesize;
  return bs;
}

async function compressStream(cname: BloscCname, clevel: number, src: Uint8Array): Promise<Uint8Array | undefined> {
  switch (cname) {
    case "blosclz":
      return blosclzEncode(src, src.byteLength);
    case "lz4":
    case "lz4hc":
      return lz4CompressBlock(src, cname === "lz4" ? Math.max(1, 10 - clevel) : 1);
    case "zlib":
      return zlibSync(src, { level: clevel as 1 });
    case "zstd":
      return zstdCompress(src, clevel);
    default:
      throw new CloudVolumeError("INVALID_ARGUMENT", `blosc cname ${cname} is not supported`);
  }
}

/** Compress `data` into a blosc 1.x buffer. */
export async function bloscCompress(data: Uint8Array, params: Readonly<Record<string, unknown>> | BloscParams = {}, level?: number): Promise<Uint8Array> {
  const s = bloscSettings(params, level);
  const nbytes = data.byteLength;
  if (nbytes > MAX_BUFFERSIZE) throw new CloudVolumeError("ENCODE_FAILED", `blosc cannot compress ${nbytes} bytes (limit ${MAX_BUFFERSIZE})`);
  const typesize = s.typesize > 255 ? 1 : s.typesize;
  const neverSplit = s.cname === "zstd"; // c-blosc 1.21 (forward-compatible split mode) never splits zstd
  const canSplit = (bs: number) => !neverSplit && typesize <= MAX_SPLITS && Math.floor(bs / typesize) >= MIN_BUFFERSIZE;
  const blocksize = computeBlocksize(s.cname, s.clevel, typesize, nbytes, s.blocksize, canSplit);
  const split = canSplit(blocksize);
  let flags = FORMAT_OF[s.cname] << 5;
  if (!split) flags |= FLAG_DONT_SPLIT;
  if (s.shuffle === 1) flags |= FLAG_SHUFFLE;
  if (s.shuffle === 2) flags |= FLAG_BITSHUFFLE;
  const header = (f: number, cbytes: number) => {
    const h = new Uint8Array(HEADER);
    h[0] = 2; // c-blosc 1.x format
    h[1] = 1; // every compressor's format version 1
    h[2] = f;
    h[3] = typesize;
    put32(h, 4, nbytes);
    put32(h, 8, blocksize);
    put32(h, 12, cbytes);
    return h;
  };
  const stored = () => {
    const out = new Uint8Array(HEADER + nbytes);
    out.set(header(flags | FLAG_MEMCPYED, HEADER + nbytes));
    out.set(data, HEADER);
    return out;
  };
  if (nbytes === 0 || s.clevel === 0 || nbytes < MIN_BUFFERSIZE) return nbytes === 0 ? header(flags | FLAG_MEMCPYED, HEADER) : stored();
  const nblocks = Math.ceil(nbytes / blocksize);
  const leftover = nbytes % blocksize;
  const parts: Uint8Array[] = [];
  const starts = new Uint8Array(4 * nblocks);
  let total = HEADER + 4 * nblocks;
  const tmp = s.shuffle ? new Uint8Array(blocksize) : undefined;
  for (let j = 0; j < nblocks; j++) {
    const last = j === nblocks - 1 && leftover > 0;
    const bsize = last ? leftover : blocksize;
    let block = data.subarray(j * blocksize, j * blocksize + bsize);
    if (tmp) {
      const t = tmp.subarray(0, bsize);
      if (s.shuffle === 1) byteShuffle(block, t, typesize);
      else bitShuffle(block, t, typesize, 2);
      block = t;
    }
    put32(starts, 4 * j, total);
    const nsplits = splits(typesize, bsize, last, !split);
    const neblock = Math.floor(bsize / nsplits);
    for (let k = 0; k < nsplits; k++) {
      const piece = block.subarray(k * neblock, (k + 1) * neblock);
      let c = await compressStream(s.cname, s.clevel, piece);
      if (!c || c.byteLength === 0 || c.byteLength >= neblock) c = piece.slice();
      else if (c.buffer === piece.buffer) c = c.slice();
      const len = new Uint8Array(4);
      put32(len, 0, c.byteLength);
      parts.push(len, c);
      total += 4 + c.byteLength;
    }
    if (total > nbytes + HEADER) return stored(); // not worth it: store, as blosc does
  }
  const out = new Uint8Array(total);
  out.set(header(flags, total), 0);
  out.set(starts, HEADER);
  let p = HEADER + starts.byteLength;
  for (const part of parts) {
    out.set(part, p);
    p += part.byteLength;
  }
  return out;
}

function failed(key: string | undefined, size: number, why: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `blosc decode of ${key ?? "a chunk"} (${size} bytes) failed: ${why}. The object is truncated, corrupt or not blosc-compressed.`, key === undefined ? { cause } : { key, cause });
}

/** Decode a blosc buffer; DECODE_FAILED naming `key` when it is not a whole, valid one. */
export async function bloscDecompress(bytes: Uint8Array, key?: string): Promise<Uint8Array> {
  if (bytes.byteLength === 0) throw failed(key, 0, "the object has zero bytes");
  try {
    return await decompress(bytes);
  } catch (e) {
    if (e instanceof BloscFormatError) throw failed(key, bytes.byteLength, e.message, e);
    throw e;
  }
}

/**
 * The blosc ByteCodec. `encode` takes the numcodecs configuration in `params` (cname,
 * clevel, shuffle, blocksize) and the element size as `params.typesize`; `level`
 * overrides clevel. Defaults are numcodecs': lz4, clevel 5, byte shuffle.
 */
export const bloscCodec: ByteCodec = {
  name: BLOSC_NAME,
  suffix: BLOSC_SUFFIX,
  decode(bytes, opts = {}) {
    return bloscDecompress(bytes, opts.key);
  },
  encode(bytes, opts = {}) {
    return bloscCompress(bytes, opts.params ?? {}, opts.level);
  },
};
