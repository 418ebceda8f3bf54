import type { CodecPlugin } from "@cloudvolume/core";
import { JPEG_NAME, JPEG_PACKAGE } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition). Node resolves
 * the `node` condition to ./node.ts, which reads the .wasm files from disk instead.
 */
export { jpegCodec, jpegCodec as jpegWasmCodec } from "./web.js";
export { createJpegCodec, jpegQuality, readJpegFrame, type JpegFrame, type JpegWasmSources } from "./jpeg.js";
export { compileOnce, type WasmSource } from "@cloudvolume/core";
export { DEFAULT_JPEG_QUALITY } from "./common.js";

/** Which implementation runs: here always the WebAssembly codec (Node's entry may use libturbojpeg). */
export function jpegBackend(): { backend: "libturbojpeg" | "wasm"; why: string } {
  return { backend: "wasm", why: "the browser / edge entry of @cloudvolume/codec-jpeg" };
}

/** Plugin descriptor for the Precomputed `jpeg` encoding; `load()` imports the codec lazily. */
export function jpeg(): CodecPlugin {
  return {
    kind: "codec",
    names: [JPEG_NAME],
    package: JPEG_PACKAGE,
    load: async () => (await import("./web.js")).jpegCodec,
  };
}
