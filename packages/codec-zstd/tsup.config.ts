import { defineConfig } from "tsup";
// One entry for every runtime: the zstd WebAssembly module comes inlined in numcodecs.js
// (kept external, loaded on first use), so nothing here needs Node built-ins.
export default defineConfig({ entry: ["src/index.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
