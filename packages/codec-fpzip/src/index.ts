import type { CodecPlugin } from "@cloudvolume/core";

export { fpzipCodec, kempressedCodec, fpzipPrecision, FPZIP, KEMPRESSED } from "./codec.js";
export { fpzipBackend, nativeFpzip, type NativeFpzip } from "./native.js";

const PACKAGE_NAME = "@cloudvolume/codec-fpzip";

/** Plugin descriptor for the Precomputed `fpzip` encoding (loaded lazily; needs the native addon). */
export function fpzip(): CodecPlugin {
  return { kind: "codec", names: ["fpzip"], package: PACKAGE_NAME, load: async () => (await import("./codec.js")).fpzipCodec };
}

/** Plugin descriptor for the Precomputed `kempressed` encoding (fpzip of data + 2 with z and channels swapped). */
export function kempressed(): CodecPlugin {
  return { kind: "codec", names: ["kempressed"], package: PACKAGE_NAME, load: async () => (await import("./codec.js")).kempressedCodec };
}

export default [fpzip(), kempressed()];
