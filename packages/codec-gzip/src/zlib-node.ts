import { inflate, inflateSync, deflate, deflateSync, type ZlibOptions } from "node:zlib";
import type { ByteCodec } from "@cloudvolume/core";
import { ZLIB_NAME, ZLIB_SUFFIX, looksLikeZlib, zlibDecodeFailed, zlibEmptyInput, zlibEncodeFailed, zlibLevel } from "./zlib-common.js";

/** zlib streams on node:zlib, inflating and deflating on libuv's thread pool (as gzip does). */
export interface NodeZlibCodec extends ByteCodec {
  decodeSync(bytes: Uint8Array, opts?: { decodedSize?: number; key?: string }): Uint8Array;
  encodeSync(bytes: Uint8Array, opts?: { level?: number; params?: Readonly<Record<string, unknown>> }): Uint8Array;
}

const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 64 * 1024 * 1024;

/** One output chunk the size of the decoded data (plus slack for the trailer) when it is known. */
function options(decodedSize: number | undefined): ZlibOptions {
  const hint = decodedSize !== undefined && decodedSize > 0 ? Math.ceil(decodedSize) + 64 : MIN_CHUNK;
  return { chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, hint)) };
}

const plain = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function check(bytes: Uint8Array, key: string | undefined): void {
  if (bytes.byteLength === 0) throw zlibEmptyInput(key);
  if (!looksLikeZlib(bytes)) throw zlibDecodeFailed(new Error("no zlib header (RFC 1950)"), key, bytes.byteLength);
}

export const zlibCodec: NodeZlibCodec = {
  name: ZLIB_NAME,
  suffix: ZLIB_SUFFIX,

  decode(bytes, opts = {}) {
    try {
      check(bytes, opts.key);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      inflate(bytes, options(opts.decodedSize), (err, out) => (err ? reject(zlibDecodeFailed(err, opts.key, bytes.byteLength)) : resolve(plain(out))));
    });
  },

  decodeSync(bytes, opts = {}) {
    check(bytes, opts.key);
    try {
      return plain(inflateSync(bytes, options(opts.decodedSize)));
    } catch (err) {
      throw zlibDecodeFailed(err, opts.key, bytes.byteLength);
    }
  },

  /** `level`, else `params.level` (a zarr/n5 configuration `{"id": "zlib", "level": 5}`), else 6. */
  encode(bytes, opts = {}) {
    const level = zlibLevel(opts.level ?? opts.params?.level);
    return new Promise<Uint8Array>((resolve, reject) => {
      deflate(bytes, { level }, (err, out) => (err ? reject(zlibEncodeFailed(err)) : resolve(plain(out))));
    });
  },

  encodeSync(bytes, opts = {}) {
    const level = zlibLevel(opts.level ?? opts.params?.level);
    try {
      return plain(deflateSync(bytes, { level }));
    } catch (err) {
      throw zlibEncodeFailed(err);
    }
  },
};
