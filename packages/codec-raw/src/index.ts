import type { CodecPlugin } from "@cloudvolume/core";

export { rawCodec } from "./raw.js";

/**
 * Plugin descriptor for the Precomputed `raw` encoding. `load()` imports the
 * implementation lazily like every codec plugin does (loaders.gl's pattern); raw is
 * tiny, so a bundle that also imports `rawCodec` directly just shares the module.
 */
export function raw(): CodecPlugin {
  return {
    kind: "codec",
    names: ["raw"],
    package: "@cloudvolume/codec-raw",
    load: async () => (await import("./raw.js")).rawCodec,
  };
}
