import { bzip2Plugin } from "./plugin.js";

/** Node entry (the `node` export condition): bzip2.wasm is read from the installed bzip2-wasm package. */
export { createBzip2Codec, BZIP2_SUFFIX, DEFAULT_BZIP2_LEVEL } from "./bzip2.js";
export { bzip2Codec } from "./node-codec.js";

/** Plugin descriptor for bzip2 (names "bzip2" and "bz2": zarr's numcodecs id is "bz2", n5's type "bzip2"). */
export function bzip2() {
  return bzip2Plugin(async () => (await import("./node-codec.js")).bzip2Codec);
}

export default [bzip2()];
