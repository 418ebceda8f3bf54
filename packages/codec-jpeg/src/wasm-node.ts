import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { compileOnce } from "@cloudvolume/core";
import { createJpegCodec } from "./jpeg.js";

/**
 * Node codec: the .wasm files are read from the installed @jsquash/jpeg package (never
 * fetched) and compiled once per process; instances are made from the compiled module.
 */
const require = createRequire(import.meta.url);
const fromPackage = (file: string) => compileOnce(() => readFile(require.resolve(`@jsquash/jpeg/codec/${file}`)));

export const jpegCodec = createJpegCodec({
  decoder: fromPackage("dec/mozjpeg_dec.wasm"),
  encoder: fromPackage("enc/mozjpeg_enc.wasm"),
  hint: "The file is read from the installed @jsquash/jpeg package; reinstall dependencies if it is missing.",
});
