import type { CompressionPlugin } from "@cloudvolume/core";
import { GZIP_NAME, GZIP_PACKAGE } from "./common.js";
import { ZLIB_NAME, ZLIB_PACKAGE } from "./zlib-common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition): gzip on
 * the Compression Streams API. Node resolves the `node` condition to ./node.ts, which
 * uses node:zlib instead (faster, levels, thread pool).
 */
export { gzipCodec } from "./web.js";
export { GZIP_SUFFIX, DEFAULT_GZIP_LEVEL } from "./common.js";

/** Which inflater gzip decoding uses: here the Compression Streams API (Node's entry says libdeflate or node:zlib). */
export function gzipBackend(): { backend: "compression-streams"; why: string } {
  return { backend: "compression-streams", why: "the browser / edge entry of @cloudvolume/codec-gzip" };
}

/** Plugin descriptor for gzip transfer compression (Content-Encoding `gzip`, `.gz` files). */
export function gzip(): CompressionPlugin {
  return {
    kind: "compression",
    names: [GZIP_NAME],
    package: GZIP_PACKAGE,
    load: async () => (await import("./web.js")).gzipCodec,
  };
}

export { zlibCodec } from "./zlib-web.js";
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
    load: async () => (await import("./zlib-web.js")).zlibCodec,
  };
}
