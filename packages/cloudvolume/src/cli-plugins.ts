import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Plugin } from "@cloudvolume/core";
import { CloudVolume, type CloudVolumeOptions } from "./index.js";
import { UsageError } from "./args.js";

/**
 * Plugins for the CLI: `--plugin <module>` (repeatable, anywhere on the command line)
 * and `CLOUDVOLUME_PLUGINS` (comma-separated). Each module's default export is a Plugin
 * or an array of Plugins (a named export `plugins` is accepted when there is no default).
 * The loaded plugins go to every CloudVolume.open the commands make (openVolume), ahead
 * of the default set: --plugin modules first, in the order given, then CLOUDVOLUME_PLUGINS.
 */

export const PLUGIN_ENV = "CLOUDVOLUME_PLUGINS";

export const PLUGIN_USAGE = `  every command also takes --plugin <module> (repeatable; before or after the command)`;

export const PLUGIN_HELP = `--plugin <module> loads plugins (storage protocols, codecs, compressions, formats) from a
module whose default export is a Plugin or an array of Plugins: a path (relative to the
current directory), a file:// URL or an installed package name. It may be repeated and goes
anywhere on the command line (--plugin=<module> too). ${PLUGIN_ENV}=<module>,<module>,...
does the same for every command. Plugins are tried before the built-in ones: --plugin
modules first, in order, then ${PLUGIN_ENV}. A module that is missing, throws on import or
exports no Plugin is an error (exit 1 if its import threw, else 2). With --parallel, worker
threads import the same modules, so plugin formats and protocols read in parallel too.`;

/** Where a module specifier came from, as the error messages name it. */
export type PluginOrigin = "--plugin" | typeof PLUGIN_ENV;

export interface PluginSpec {
  spec: string;
  origin: PluginOrigin;
}

/**
 * A plugin module that cannot be used. `exitCode` is 2 for usage-type problems (not
 * found, not a plugin) and 1 when the module itself failed (threw while importing).
 */
export class PluginLoadError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

/**
 * Take every `--plugin X` / `--plugin=X` out of the command line (up to a `--`), so the
 * commands never see it and it may stand anywhere, even before the command name.
 */
export function extractPluginArgs(argv: readonly string[]): { argv: string[]; specs: string[] } {
  const rest: string[] = [];
  const specs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "--plugin" || arg.startsWith("--plugin=")) {
      const value = arg === "--plugin" ? argv[++i] : arg.slice("--plugin=".length);
      if (value === undefined || value.trim() === "") throw new UsageError("--plugin needs a value: a module path, file:// URL or package name");
      specs.push(value.trim());
      continue;
    }
    rest.push(arg);
  }
  return { argv: rest, specs };
}

/** The module specifiers of `CLOUDVOLUME_PLUGINS` (comma-separated; blanks ignored). */
export function pluginSpecsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[PLUGIN_ENV] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** --plugin specifiers first (they win), then the environment's. */
export function pluginSpecs(flagSpecs: readonly string[], env: NodeJS.ProcessEnv = process.env): PluginSpec[] {
  return [
    ...flagSpecs.map((spec): PluginSpec => ({ spec, origin: "--plugin" })),
    ...pluginSpecsFromEnv(env).map((spec): PluginSpec => ({ spec, origin: PLUGIN_ENV })),
  ];
}

const KINDS = ["storage", "codec", "compression", "format"] as const;
const EXPECTED = `expected an object with kind "storage" | "codec" | "compression" | "format" and load(), or an array of them`;

/** Why `x` is not a Plugin, or undefined when it is one. */
export function whyNotPlugin(x: unknown): string | undefined {
  if (x === null || typeof x !== "object") return describe(x);
  const p = x as Record<string, unknown>;
  if (!(KINDS as readonly string[]).includes(p.kind as string)) {
    return "kind" in p ? `an object with kind ${short(p.kind)}` : `an object without kind (keys: ${Object.keys(p).slice(0, 6).join(", ") || "none"})`;
  }
  const names = p.kind === "storage" ? "protocols" : "names";
  const list = p[names];
  if (!Array.isArray(list) || !list.every((n) => typeof n === "string")) return `a "${p.kind}" plugin object without a ${names} array of strings`;
  if (typeof p.load !== "function") return `a "${p.kind}" plugin object without load()`;
  if (typeof p.package !== "string") return `a "${p.kind}" plugin object without a package name (string)`;
  return undefined;
}

function describe(x: unknown): string {
  if (x === undefined) return "undefined";
  if (x === null) return "null";
  if (typeof x === "function") return `a function${x.name ? ` ${x.name}` : ""} (a plugin factory? export its result, e.g. export default ${x.name || "factory"}())`;
  if (typeof x === "string") return `the string ${short(x)}`;
  if (typeof x === "number" || typeof x === "bigint" || typeof x === "boolean") return `the ${typeof x} ${String(x)}`;
  return typeof x;
}

function short(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** The plugins a module's namespace provides: its default export, else its `plugins` export. */
export function pluginsOfModule(ns: Record<string, unknown>): Plugin[] | string {
  const hasDefault = "default" in ns && ns.default !== undefined;
  const value = hasDefault ? ns.default : ns.plugins;
  const what = hasDefault ? "its default export" : "its export `plugins`";
  if (!hasDefault && value === undefined) {
    const named = Object.keys(ns).filter((k) => k !== "default");
    return `it has no default export (${EXPECTED})${named.length ? `; its named exports: ${named.slice(0, 8).join(", ")}` : ""}`;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const why = whyNotPlugin(item);
      if (why) return `${what} is not a Plugin (${EXPECTED}); got an array whose item ${i} is ${why}`;
    }
    return value as Plugin[];
  }
  if (!hasDefault) return `${what} is not an array of Plugins (${EXPECTED}); got ${whyNotPlugin(value) ?? "a single Plugin"}`;
  const why = whyNotPlugin(value);
  if (why) return `${what} is not a Plugin (${EXPECTED}); got ${why}`;
  return [value as Plugin];
}

function looksLikePath(spec: string): boolean {
  return spec === "." || spec === ".." || spec.startsWith("./") || spec.startsWith("../") || spec === "~" || spec.startsWith("~/") ||
    isAbsolute(spec) || (process.platform === "win32" && (spec.startsWith(".\\") || spec.startsWith("..\\")));
}

/**
 * The file URL a specifier names: a path (relative to `cwd`, `~/` for the home
 * directory), a file:// URL, or a package resolved as an import from `cwd` would.
 * Throws PluginLoadError (exit 2) when nothing is there.
 */
export function resolvePluginSpecifier(spec: string, cwd: string = process.cwd()): string {
  if (/^file:/i.test(spec)) {
    let path: string;
    try {
      path = fileURLToPath(spec);
    } catch (e) {
      throw new PluginLoadError(`not a valid file:// URL (${(e as Error).message})`, 2);
    }
    if (!existsSync(path)) throw new PluginLoadError(`no such file ${path}`, 2);
    return pathToFileURL(path).href;
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(spec) && !isAbsolute(spec)) {
    // node:, data:, http: ... : leave them to import(), which knows which it accepts.
    return spec;
  }
  if (looksLikePath(spec)) {
    const path = spec === "~" || spec.startsWith("~/") ? join(homedir(), spec.slice(1)) : resolve(cwd, spec);
    if (!existsSync(path)) throw new PluginLoadError(`no such file ${path}`, 2);
    return pathToFileURL(path).href;
  }
  const found = resolvePackage(spec, cwd);
  if (found) return found;
  // `plugin.mjs` as `node plugin.mjs` takes it: a file in the current directory.
  const asFile = resolve(cwd, spec);
  if (existsSync(asFile) && statSync(asFile).isFile()) return pathToFileURL(asFile).href;
  throw new PluginLoadError(`cannot find the package ${JSON.stringify(spec)} from ${cwd} (nor a file of that name there; install it, or give a path such as ./${spec})`, 2);
}

/** A bare specifier as `import(spec)` from a module in `cwd` would resolve it; undefined if it does not. */
function resolvePackage(spec: string, cwd: string): string | undefined {
  const require = createRequire(join(cwd, "noop.js"));
  try {
    return pathToFileURL(require.resolve(spec)).href; // CommonJS conditions ("require", "node", "default")
  } catch {
    /* ESM-only packages ("exports" with just "import") fail here: look the package up ourselves */
  }
  const m = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.*)?$/.exec(spec);
  if (m) {
    const [, name, sub] = m;
    for (const dir of require.resolve.paths(spec) ?? []) {
      const pkgDir = join(dir, name);
      const pkgJson = join(pkgDir, "package.json");
      if (!existsSync(pkgJson)) continue;
      const subpath = sub ? `.${sub}` : ".";
      const target = packageEntry(pkgDir, pkgJson, subpath);
      if (!target) throw new PluginLoadError(`the package ${name} (${pkgDir}) exports nothing for ${JSON.stringify(subpath)} that import() can load`, 2);
      if (!existsSync(target)) throw new PluginLoadError(`the package ${name} (${pkgDir}) points at ${target}, which does not exist (not built?)`, 2);
      return pathToFileURL(target).href;
    }
  }
  // Packages installed beside the CLI itself (e.g. next to a global install).
  try {
    const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
    if (typeof meta.resolve === "function") return meta.resolve(spec);
  } catch {
    /* not resolvable from here either */
  }
  return undefined;
}

/** The conditions Node's import() resolves `exports` with. */
const CONDITIONS = ["node", "import", "default"];

/** The file a package's `exports` (import conditions) or `main` gives for `subpath` ("." or "./x"). */
function packageEntry(pkgDir: string, pkgJson: string, subpath: string): string | undefined {
  let pkg: { exports?: unknown; main?: unknown; module?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pkgJson, "utf8"));
  } catch {
    return undefined;
  }
  const { exports } = pkg;
  if (exports !== undefined && exports !== null) {
    const map: Record<string, unknown> =
      typeof exports === "object" && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith("."))
        ? (exports as Record<string, unknown>)
        : { ".": exports };
    let target: string | undefined;
    if (subpath in map) target = conditional(map[subpath]);
    else {
      for (const [key, value] of Object.entries(map)) {
        const star = key.indexOf("*");
        if (star < 0) continue;
        const [pre, post] = [key.slice(0, star), key.slice(star + 1)];
        if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= key.length - 1) {
          const t = conditional(value);
          target = t?.replaceAll("*", subpath.slice(pre.length, subpath.length - post.length));
          break;
        }
      }
    }
    return target ? join(pkgDir, target) : undefined;
  }
  if (subpath !== ".") return join(pkgDir, subpath);
  const main = typeof pkg.main === "string" ? pkg.main : "index.js";
  return join(pkgDir, main);
}

function conditional(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = conditional(v);
      if (t) return t;
    }
    return undefined;
  }
  if (value && typeof value === "object") {
    for (const [cond, v] of Object.entries(value)) if (CONDITIONS.includes(cond)) {
      const t = conditional(v);
      if (t) return t;
    }
  }
  return undefined;
}

/** Import one module and return its plugins; every failure is a PluginLoadError naming the module and where it came from. */
export async function loadPluginModule({ spec, origin }: PluginSpec, cwd: string = process.cwd()): Promise<Plugin[]> {
  const label = `${origin} ${spec}`;
  let url: string;
  try {
    url = resolvePluginSpecifier(spec, cwd);
  } catch (e) {
    if (e instanceof PluginLoadError) throw new PluginLoadError(`${label}: ${e.message}`, e.exitCode);
    throw e;
  }
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new PluginLoadError(`${label}: importing it threw: ${msg}`, 1);
  }
  const plugins = pluginsOfModule(ns);
  if (typeof plugins === "string") throw new PluginLoadError(`${label}: ${plugins}`, 2);
  // Worker threads import the same module to have the same plugins (PluginDescriptor.module).
  return plugins.map((p) => (p.module ? p : tagged(p, url)));
}

/** The plugin with its module recorded; one copy per descriptor, so a module's plugin listed twice stays one. */
const taggedCopies = new WeakMap<Plugin, Plugin>();
function tagged(p: Plugin, module: string): Plugin {
  let t = taggedCopies.get(p);
  if (!t) taggedCopies.set(p, (t = { ...p, module } as Plugin));
  return t;
}

/** Load every module in order; the first failure stops. The same plugin object listed twice is kept once. */
export async function loadPlugins(specs: readonly PluginSpec[], cwd: string = process.cwd()): Promise<Plugin[]> {
  const out: Plugin[] = [];
  for (const s of specs) for (const p of await loadPluginModule(s, cwd)) if (!out.includes(p)) out.push(p);
  return out;
}

let cliPlugins: readonly Plugin[] = [];

/** The plugins every CLI command opens volumes with (set once by main). */
export function setCliPlugins(plugins: readonly Plugin[]): void {
  cliPlugins = [...plugins];
}

export function getCliPlugins(): readonly Plugin[] {
  return cliPlugins;
}

/** CloudVolume.open with the CLI's plugins ahead of the defaults: every command opens volumes through this. */
export function openVolume(path: string, options: CloudVolumeOptions = {}): Promise<CloudVolume> {
  if (!cliPlugins.length) return CloudVolume.open(path, options);
  return CloudVolume.open(path, { ...options, plugins: [...cliPlugins, ...(options.plugins ?? [])] });
}
