import type { CompressionPlugin } from "@cloudvolume/core";
import { BROTLI_NAME, BROTLI_PACKAGE } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition): native
 * brotli streams where the runtime has them, else a lazily loaded pure-JS decoder.
 * Node resolves the `node` condition to ./node.ts (node:zlib).
 */
export { brotliCodec, brotliDecoderBackend } from "./web.js";
export { BROTLI_SUFFIX, DEFAULT_BROTLI_QUALITY, type BrotliBackend } from "./common.js";

/** Plugin descriptor for brotli transfer compression (Content-Encoding `br`, `.br` files). */
export function brotli(): CompressionPlugin {
  return {
    kind: "compression",
    names: [BROTLI_NAME],
    package: BROTLI_PACKAGE,
    load: async () => (await import("./web.js")).brotliCodec,
  };
}
