import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { compileOnce } from "@cloudvolume/core";
import { createBzip2Codec } from "./bzip2.js";

/** The codec with bzip2.wasm read from the installed bzip2-wasm package. */
export const bzip2Codec = createBzip2Codec(compileOnce(() => readFile(createRequire(import.meta.url).resolve("bzip2-wasm/bzip2-1.0.8/bzip2.wasm"))));
