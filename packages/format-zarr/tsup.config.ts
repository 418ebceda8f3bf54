import { defineConfig } from "tsup";
// One entry: no Node built-ins (storage and compressors come from the Context's plugins).
export default defineConfig({ entry: ["src/index.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
