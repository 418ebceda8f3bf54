import { CloudVolumeError, pipeBytes, type ByteCodec } from "@cloudvolume/core";
import { ZLIB_NAME, ZLIB_SUFFIX, looksLikeZlib, zlibDecodeFailed, zlibEmptyInput, zlibEncodeFailed, zlibLevel } from "./zlib-common.js";

/**
 * zlib streams on the Compression Streams API: its "deflate" format is RFC 1950 zlib
 * (header + deflate + Adler-32), exactly what numcodecs' Zlib writes. As with gzip, the
 * web API has no levels: `level` is validated and ignored (the engine's default, 6 in
 * Chromium and Node).
 */
export const zlibCodec: ByteCodec = {
  name: ZLIB_NAME,
  suffix: ZLIB_SUFFIX,

  async decode(bytes, opts = {}) {
    if (bytes.byteLength === 0) throw zlibEmptyInput(opts.key);
    if (!looksLikeZlib(bytes)) throw zlibDecodeFailed(new Error("no zlib header (RFC 1950)"), opts.key, bytes.byteLength);
    try {
      return await pipeBytes(new DecompressionStream("deflate"), bytes, opts.decodedSize);
    } catch (err) {
      throw zlibDecodeFailed(err, opts.key, bytes.byteLength);
    }
  },

  async encode(bytes, opts = {}) {
    zlibLevel(opts.level ?? opts.params?.level);
    if (typeof CompressionStream === "undefined") {
      throw new CloudVolumeError("UNAVAILABLE", "zlib compression needs the Compression Streams API (CompressionStream), which this runtime lacks");
    }
    try {
      return await pipeBytes(new CompressionStream("deflate"), bytes);
    } catch (err) {
      throw zlibEncodeFailed(err);
    }
  },
};
