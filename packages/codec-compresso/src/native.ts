/*
 * The native addon (native/compresso.cc, built by node-gyp at install), loaded without
 * a static import of Node built-ins so the package stays browser-safe: in Node it comes
 * from build/Release/compresso.node through process.getBuiltinModule; elsewhere, when the
 * build failed, or with CLOUDVOLUME_NO_NATIVE=1, the TypeScript codec is used and
 * `compressoBackend()` says why.
 */

export interface NativeCompresso {
  decode(stream: Uint8Array, out: Uint8Array, sx: number, sy: number, sz: number, bytesPerVoxel: number): void;
  encode(voxels: Uint8Array, sx: number, sy: number, sz: number, bytesPerVoxel: number): Uint8Array;
}

interface NodeLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (name: string) => unknown;
}

let loaded: { addon?: NativeCompresso; why: string } | undefined;

function load(): { addon?: NativeCompresso; why: string } {
  const proc = (globalThis as { process?: NodeLike }).process;
  if (!proc?.getBuiltinModule) return { why: "not running in Node (no process.getBuiltinModule)" };
  if (proc.env?.CLOUDVOLUME_NO_NATIVE) return { why: "CLOUDVOLUME_NO_NATIVE is set" };
  const { createRequire } = proc.getBuiltinModule("node:module") as { createRequire(url: string): (id: string) => unknown };
  const req = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of ["../build/Release/compresso.node", "../../build/Release/compresso.node"]) {
    try {
      return { addon: req(path) as NativeCompresso, why: `native addon ${path}` };
    } catch (e) {
      tried.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { why: `the native addon is not built (tried ${tried.join("; ")}); run \`pnpm rebuild @cloudvolume/codec-compresso\` with g++, make and python3 installed` };
}

export function nativeCompresso(): NativeCompresso | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** Which implementation runs ("native" or "typescript") and why. */
export function compressoBackend(): { backend: "native" | "typescript"; why: string } {
  loaded ??= load();
  return { backend: loaded.addon ? "native" : "typescript", why: loaded.why };
}
