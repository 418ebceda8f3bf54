/*
 * Whole-file reads in one thread-pool job (native/readfile.cc) where the addon is built;
 * file-store.ts falls back to node:fs (open, fstat, read, close: four pool requests).
 */
import { lazyAddon } from "@cloudvolume/native";

interface NativeRead {
  readFile(path: string, done: (err: Error | null, bytes: Uint8Array | undefined) => void): void;
}

const addon = lazyAddon<NativeRead>(import.meta.url, "readfile", "run `pnpm rebuild @cloudvolume/storage-file` with g++, make and python3 installed");
let disabled = false;

/** The whole file, undefined when there is none (or it is a directory); null: use node:fs. */
export function readWholeFile(path: string): Promise<Uint8Array | undefined> | null {
  const native = disabled ? undefined : addon.get();
  if (!native) return null;
  return new Promise((resolve, reject) => {
    native.readFile(path, (err, bytes) => {
      if (err) reject(err);
      else resolve(bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
  });
}

/** Which reader whole-file gets use ("native" or "node:fs") and why. */
export function fileReadBackend(): { backend: "native" | "node:fs"; why: string } {
  if (disabled) return { backend: "node:fs", why: "turned off (useNativeFileReads(false))" };
  const { loaded, why } = addon.status();
  return { backend: loaded ? "native" : "node:fs", why };
}

/** For tests and comparisons: whole-file reads through node:fs (false) or the addon where built (true, the default). */
export function useNativeFileReads(on: boolean): void {
  disabled = !on;
}
