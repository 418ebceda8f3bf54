import type { CodecPlugin } from "@cloudvolume/core";
import { JXL_NAME, JXL_PACKAGE } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition). Node resolves
 * the `node` condition to ./node.ts, which reads the .wasm files from disk instead.
 */
export { jxlCodec } from "./web.js";
export { createJxlCodec, jxlSettings, type JxlWasmSources } from "./jxl.js";
export { readJxlHeader, type JxlHeader } from "./header.js";
export { compileOnce, type WasmSource } from "@cloudvolume/core";
export { DEFAULT_JXL_EFFORT, DEFAULT_JXL_QUALITY } from "./common.js";

/** Plugin descriptor for the Precomputed `jxl` (JPEG XL) encoding; `load()` imports the codec lazily. */
export function jxl(): CodecPlugin {
  return {
    kind: "codec",
    // CloudVolume names this encoding "jpegxl"; Neuroglancer and our writer use "jxl".
    names: [JXL_NAME, "jpegxl"],
    package: JXL_PACKAGE,
    load: async () => (await import("./web.js")).jxlCodec,
  };
}
