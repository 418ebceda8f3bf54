import type { CodecPlugin } from "@cloudvolume/core";

export { zfpcCodec, zfpcSettings, ZFPC, type ZfpcSettings } from "./codec.js";
export { readHeader, writeHeader, hyperplanes, readStreams, writeContainer, HEADER_BYTES, ZFPC_TYPES, ZfpcMode, type ZfpcHeader, type Hyperplane } from "./container.js";
export { zfpcBackend, nativeZfp, type NativeZfp } from "./native.js";

/** Plugin descriptor for the Precomputed `zfpc` encoding (loaded lazily; zfp streams need the native addon). */
export function zfpc(): CodecPlugin {
  return { kind: "codec", names: ["zfpc"], package: "@cloudvolume/codec-zfpc", load: async () => (await import("./codec.js")).zfpcCodec };
}

export default [zfpc()];
