import type { CompressionPlugin } from "@cloudvolume/core";
import { GZIP_NAME, GZIP_PACKAGE } from "./common.js";
import { ZLIB_NAME, ZLIB_PACKAGE } from "./zlib-common.js";

/**
 * Node entry (the package's `node` export condition): gzip on node:zlib, decoding on
 * libuv's thread pool, through libdeflate where its addon is built (gzipBackend()).
 * Same exports as the web entry, plus `decodeSync`/`encodeSync` on the codec (typed by
 * NodeGzipCodec) and `useLibdeflate`.
 */
export { gzipCodec, type NodeGzipCodec } from "./zlib.js";
export { GZIP_SUFFIX, DEFAULT_GZIP_LEVEL } from "./common.js";
export { gzipBackend, useLibdeflate } from "./libdeflate.js";

/** Plugin descriptor for gzip transfer compression (Content-Encoding `gzip`, `.gz` files). */
export function gzip(): CompressionPlugin {
  return {
    kind: "compression",
    names: [GZIP_NAME],
    package: GZIP_PACKAGE,
    load: async () => (await import("./zlib.js")).gzipCodec,
  };
}

export { zlibCodec, type NodeZlibCodec } from "./zlib-node.js";
export { ZLIB_SUFFIX, DEFAULT_ZLIB_LEVEL } from "./zlib-common.js";

/**
 * Plugin descriptor for zlib streams (RFC 1950), the `zlib` compressor of zarr and n5
 * (numcodecs' Zlib). Not a Precomputed transfer compression.
 */
export function zlib(): CompressionPlugin {
  return {
    kind: "compression",
    names: [ZLIB_NAME],
    package: ZLIB_PACKAGE,
    load: async () => (await import("./zlib-node.js")).zlibCodec,
  };
}
