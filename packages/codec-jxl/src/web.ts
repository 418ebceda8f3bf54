import { createJxlCodec } from "./jxl.js";

/**
 * Browser / worker / edge codec: the glue code of jxl-oxide-wasm and @jsquash/jxl finds
 * each .wasm through `new URL("<file>.wasm", import.meta.url)`, which bundlers (Vite,
 * webpack 5, esbuild with a file loader, Parcel) turn into an emitted asset.
 */
export const jxlCodec = createJxlCodec({
  hint:
    "In a browser the bundler must emit the .wasm files of jxl-oxide-wasm and @jsquash/jxl (referenced with new URL(..., import.meta.url)); " +
    "under Node, import @cloudvolume/codec-jxl through its `node` export condition, which reads them from disk.",
});
