import type { CodecPlugin } from "@cloudvolume/core";
import { JPEG_NAME, JPEG_PACKAGE } from "./common.js";

/**
 * Node entry (the package's `node` export condition): libturbojpeg (a native addon,
 * CloudVolume's own JPEG library) where it is built, else the same WebAssembly codec as
 * elsewhere with the MozJPEG .wasm files read from the installed package.
 */
export { jpegCodec, jpegWasmCodec } from "./node-codec.js";
export { jpegBackend } from "./turbo.js";
export { createJpegCodec, jpegQuality, readJpegFrame, type JpegFrame, type JpegWasmSources } from "./jpeg.js";
export { compileOnce, type WasmSource } from "@cloudvolume/core";
export { DEFAULT_JPEG_QUALITY } from "./common.js";

/** Plugin descriptor for the Precomputed `jpeg` encoding; `load()` imports the codec lazily. */
export function jpeg(): CodecPlugin {
  return {
    kind: "codec",
    names: [JPEG_NAME],
    package: JPEG_PACKAGE,
    load: async () => (await import("./node-codec.js")).jpegCodec,
  };
}
