import { defineConfig } from "tsup";
// Two entries: index (browser/edge default: the .wasm is found by the bundler through
// new URL(..., import.meta.url) inside @jsquash/jpeg) and node (reads the .wasm from the
// package files), selected by the `node` export condition in package.json.
export default defineConfig({ entry: ["src/index.ts", "src/node.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
