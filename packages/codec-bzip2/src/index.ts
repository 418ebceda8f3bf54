import { bzip2Plugin } from "./plugin.js";

/**
 * Browser / worker / edge entry: the same libbzip2 module, inlined in a chunk that is
 * imported on first use. Node resolves the `node` condition to ./node.ts instead.
 */
export { createBzip2Codec, BZIP2_SUFFIX, DEFAULT_BZIP2_LEVEL } from "./bzip2.js";

/** Plugin descriptor for bzip2 (names "bzip2" and "bz2": zarr's numcodecs id is "bz2", n5's type "bzip2"). */
export function bzip2() {
  return bzip2Plugin(async () => (await import("./web-codec.js")).bzip2Codec);
}

export default [bzip2()];
