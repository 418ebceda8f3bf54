import type { ArrayCodec, CodecPlugin } from "@cloudvolume/core";
import { PNG_NAME, PNG_PACKAGE } from "./common.js";
import { pngCodec as fastPngCodec } from "./png.js";
import { createSpngCodec, nativePng } from "./spng.js";

/**
 * Node entry (the package's `node` export condition): libspng (a native addon,
 * CloudVolume's own PNG library) where it is built, else fast-png as everywhere else.
 * Same exports as the default entry.
 */
export { pngLevel } from "./png.js";
export { DEFAULT_PNG_LEVEL } from "./common.js";
export { pngBackend } from "./spng.js";
export { fastPngCodec };

const native = nativePng();
export const pngCodec: ArrayCodec = native ? createSpngCodec(native) : fastPngCodec;

/** Plugin descriptor for the Precomputed `png` encoding. */
export function png(): CodecPlugin {
  return { kind: "codec", names: [PNG_NAME], package: PNG_PACKAGE, load: async () => pngCodec };
}
