import { defineConfig } from "tsup";
// One entry for every runtime: the LZ4 WebAssembly encoder is inlined in numcodecs.js
// (kept external, loaded on first use) and the decoder is plain TypeScript.
export default defineConfig({ entry: ["src/index.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
