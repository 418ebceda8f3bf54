import { defineConfig } from "tsup";
export default defineConfig({
  entry: ["src/index.ts", "src/browser.ts", "src/cli.ts", "src/demo.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/browser.ts"] },
  clean: true,
  target: "node20",
  sourcemap: true,
});
