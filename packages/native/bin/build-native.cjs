#!/usr/bin/env node
// Builds the node-addon-api addon of the package in the current directory with node-gyp,
// run from that package's `install` script:
//   cloudvolume-build-native [--needs "libfpzip-dev"] <what happens without the addon>
// A failed build is not an install failure: the package then uses its pure decoder (or
// says, when used, what is missing; see src/index.ts). Never downloads a prebuild.
// CLOUDVOLUME_NO_NATIVE=1 skips the build.
const { spawnSync } = require("node:child_process");
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

const cwd = process.cwd();
const name = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8")).name;
const argv = process.argv.slice(2);
const needsAt = argv.indexOf("--needs");
const needs = needsAt >= 0 ? argv.splice(needsAt, 2)[1] : "";
const fallback = argv.join(" ") || "the codec is unavailable until it is rebuilt";

if (process.env.CLOUDVOLUME_NO_NATIVE) {
  console.log(`${name}: CLOUDVOLUME_NO_NATIVE is set; ${fallback}`);
  process.exit(0);
}
let gyp;
try {
  gyp = require.resolve("node-gyp/bin/node-gyp.js");
} catch {
  console.warn(`${name}: node-gyp is not installed; ${fallback}`);
  process.exit(0);
}
// Build against the installed Node's headers (Debian's nodejs puts them under /usr), never
// a download: pnpm passes the repository's .npmrc nodedir; run by hand, find them here.
const args = [gyp, "rebuild"];
if (!process.env.npm_config_nodedir) {
  const dir = [join(process.execPath, "..", ".."), "/usr", "/usr/local"].find((d) => existsSync(join(d, "include", "node", "node_api.h")));
  if (dir) args.push(`--nodedir=${dir}`);
}
const r = spawnSync(process.execPath, args, { cwd, stdio: "inherit" });
if (r.status !== 0) {
  console.warn(`${name}: the native addon did not build (it needs g++, make and python3${needs ? ` and ${needs}` : ""}); ${fallback}`);
}
process.exit(0);
