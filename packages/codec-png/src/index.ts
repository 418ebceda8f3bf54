import type { CodecPlugin } from "@cloudvolume/core";
import { PNG_NAME, PNG_PACKAGE } from "./common.js";

export { pngCodec, pngLevel } from "./png.js";
export { DEFAULT_PNG_LEVEL } from "./common.js";

/**
 * Plugin descriptor for the Precomputed `png` encoding. Metadata only: `load()` imports
 * the codec (and fast-png with it) lazily, loaders.gl's pattern.
 */
export function png(): CodecPlugin {
  return {
    kind: "codec",
    names: [PNG_NAME],
    package: PNG_PACKAGE,
    load: async () => (await import("./png.js")).pngCodec,
  };
}
