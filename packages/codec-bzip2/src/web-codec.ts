import { compileOnce } from "@cloudvolume/core";
import wasm from "bzip2-wasm/bzip2-1.0.8/bzip2.wasm";
import { createBzip2Codec } from "./bzip2.js";

/** The codec with bzip2.wasm inlined by the build (tsup's binary loader). */
export const bzip2Codec = createBzip2Codec(compileOnce(async () => wasm));
