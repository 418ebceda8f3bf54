import type { CodecPlugin } from "@cloudvolume/core";
import { JPEG_NAME, JPEG_PACKAGE } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition). Node resolves
 * the `node` condition to ./node.ts, which reads the .wasm files from disk instead.
 */
export { jpegCodec } from "./web.js";
export { createJpegCodec, jpegQuality, readJpegFrame, type JpegFrame, type JpegWasmSources } from "./jpeg.js";
export { compileOnce, type WasmSource } from "@cloudvolume/core";
export { DEFAULT_JPEG_QUALITY } from "./common.js";

/** Plugin descriptor for the Precomputed `jpeg` encoding; `load()` imports the codec lazily. */
export function jpeg(): CodecPlugin {
  return {
    kind: "codec",
    names: [JPEG_NAME],
    package: JPEG_PACKAGE,
    load: async () => (await import("./web.js")).jpegCodec,
  };
}
