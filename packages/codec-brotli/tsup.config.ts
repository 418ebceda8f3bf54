import { defineConfig } from "tsup";
// Two entries: index (browser/edge default, Compression Streams) and node (node:zlib),
// selected by the `node` export condition in package.json.
export default defineConfig({ entry: ["src/index.ts", "src/node.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
