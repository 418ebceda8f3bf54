import type { CompressionPlugin } from "@cloudvolume/core";
import { BROTLI_NAME, BROTLI_PACKAGE, type BrotliBackend } from "./common.js";

/**
 * Node entry (the package's `node` export condition): brotli on node:zlib. Same
 * exports as the web entry, plus `decodeSync`/`encodeSync` on the codec (NodeBrotliCodec).
 */
export { brotliCodec, type NodeBrotliCodec } from "./zlib.js";
export { BROTLI_SUFFIX, DEFAULT_BROTLI_QUALITY, type BrotliBackend } from "./common.js";

/** Which decoder this entry uses (parity with the web entry's export). */
export function brotliDecoderBackend(): BrotliBackend {
  return "node:zlib";
}

/** Plugin descriptor for brotli transfer compression (Content-Encoding `br`, `.br` files). */
export function brotli(): CompressionPlugin {
  return {
    kind: "compression",
    names: [BROTLI_NAME],
    package: BROTLI_PACKAGE,
    load: async () => (await import("./zlib.js")).brotliCodec,
  };
}
