import { CloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { Lz4FormatError, lz4DecodeBlock } from "./block.js";

/*
 * numcodecs' LZ4 framing (numcodecs/lz4.pyx, what zarr's and n5's `lz4` compressor
 * store): a 4-byte little-endian uncompressed size, then one LZ4 block.
 *
 * Compression is LZ4_compress_fast from the WebAssembly build of liblz4 that numcodecs.js
 * ships (so our bytes are the reference compressor's, with numcodecs.js's framing). We
 * do not decode with that build: it checks neither the size header nor the decoder's
 * result, so a corrupt object could crash the module or come back as garbage. The block
 * decoder (block.ts) is TypeScript and strict, and the decoded length must equal the
 * header: anything else is DECODE_FAILED naming the key.
 */

export const LZ4_NAME = "lz4";
export const LZ4_SUFFIX = ".lz4";
export const LZ4_PACKAGE = "@cloudvolume/codec-lz4";
/** LZ4_compress_fast's acceleration (numcodecs' default 1; higher = faster, larger). */
export const DEFAULT_LZ4_ACCELERATION = 1;
/** numcodecs refuses buffers past this (its max_buffer_size, 0x7E000000). */
export const LZ4_MAX_BUFFER = 0x7e000000;
/** An LZ4 block expands at most ~255x (a 1-byte-per-255 run extension); beyond that the size header is corrupt. */
const MAX_RATIO = 255;

function failed(what: string, key: string | undefined, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `lz4 decode of ${key ?? "a chunk"} failed: ${what}. The object is truncated, corrupt or not numcodecs-framed lz4.`, key === undefined ? { cause } : { key, cause });
}

/** Decode numcodecs-framed LZ4 (size header + block). */
export function lz4Decompress(bytes: Uint8Array, key?: string): Uint8Array {
  if (bytes.byteLength === 0) throw failed("the object has zero bytes", key);
  if (bytes.byteLength < 5) throw failed(`${bytes.byteLength} bytes is shorter than the 4-byte size header and a block`, key);
  const size = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  const block = bytes.subarray(4);
  if (size > LZ4_MAX_BUFFER || size > block.byteLength * MAX_RATIO + 16) {
    throw failed(`the size header says ${size} bytes, impossible for a ${block.byteLength}-byte LZ4 block`, key);
  }
  const out = new Uint8Array(size);
  let n: number;
  try {
    n = lz4DecodeBlock(block, out);
  } catch (e) {
    if (e instanceof Lz4FormatError) throw failed(e.message, key, e);
    throw e;
  }
  if (n !== size) throw failed(`the block decodes to ${n} bytes, the size header says ${size}`, key);
  return out;
}

interface NumcodecsLz4 {
  encode(data: Uint8Array): Promise<Uint8Array>;
}
type Lz4Ctor = { fromConfig(c: { id: string; acceleration?: number }): NumcodecsLz4 };
let ctor: Promise<Lz4Ctor> | undefined;
const encoders = new Map<number, NumcodecsLz4>();

function lz4Class(): Promise<Lz4Ctor> {
  ctor ??= import("numcodecs/lz4").then((m) => m.default as unknown as Lz4Ctor).catch((e: unknown) => {
    ctor = undefined;
    throw new CloudVolumeError("UNAVAILABLE", `could not load the LZ4 WebAssembly module (numcodecs/lz4): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  return ctor;
}

/** LZ4_compress_fast's acceleration from a codec configuration (INVALID_ARGUMENT unless a positive integer). */
export function lz4Acceleration(v: unknown): number {
  if (v === undefined || v === null) return DEFAULT_LZ4_ACCELERATION;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new CloudVolumeError("INVALID_ARGUMENT", `lz4 acceleration must be an integer, got ${JSON.stringify(v)}`);
  return v < 1 ? DEFAULT_LZ4_ACCELERATION : v; // numcodecs: <= 0 means the default
}

/** numcodecs-framed LZ4 of `bytes`. */
export async function lz4Compress(bytes: Uint8Array, acceleration = DEFAULT_LZ4_ACCELERATION): Promise<Uint8Array> {
  if (bytes.byteLength > LZ4_MAX_BUFFER) throw new CloudVolumeError("ENCODE_FAILED", `lz4 cannot compress ${bytes.byteLength} bytes (numcodecs' limit is ${LZ4_MAX_BUFFER})`);
  const a = lz4Acceleration(acceleration);
  let enc = encoders.get(a);
  if (!enc) encoders.set(a, (enc = (await lz4Class()).fromConfig({ id: "lz4", acceleration: a })));
  try {
    return await enc.encode(bytes);
  } catch (e) {
    throw new CloudVolumeError("ENCODE_FAILED", `lz4 encode failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** One bare LZ4 block of `bytes` (blosc's lz4 streams): lz4Compress without the size header. */
export async function lz4CompressBlock(bytes: Uint8Array, acceleration = DEFAULT_LZ4_ACCELERATION): Promise<Uint8Array> {
  return (await lz4Compress(bytes, acceleration)).subarray(4);
}

/**
 * The lz4 ByteCodec (numcodecs framing). `encode` takes `params.acceleration` (a zarr/n5
 * configuration such as `{"id": "lz4", "acceleration": 1}`); `level` is accepted and
 * ignored (LZ4_compress_fast has no levels). The size header lets decode allocate once;
 * the `decodedSize` hint is not needed.
 */
export const lz4Codec: ByteCodec = {
  name: LZ4_NAME,
  suffix: LZ4_SUFFIX,
  decode(bytes, opts = {}) {
    return lz4Decompress(bytes, opts.key);
  },
  encode(bytes, opts = {}) {
    return lz4Compress(bytes, lz4Acceleration(opts.params?.acceleration));
  },
};
