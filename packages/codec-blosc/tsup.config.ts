import { defineConfig } from "tsup";
// One entry for every runtime: plain TypeScript plus fflate and the WebAssembly codecs
// of @cloudvolume/codec-lz4 / -zstd (loaded on first use).
export default defineConfig({ entry: ["src/index.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
