import { brotliCompress, brotliCompressSync, brotliDecompress, brotliDecompressSync, constants, type BrotliOptions } from "node:zlib";
import type { ByteCodec } from "@cloudvolume/core";
import { BROTLI_NAME, BROTLI_SUFFIX, brotliDecodeFailed, brotliEncodeFailed, checkQuality, emptyInput } from "./common.js";

/** Brotli (RFC 7932) on node:zlib: Google's C decoder, run on libuv's thread pool. */

export interface NodeBrotliCodec extends ByteCodec {
  /** Same as decode, on the calling thread (for benchmarks and sync callers). */
  decodeSync(bytes: Uint8Array, opts?: { decodedSize?: number; key?: string }): Uint8Array;
  /** Same as encode, on the calling thread. */
  encodeSync(bytes: Uint8Array, opts?: { level?: number }): Uint8Array;
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 64 * 1024 * 1024;

/** With `info`, zlib also hands back the engine, whose bytesWritten is the input it consumed. */
type InfoResult = { buffer: Buffer; engine: { bytesWritten: number } };

function decodeOptions(decodedSize: number | undefined): BrotliOptions & { info: true } {
  // One output chunk the size of the decoded chunk: one allocation, no concatenation.
  const hint = decodedSize !== undefined && decodedSize > 0 ? Math.ceil(decodedSize) : MIN_CHUNK;
  return { chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, hint)), info: true };
}

function encodeOptions(bytes: Uint8Array, level: number | undefined): BrotliOptions {
  return {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: checkQuality(level),
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  };
}

/**
 * A brotli stream ends with its ISLAST meta-block (RFC 7932 §9.2); node's decoder
 * stops there and silently ignores what follows. We reject it: a random byte string
 * whose first byte happens to encode an empty last meta-block (about one in four do)
 * would otherwise "decode" to an empty chunk, and truncation or garbage must be loud.
 */
function finish(res: InfoResult, bytes: Uint8Array, key: string | undefined): Uint8Array {
  const consumed = res.engine.bytesWritten;
  if (consumed !== bytes.byteLength) {
    throw brotliDecodeFailed(undefined, key, bytes.byteLength, `${bytes.byteLength - consumed} byte(s) follow the end of the brotli stream`);
  }
  return new Uint8Array(res.buffer.buffer, res.buffer.byteOffset, res.buffer.byteLength);
}

export const brotliCodec: NodeBrotliCodec = {
  name: BROTLI_NAME,
  suffix: BROTLI_SUFFIX,

  /** Decodes on the thread pool, so chunks decode in parallel and off the main thread (as gzip). */
  decode(bytes, opts = {}) {
    if (bytes.byteLength === 0) return Promise.reject(emptyInput(opts.key));
    return new Promise<Uint8Array>((resolve, reject) => {
      brotliDecompress(bytes, decodeOptions(opts.decodedSize), (err, res) => {
        if (err) return reject(brotliDecodeFailed(err, opts.key, bytes.byteLength));
        try {
          resolve(finish(res as unknown as InfoResult, bytes, opts.key));
        } catch (e) {
          reject(e);
        }
      });
    });
  },

  decodeSync(bytes, opts = {}) {
    if (bytes.byteLength === 0) throw emptyInput(opts.key);
    let res: InfoResult;
    try {
      res = brotliDecompressSync(bytes, decodeOptions(opts.decodedSize)) as unknown as InfoResult;
    } catch (err) {
      throw brotliDecodeFailed(err, opts.key, bytes.byteLength);
    }
    return finish(res, bytes, opts.key);
  },

  /** Quality 0-11 via `level`, default 5 like CloudFiles; compresses on the thread pool. */
  encode(bytes, opts = {}) {
    const options = encodeOptions(bytes, opts.level);
    return new Promise<Uint8Array>((resolve, reject) => {
      brotliCompress(bytes, options, (err, out) => (err ? reject(brotliEncodeFailed(err)) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))));
    });
  },

  encodeSync(bytes, opts = {}) {
    const options = encodeOptions(bytes, opts.level);
    try {
      const out = brotliCompressSync(bytes, options);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw brotliEncodeFailed(err);
    }
  },
};
