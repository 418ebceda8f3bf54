// Build the native compresso addon with node-gyp (at install). A failed build is not an
// install failure: the codec then runs its TypeScript decoder and encoder, and says so
// (see src/native.ts). Never downloads a prebuild. CLOUDVOLUME_NO_NATIVE=1 skips it.
const { spawnSync } = require("node:child_process");
const { join } = require("node:path");

if (process.env.CLOUDVOLUME_NO_NATIVE) {
  console.log("@cloudvolume/codec-compresso: CLOUDVOLUME_NO_NATIVE is set; using the TypeScript codec");
  process.exit(0);
}
let gyp;
try {
  gyp = require.resolve("node-gyp/bin/node-gyp.js");
} catch {
  console.warn("@cloudvolume/codec-compresso: node-gyp is not installed; using the TypeScript codec");
  process.exit(0);
}
// Build against the installed Node's headers (Debian's nodejs puts them under /usr), never
// a download: pnpm passes the repository's .npmrc nodedir; run by hand, find them here.
const args = [gyp, "rebuild"];
const { existsSync } = require("node:fs");
if (!process.env.npm_config_nodedir) {
  const dir = [join(process.execPath, "..", ".."), "/usr", "/usr/local"].find((d) => existsSync(join(d, "include", "node", "node_api.h")));
  if (dir) args.push(`--nodedir=${dir}`);
}
const r = spawnSync(process.execPath, args, { cwd: join(__dirname, ".."), stdio: "inherit" });
if (r.status !== 0) {
  console.warn("@cloudvolume/codec-compresso: the native addon did not build (needs g++, make and python3); using the TypeScript codec");
}
process.exit(0);
