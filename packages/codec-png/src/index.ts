import type { CodecPlugin } from "@cloudvolume/core";
import { PNG_NAME, PNG_PACKAGE } from "./common.js";

export { pngCodec, pngCodec as fastPngCodec, pngLevel } from "./png.js";
export { DEFAULT_PNG_LEVEL } from "./common.js";

/** Which implementation runs: here always fast-png (Node's entry may use libspng). */
export function pngBackend(): { backend: "libspng" | "fast-png"; why: string } {
  return { backend: "fast-png", why: "the default (browser / edge) entry of @cloudvolume/codec-png" };
}

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
