import { defineConfig } from "tsup";
// Two entries: index (browser/edge default: aliases and secrets only from options) and
// node (also reads aliases.json and the secrets directory), selected by the `node`
// export condition in package.json; s3-store is the `./store` subpath. The AWS SDK
// stays external and loads lazily.
export default defineConfig({ entry: ["src/index.ts", "src/node.ts", "src/s3-store.ts"], format: ["esm"], dts: true, clean: true, target: "es2022", sourcemap: true });
