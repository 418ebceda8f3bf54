import { defineConfig } from "tsup";
// Two entries, selected by the `node` export condition: node reads bzip2.wasm from the
// installed bzip2-wasm package; index (browsers, workers, edge) carries it inlined (the
// `binary` loader, in the lazily imported chunk only), so no bundler has to find a file.
export default defineConfig({
  entry: ["src/index.ts", "src/node.ts"],
  format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true,
  loader: { ".wasm": "binary" },
  noExternal: [/\.wasm$/],
});
