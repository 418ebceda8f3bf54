import { readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests run against package sources, not dist: every @cloudvolume/<name> import
// resolves to packages/<name>/src/node.ts when the package has a Node-specific entry
// (its `node` export condition), else src/index.ts, so `pnpm test` needs no build first.
const root = fileURLToPath(new URL("./packages/", import.meta.url));
const alias = readdirSync(root)
  .filter((name) => existsSync(`${root}${name}/src/index.ts`))
  .map((name) => ({
    find: new RegExp(`^@cloudvolume/${name}$`),
    replacement: existsSync(`${root}${name}/src/node.ts`) ? `${root}${name}/src/node.ts` : `${root}${name}/src/index.ts`,
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
    // In CI also write a JSON report; .ci/run prints its counts as a closing line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]] : ["default"],
  },
});
