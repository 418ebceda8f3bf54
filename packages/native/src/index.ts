/*
 * Loading a codec package's node-addon-api addon without a static import of Node
 * built-ins, so the package stays browser-safe: in Node the addon comes from the
 * package's build/Release/<name>.node through process.getBuiltinModule("node:module");
 * elsewhere, with CLOUDVOLUME_NO_NATIVE=1, or when the build failed, the result says
 * why, in words a user can act on (what was tried and how to fix it, the way sharp does).
 */

export interface LoadedAddon<T> {
  addon?: T;
  /** Where the addon came from, or why there is none. */
  why: string;
}

interface NodeLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (name: string) => unknown;
}

/**
 * Load `build/Release/<target>.node` of the package whose module is `moduleUrl`
 * (pass `import.meta.url`; dist/ and src/ both sit one level below the package root).
 * `fix` is the advice for a missing build, e.g. "run `pnpm rebuild @cloudvolume/codec-fpzip`
 * with g++, make, python3 and libfpzip-dev installed".
 */
export function loadAddon<T>(moduleUrl: string, target: string, fix: string): LoadedAddon<T> {
  const proc = (globalThis as { process?: NodeLike }).process;
  if (!proc?.getBuiltinModule) return { why: "not running in Node (no process.getBuiltinModule)" };
  if (proc.env?.CLOUDVOLUME_NO_NATIVE) return { why: "CLOUDVOLUME_NO_NATIVE is set" };
  const { createRequire } = proc.getBuiltinModule("node:module") as { createRequire(url: string): (id: string) => unknown };
  const req = createRequire(moduleUrl);
  const tried: string[] = [];
  for (const path of [`../build/Release/${target}.node`, `../../build/Release/${target}.node`]) {
    try {
      return { addon: req(path) as T, why: `native addon ${path}` };
    } catch (e) {
      tried.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { why: `the native addon is not built (tried ${tried.join("; ")}); ${fix}` };
}

/** An addon loaded on first use, and what a package's `…Backend()` reports about it. */
export interface LazyAddon<T> {
  /** The addon, or undefined when it could not be loaded. */
  get(): T | undefined;
  /** Whether it loaded, and where from or why not. */
  status(): { loaded: boolean; why: string };
}

/** `loadAddon` deferred to the first `get()` or `status()`, then remembered. */
export function lazyAddon<T>(moduleUrl: string, target: string, fix: string): LazyAddon<T> {
  let loaded: LoadedAddon<T> | undefined;
  const load = () => (loaded ??= loadAddon<T>(moduleUrl, target, fix));
  return {
    get: () => load().addon,
    status: () => {
      const { addon, why } = load();
      return { loaded: addon !== undefined, why };
    },
  };
}
