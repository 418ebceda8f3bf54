import { defineConfig } from "tsup";
export default defineConfig({
  // worker.ts: the entry of the worker threads that parallel reads start (worker-pool.ts).
  entry: ["src/index.ts", "src/browser.ts", "src/cli.ts", "src/demo.ts", "src/worker.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/browser.ts"] },
  clean: true,
  target: "node20",
  sourcemap: true,
});
