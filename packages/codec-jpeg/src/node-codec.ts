import type { ArrayCodec } from "@cloudvolume/core";
import { jpegCodec as jpegWasmCodec } from "./wasm-node.js";
import { createTurboJpegCodec, nativeJpeg } from "./turbo.js";

/** Node's jpeg codec: libturbojpeg where its addon is built (jpegBackend()), else the WebAssembly one. */
const native = nativeJpeg();
export const jpegCodec: ArrayCodec = native ? createTurboJpegCodec(native) : jpegWasmCodec;
export { jpegWasmCodec };
