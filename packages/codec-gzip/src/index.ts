import type { CompressionPlugin } from "@cloudvolume/core";
import { GZIP_NAME, GZIP_PACKAGE } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition): gzip on
 * the Compression Streams API. Node resolves the `node` condition to ./node.ts, which
 * uses node:zlib instead (faster, levels, thread pool).
 */
export { gzipCodec } from "./web.js";
export { GZIP_SUFFIX, DEFAULT_GZIP_LEVEL } from "./common.js";

/** Plugin descriptor for gzip transfer compression (Content-Encoding `gzip`, `.gz` files). */
export function gzip(): CompressionPlugin {
  return {
    kind: "compression",
    names: [GZIP_NAME],
    package: GZIP_PACKAGE,
    load: async () => (await import("./web.js")).gzipCodec,
  };
}
