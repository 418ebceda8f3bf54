import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { Context } from "@cloudvolume/core";
import { fixturePath, readGroundTruth, tempDir, runNodeScript, type ScriptResult } from "@cloudvolume/testing";
import { defaultPlugins } from "../src/index.js";
import {
  PLUGIN_ENV, PluginLoadError, extractPluginArgs, loadPluginModule, loadPlugins, pluginSpecs, pluginSpecsFromEnv, resolvePluginSpecifier, whyNotPlugin,
} from "../src/cli-plugins.js";

/**
 * `--plugin <module>` and CLOUDVOLUME_PLUGINS: the built CLI (dist/cli.js) as users run it,
 * with plugin modules from ./plugin-modules, plus the loader's pieces in process.
 */
const pkg = fileURLToPath(new URL("..", import.meta.url));
const cli = join(pkg, "dist", "cli.js");
const modules = fileURLToPath(new URL("./plugin-modules/", import.meta.url));
const mod = (name: string) => join(modules, name);
const run = promisify(execFile);

const cv = (args: string[], env: NodeJS.ProcessEnv = {}) => runNodeScript(cli, args, { env: { ...cleanEnv(), ...env } });

/** The environment without a CLOUDVOLUME_PLUGINS the developer may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[PLUGIN_ENV];
  return env;
}

/** Run the CLI in another working directory (cwd-relative resolution). */
async function cvIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScriptResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd, env: { ...cleanEnv(), ...env }, encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** One non-empty stderr line, nothing on stdout, a non-zero exit. */
function expectOneLineError(r: ScriptResult, code: number, ...parts: (string | RegExp)[]): string {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n");
  expect(lines, r.stderr).toHaveLength(2); // the line and the empty string after its "\n"
  expect(lines[1]).toBe("");
  for (const p of parts) {
    if (typeof p === "string") expect(lines[0]).toContain(p);
    else expect(lines[0]).toMatch(p);
  }
  return lines[0];
}

const NOT_A_PLUGIN = `is not a Plugin (expected an object with kind "storage" | "codec" | "compression" | "format" and load(), or an array of them); got `;

/** A small uint16 layer at <root>/<name>, made by the CLI with no plugins; returns its voxels. */
async function makeLayer(root: string, name: string, size: [number, number, number] = [10, 6, 4]): Promise<Uint16Array> {
  const layer = join(root, name);
  let r = await cv(["create", `file://${layer}`, "--type", "image", "--dtype", "uint16", "--encoding", "raw",
    "--resolution", "4,4,40", "--size", size.join(","), "--chunk-size", "4,4,2"]);
  expect(r.code, r.stderr).toBe(0);
  const data = new Uint16Array(size[0] * size[1] * size[2]).map((_, i) => (i * 7919 + size[0]) & 0xffff);
  const input = join(root, `${name}.in.bin`);
  writeFileSync(input, new Uint8Array(data.buffer));
  r = await cv(["upload", layer, "--bbox", `0,0,0,${size.join(",")}`, "--in", input]);
  expect(r.code, r.stderr).toBe(0);
  return data;
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  if (!existsSync(cli)) await run("pnpm", ["exec", "turbo", "run", "build", "--filter=cloudvolume..."], { cwd: join(pkg, "..", "..") });
}, 180_000);

describe("cloudvolume --plugin: loading and using plugins", () => {
  it("without the plugin an unknown protocol fails with core's message, printed unchanged on one line", async () => {
    const root = tempDir();
    await makeLayer(root, "lay");
    const r = await cv(["info", "alias://lay"], { CV_ALIAS_ROOT: root });
    const expected = await new Context({ plugins: [] }).storage("alias://lay").then(() => "", (e: Error) => e.message);
    expect(expected).toContain("--plugin");
    expect(expected).toContain("CLOUDVOLUME_PLUGINS");
    const line = expectOneLineError(r, 1);
    expect(line).toBe(`cloudvolume info: ${expected}`);
  });

  it("an unknown format prefix names --plugin and CLOUDVOLUME_PLUGINS", async () => {
    const r = await cv(["info", `npychunks://file://${tempDir()}`]);
    expectOneLineError(r, 1, /^cloudvolume info: no format plugin for "npychunks"/, "--plugin", "CLOUDVOLUME_PLUGINS");
  });

  it("info and download through a storage plugin, --plugin after, before and =", async () => {
    const root = tempDir();
    const data = await makeLayer(root, "lay");
    const env = { CV_ALIAS_ROOT: root };
    const expectedInfo = JSON.parse(readFileSync(join(root, "lay", "info"), "utf8"));
    for (const args of [
      ["info", "alias://lay", "--plugin", mod("alias-storage.mjs")],
      ["info", "--plugin", mod("alias-storage.mjs"), "alias://lay"],
      ["info", `--plugin=${mod("alias-storage.mjs")}`, "alias://lay"],
      ["--plugin", mod("alias-storage.mjs"), "info", "alias://lay"],
      ["info", "alias://lay", "--plugin", pathToFileURL(mod("alias-storage.mjs")).href],
    ]) {
      const r = await cv(args, env);
      expect(r.stderr, args.join(" ")).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expectedInfo);
    }
    const dir = tempDir();
    for (const [i, args] of [
      ["download", "alias://lay", "--bbox", "0,0,0,10,6,4", "--out", join(dir, "a.bin"), "--plugin", mod("alias-storage.mjs")],
      ["download", "--plugin", mod("alias-storage.mjs"), "alias://lay", "--bbox=0,0,0,10,6,4", `--out=${join(dir, "b.bin")}`],
      ["download", `--plugin=${mod("alias-storage.mjs")}`, "alias://lay", "--bbox", "0,0,0,10,6,4", "--out", join(dir, "c.bin"), "--parallel", "2"],
    ].entries()) {
      const r = await cv(args, env);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(dir, "abc"[i] + ".bin")).equals(bytes(data)), args.join(" ")).toBe(true);
    }
  });

  it("CLOUDVOLUME_PLUGINS does the same for every command (blanks ignored)", async () => {
    const root = tempDir();
    const data = await makeLayer(root, "lay");
    const env = { CV_ALIAS_ROOT: root, [PLUGIN_ENV]: ` , ${mod("alias-storage.mjs")},, ` };
    const r = await cv(["info", "alias://lay"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scales[0].size).toEqual([10, 6, 4]);
    const out = join(tempDir(), "o.bin");
    const d = await cv(["download", "alias://lay", "--bbox", "0,0,0,10,6,4", "--out", out], env);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes(data))).toBe(true);
  });

  it("every command opens its volumes with the plugins (create, upload, exists, unique, point, delete, cp)", async () => {
    const root = tempDir();
    const env = { CV_ALIAS_ROOT: root, [PLUGIN_ENV]: mod("alias-storage.mjs") };
    let r = await cv(["create", "alias://made", "--type", "segmentation", "--dtype", "uint32", "--encoding", "raw",
      "--resolution", "1,1,1", "--size", "8,8,2", "--chunk-size", "4,4,2"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "made", "info"), "utf8")).scales[0].size).toEqual([8, 8, 2]);
    const data = new Uint32Array(8 * 8 * 2).map((_, i) => (i % 5) * 3);
    writeFileSync(join(root, "in.bin"), new Uint8Array(data.buffer));
    r = await cv(["upload", "alias://made", "--bbox", "0,0,0,8,8,2", "--in", join(root, "in.bin")], env);
    expect(r.code, r.stderr).toBe(0);
    r = await cv(["exists", "alias://made", "--bbox", "0,0,0,8,8,2"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("4 of 4 chunks exist (mip 0)\n");
    r = await cv(["unique", "alias://made", "--bbox", "0,0,0,8,8,2"], env);
    expect(r.stdout).toBe("0\n3\n6\n9\n12\n");
    r = await cv(["point", "alias://made", "3,1,1"], env);
    expect(r.stdout).toBe(`${data[3 + 8 * (1 + 8 * 1)]}\n`);
    r = await cv(["cp", "alias://made", "alias://copy", "--encoding", "compressed_segmentation"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "copy", "info"), "utf8")).scales[0].encoding).toBe("compressed_segmentation");
    const out = join(root, "copy.bin");
    r = await cv(["download", "alias://copy", "--bbox", "0,0,0,8,8,2", "--out", out], env);
    expect(readFileSync(out).equals(bytes(data))).toBe(true);
    r = await cv(["delete", "alias://copy", "--bbox", "0,0,0,4,4,2"], env);
    expect(r.stdout).toBe("deleted 1 chunk file(s)\n");
    r = await cv(["exists", "alias://copy", "--bbox", "0,0,0,8,8,2"], env);
    expect(r.stdout.split("\n")[0]).toBe("3 of 4 chunks exist (mip 0)");
  });

  it("skeleton get and mesh get read through the plugin (fixtures read in place)", async () => {
    const env = { CV_ALIAS_ROOT: dirname(fixturePath("pc_skeleton_unsharded")), [PLUGIN_ENV]: mod("alias-storage.mjs") };
    const dir = tempDir();
    let r = await cv(["skeleton", "get", "alias://pc_skeleton_unsharded", "9223372036854775819", "--out", join(dir, "a.json")], env);
    expect(r.code, r.stderr).toBe(0);
    r = await cv(["skeleton", "get", fixturePath("pc_skeleton_unsharded"), "9223372036854775819", "--out", join(dir, "b.json")]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "a.json"), "utf8")).toBe(readFileSync(join(dir, "b.json"), "utf8"));
    r = await cv(["mesh", "get", "alias://pc_mesh_legacy", "1099511627783", "--out", join(dir, "a.ply")], env);
    expect(r.code, r.stderr).toBe(0);
    r = await cv(["mesh", "get", fixturePath("pc_mesh_legacy"), "1099511627783", "--out", join(dir, "b.ply")]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "a.ply")).equals(readFileSync(join(dir, "b.ply")))).toBe(true);
  });

  it("an array default export and a named `plugins` export", async () => {
    const first = tempDir();
    const second = tempDir();
    await makeLayer(first, "one", [4, 4, 2]);
    await makeLayer(second, "two", [6, 4, 2]);
    const env = { CV_FIRST_ROOT: first, CV_SECOND_ROOT: second, CV_ALIAS_ROOT: first };
    let r = await cv(["info", "first://one", "--plugin", mod("alias-array.mjs")], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scales[0].size).toEqual([4, 4, 2]);
    r = await cv(["info", "second://two", "--plugin", mod("alias-array.mjs")], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scales[0].size).toEqual([6, 4, 2]);
    r = await cv(["info", "named://one", "--plugin", mod("named-plugins.mjs")], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scales[0].size).toEqual([4, 4, 2]);
  });

  it("precedence: --plugin before CLOUDVOLUME_PLUGINS before the built-in plugins", async () => {
    const a = tempDir();
    const b = tempDir();
    await makeLayer(a, "lay", [4, 4, 2]);
    await makeLayer(b, "lay", [6, 4, 2]);
    const size = async (args: string[], env: NodeJS.ProcessEnv) => {
      const r = await cv(args, { CV_ALIAS_ROOT: a, CV_OTHER_ROOT: b, ...env });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).scales[0].size;
    };
    // Both modules answer alias://; the one given first is used.
    expect(await size(["info", "alias://lay", "--plugin", mod("alias-other.mjs")], { [PLUGIN_ENV]: mod("alias-storage.mjs") })).toEqual([6, 4, 2]);
    expect(await size(["info", "alias://lay", "--plugin", mod("alias-storage.mjs")], { [PLUGIN_ENV]: mod("alias-other.mjs") })).toEqual([4, 4, 2]);
    expect(await size(["info", "alias://lay", "--plugin", mod("alias-other.mjs"), "--plugin", mod("alias-storage.mjs")], {})).toEqual([6, 4, 2]);
    expect(await size(["info", "alias://lay"], { [PLUGIN_ENV]: `${mod("alias-storage.mjs")},${mod("alias-other.mjs")}` })).toEqual([4, 4, 2]);
    // A plugin for file:// comes before the built-in file storage.
    const nowhere = join(tempDir(), "nowhere", "lay");
    expect(await size(["info", `file://${nowhere}`, "--plugin", mod("shadow-file.mjs")], { CV_SHADOW_ROOT: b })).toEqual([6, 4, 2]);
    expectOneLineError(await cv(["info", `file://${nowhere}`]), 1);
  });

  it("relative paths resolve against the working directory (INIT_CWD under pnpm), bare packages from node_modules there", async () => {
    const root = tempDir();
    await makeLayer(root, "lay", [4, 4, 2]);
    const work = tempDir();
    // A package in the user's node_modules whose exports have only the "import" condition (as this repo's packages).
    const pkgDir = join(work, "node_modules", "@test", "cv-alias-plugin");
    mkdirSync(join(pkgDir, "lib"), { recursive: true });
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({
      name: "@test/cv-alias-plugin", type: "module", exports: { ".": { types: "./lib/x.d.ts", import: "./lib/index.js" }, "./extra/*": { import: "./lib/*.js" } },
    }));
    writeFileSync(join(pkgDir, "lib", "index.js"), `export { default } from ${JSON.stringify(pathToFileURL(mod("alias-storage.mjs")).href)};\n`);
    writeFileSync(join(pkgDir, "lib", "other.js"), `export { default } from ${JSON.stringify(pathToFileURL(mod("alias-other.mjs")).href)};\n`);
    const rel = relative(work, mod("alias-storage.mjs"));
    const env = { CV_ALIAS_ROOT: root, CV_OTHER_ROOT: root };
    for (const spec of [rel, `./${rel}`, "@test/cv-alias-plugin", "@test/cv-alias-plugin/extra/other"]) {
      const r = await cvIn(work, ["info", "alias://lay", "--plugin", spec], env);
      expect(r.code, `${spec}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout).scales[0].size).toEqual([4, 4, 2]);
    }
    // Through `pnpm -s cloudvolume`: the CLI starts in the workspace root and moves to INIT_CWD.
    const r = await cvIn(pkg, ["info", "alias://lay", "--plugin", `./${rel}`], { ...env, INIT_CWD: work, npm_lifecycle_event: "cloudvolume" });
    expect(r.code, r.stderr).toBe(0);
    const bare = await cvIn(pkg, ["info", "alias://lay"], { ...env, INIT_CWD: work, npm_lifecycle_event: "cloudvolume", [PLUGIN_ENV]: "@test/cv-alias-plugin" });
    expect(bare.code, bare.stderr).toBe(0);
    // Not found from the package directory itself, where no such node_modules exists.
    expectOneLineError(await cvIn(pkg, ["info", "alias://lay", "--plugin", "@test/cv-alias-plugin"], env), 2, "--plugin @test/cv-alias-plugin: cannot find the package");
  });

  it("--help documents --plugin and CLOUDVOLUME_PLUGINS", async () => {
    const r = await cv(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--plugin <module>/);
    expect(r.stdout).toContain("CLOUDVOLUME_PLUGINS");
    expect(r.stdout.split("\n")[0]).toBe("usage: cloudvolume [--plugin <module>]... <command> [options]");
  });
});

describe("cloudvolume --plugin: bad modules give one error line naming the module", () => {
  const errorCases: [string, string, number, string][] = [
    ["throws.mjs", "throws on import", 1, "importing it threw: plugin module exploded on purpose"],
    ["not-a-plugin-number.mjs", "default export is a number", 2, `its default export ${NOT_A_PLUGIN}the number 42`],
    ["bogus-kind.mjs", "default export has an unknown kind", 2, `its default export ${NOT_A_PLUGIN}an object with kind "bogus"`],
    ["array-with-bad.mjs", "array holding a non-plugin", 2, `its default export ${NOT_A_PLUGIN}an array whose item 1 is a "storage" plugin object without a protocols array of strings`],
    ["factory-default.mjs", "default export is the factory", 2, `its default export ${NOT_A_PLUGIN}a function aliasFactory (a plugin factory? export its result`],
    ["no-default.mjs", "no default export", 2, "it has no default export (expected an object with kind"],
    ["missing.mjs", "missing path", 2, `no such file ${mod("missing.mjs")}`],
  ];
  for (const [file, what, code, message] of errorCases) {
    it(`${what} (--plugin, exit ${code})`, async () => {
      const root = tempDir();
      const r = await cv(["info", "alias://lay", "--plugin", mod(file)], { CV_ALIAS_ROOT: root });
      const line = expectOneLineError(r, code, `cloudvolume info: --plugin ${mod(file)}: `, message);
      expect(line).not.toContain("CLOUDVOLUME_PLUGINS");
    });
    it(`${what} (CLOUDVOLUME_PLUGINS, exit ${code})`, async () => {
      const r = await cv(["download", "alias://lay", "--bbox", "0,0,0,1,1,1", "--out", join(tempDir(), "x")], { [PLUGIN_ENV]: mod(file) });
      expectOneLineError(r, code, `cloudvolume download: CLOUDVOLUME_PLUGINS ${mod(file)}: `, message);
    });
  }

  it("a bare package name that cannot be resolved", async () => {
    const r = await cvIn(tempDir(), ["info", "x", "--plugin", "cloudvolume-plugin-that-does-not-exist"]);
    expectOneLineError(r, 2, /^cloudvolume info: --plugin cloudvolume-plugin-that-does-not-exist: cannot find the package "cloudvolume-plugin-that-does-not-exist"/);
    const e = await cvIn(tempDir(), ["point", "x", "1,2,3"], { [PLUGIN_ENV]: "@nobody/cv-nothing" });
    expectOneLineError(e, 2, "cloudvolume point: CLOUDVOLUME_PLUGINS @nobody/cv-nothing: cannot find the package");
  });

  it("a good module before a bad one still fails, naming the bad one", async () => {
    const r = await cv(["info", "alias://lay", "--plugin", mod("alias-storage.mjs")], { [PLUGIN_ENV]: `${mod("alias-storage.mjs")},${mod("bogus-kind.mjs")}` });
    expectOneLineError(r, 2, `CLOUDVOLUME_PLUGINS ${mod("bogus-kind.mjs")}: its default export ${NOT_A_PLUGIN}`);
  });

  it("--plugin without a value is a usage error", async () => {
    expectOneLineError(await cv(["info", "x", "--plugin"]), 2, "cloudvolume info: --plugin needs a value");
    expectOneLineError(await cv(["info", "x", "--plugin="]), 2, "--plugin needs a value");
  });
});

describe("cli-plugins in process", () => {
  it("extractPluginArgs takes --plugin from anywhere before --, in order", () => {
    expect(extractPluginArgs(["--plugin", "a", "info", "p", "--plugin=b", "--mip", "1", "--plugin", "c"])).toEqual({ argv: ["info", "p", "--mip", "1"], specs: ["a", "b", "c"] });
    expect(extractPluginArgs(["info", "--", "--plugin", "x"])).toEqual({ argv: ["info", "--", "--plugin", "x"], specs: [] });
    expect(() => extractPluginArgs(["info", "--plugin"])).toThrow(/needs a value/);
    expect(() => extractPluginArgs(["info", "--plugin=  "])).toThrow(/needs a value/);
  });

  it("CLOUDVOLUME_PLUGINS splits on commas, ignores blanks, and comes after --plugin", () => {
    expect(pluginSpecsFromEnv({ [PLUGIN_ENV]: " a, ,b ,,  " })).toEqual(["a", "b"]);
    expect(pluginSpecsFromEnv({})).toEqual([]);
    expect(pluginSpecs(["x"], { [PLUGIN_ENV]: "y,z" })).toEqual([
      { spec: "x", origin: "--plugin" }, { spec: "y", origin: PLUGIN_ENV }, { spec: "z", origin: PLUGIN_ENV },
    ]);
  });

  it("whyNotPlugin accepts the real default plugins and rejects near misses", () => {
    for (const p of defaultPlugins()) expect(whyNotPlugin(p), p.package).toBeUndefined();
    const load = async () => ({});
    expect(whyNotPlugin({ kind: "codec", names: ["x"], package: "p", load })).toBeUndefined();
    expect(whyNotPlugin({ kind: "codec", protocols: ["x"], package: "p", load })).toMatch(/names array/);
    expect(whyNotPlugin({ kind: "storage", protocols: ["x"], package: "p" })).toMatch(/without load\(\)/);
    expect(whyNotPlugin({ kind: "storage", protocols: ["x"], load })).toMatch(/package name/);
    expect(whyNotPlugin({ protocols: ["x"], load })).toMatch(/without kind \(keys: protocols, load\)/);
    expect(whyNotPlugin(null)).toBe("null");
    expect(whyNotPlugin("s3")).toBe('the string "s3"');
  });

  it("loadPlugins keeps the order given and returns the modules' plugin objects", async () => {
    const got = await loadPlugins([{ spec: mod("alias-array.mjs"), origin: "--plugin" }, { spec: mod("alias-storage.mjs"), origin: PLUGIN_ENV }]);
    expect(got.map((p) => (p.kind === "storage" ? p.protocols[0] : ""))).toEqual(["first", "second", "alias"]);
    const again = await loadPlugins([{ spec: mod("alias-storage.mjs"), origin: "--plugin" }, { spec: pathToFileURL(mod("alias-storage.mjs")).href, origin: PLUGIN_ENV }]);
    expect(again).toHaveLength(1);
  });

  it("loadPluginModule errors carry the origin, the specifier and an exit code", async () => {
    const err = await loadPluginModule({ spec: "./nope.mjs", origin: PLUGIN_ENV }, tempDir()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PluginLoadError);
    expect((err as PluginLoadError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^CLOUDVOLUME_PLUGINS \.\/nope\.mjs: no such file /);
    const threw = await loadPluginModule({ spec: mod("throws.mjs"), origin: "--plugin" }).then(() => undefined, (e: unknown) => e);
    expect((threw as PluginLoadError).exitCode).toBe(1);
  });

  it("resolvePluginSpecifier: paths against cwd, file URLs, packages by their import exports", () => {
    const work = tempDir();
    writeFileSync(join(work, "p.mjs"), "export default 1;\n");
    const pkgDir = join(work, "node_modules", "esm-only");
    mkdirSync(join(pkgDir, "dist"), { recursive: true });
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: "esm-only", exports: { ".": { require: "./dist/x.cjs", import: "./dist/index.mjs" } } }));
    writeFileSync(join(pkgDir, "dist", "index.mjs"), "export default 1;\n");
    const url = (p: string) => pathToFileURL(p).href;
    expect(resolvePluginSpecifier("./p.mjs", work)).toBe(url(join(work, "p.mjs")));
    expect(resolvePluginSpecifier("p.mjs", work)).toBe(url(join(work, "p.mjs")));
    expect(resolvePluginSpecifier(join(work, "p.mjs"), "/")).toBe(url(join(work, "p.mjs")));
    expect(resolvePluginSpecifier(url(join(work, "p.mjs")), "/")).toBe(url(join(work, "p.mjs")));
    expect(resolvePluginSpecifier("esm-only", work)).toBe(url(join(pkgDir, "dist", "index.mjs")));
    expect(resolvePluginSpecifier("esm-only", join(work, "node_modules"))).toBe(url(join(pkgDir, "dist", "index.mjs"))); // found walking up
    expect(() => resolvePluginSpecifier("esm-only/missing", work)).toThrow(/exports nothing for "\.\/missing"/);
    expect(() => resolvePluginSpecifier("./q.mjs", work)).toThrow(/no such file/);
    expect(() => resolvePluginSpecifier("not-installed-anywhere-xyz", work)).toThrow(/cannot find the package "not-installed-anywhere-xyz"/);
  });
});

describe("cloudvolume --plugin on a conformance fixture", () => {
  it("download through alias:// equals the ground truth", async () => {
    const name = "pc_image_u8_raw_ragged_offset";
    const out = join(tempDir(), "o.bin");
    const r = await cv(["download", `alias://${name}`, "--bbox", "3,5,7,53,50,27", "--out", out, "--plugin", mod("alias-storage.mjs")], { CV_ALIAS_ROOT: dirname(fixturePath(name)) });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out).equals(Buffer.from(readGroundTruth(name).bytes))).toBe(true);
  });
});
