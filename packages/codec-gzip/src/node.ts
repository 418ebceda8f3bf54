import type { CompressionPlugin } from "@cloudvolume/core";
import { GZIP_NAME, GZIP_PACKAGE } from "./common.js";

/**
 * Node entry (the package's `node` export condition): gzip on node:zlib, decoding on
 * libuv's thread pool. Same exports as the web entry, plus `decodeSync`/`encodeSync`
 * on the codec (typed by NodeGzipCodec).
 */
export { gzipCodec, type NodeGzipCodec } from "./zlib.js";
export { GZIP_SUFFIX, DEFAULT_GZIP_LEVEL } from "./common.js";

/** Plugin descriptor for gzip transfer compression (Content-Encoding `gzip`, `.gz` files). */
export function gzip(): CompressionPlugin {
  return {
    kind: "compression",
    names: [GZIP_NAME],
    package: GZIP_PACKAGE,
    load: async () => (await import("./zlib.js")).gzipCodec,
  };
}
