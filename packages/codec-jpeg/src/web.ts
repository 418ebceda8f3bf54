import { createJpegCodec } from "./jpeg.js";

/**
 * Browser / worker / edge codec: the Emscripten glue in @jsquash/jpeg finds its .wasm
 * through `new URL("mozjpeg_dec.wasm", import.meta.url)`, which bundlers (Vite, webpack 5,
 * esbuild with a file loader, Parcel) turn into an emitted asset.
 */
export const jpegCodec = createJpegCodec({
  hint:
    "In a browser the bundler must emit the .wasm files of @jsquash/jpeg (referenced with new URL(..., import.meta.url)); " +
    "under Node, import @cloudvolume/codec-jpeg through its `node` export condition, which reads them from disk.",
});
