import type { StorageFactory, StoragePlugin } from "@cloudvolume/core";
import type { MemoryBucket } from "./memory-store.js";

export { MemoryStore, openMemoryStore } from "./memory-store.js";
export type { MemoryBucket, MemoryObject, MemoryStoreOptions } from "./memory-store.js";

export interface MemoryStorageOptions {
  /** Buckets by name. Pass your own map to inspect or pre-fill the data; default a new one. */
  buckets?: Map<string, MemoryBucket>;
}

/**
 * The mem:// storage plugin. Objects live in this plugin instance, not in a
 * module-level global: every store opened through one instance shares them, and a
 * second instance (another Context, another test) starts empty.
 */
export function memoryStorage(opts: MemoryStorageOptions = {}): StoragePlugin {
  const buckets = opts.buckets ?? new Map<string, MemoryBucket>();
  return {
    kind: "storage",
    protocols: ["mem"],
    package: "@cloudvolume/storage-memory",
    async load(): Promise<StorageFactory> {
      const { openMemoryStore } = await import("./memory-store.js");
      return (url) => openMemoryStore(url, buckets);
    },
  };
}
