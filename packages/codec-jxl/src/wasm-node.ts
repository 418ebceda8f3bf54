import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { compileOnce } from "@cloudvolume/core";
import { createJxlCodec } from "./jxl.js";

/**
 * Node codec: the .wasm files are read from the installed packages (never fetched) and
 * compiled once per process.
 */
const require = createRequire(import.meta.url);
/** A file of an installed package, found through its package.json (jxl-oxide-wasm's exports map hides the .wasm from require). */
const packageFile = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
const fromPackage = (pkg: string, file: string) => compileOnce(() => readFile(packageFile(pkg, file)));

export const jxlCodec = createJxlCodec({
  decoder: fromPackage("jxl-oxide-wasm", "jxl_oxide_wasm_bg.wasm"),
  encoder: fromPackage("@jsquash/jxl", "codec/enc/jxl_enc.wasm"),
  hint: "The file is read from the installed jxl-oxide-wasm / @jsquash/jxl package; reinstall dependencies if it is missing.",
});
