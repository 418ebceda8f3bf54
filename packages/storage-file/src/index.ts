import type { StorageFactory, StoragePlugin } from "@cloudvolume/core";

export { FileStore, createFileStore, resolveFilePath } from "./file-store.js";
export { fileReadBackend, useNativeFileReads } from "./native-read.js";
export {
  CacheStore, createDiskCache, diskCachePath, diskCacheRoot, type CacheEnv, type CacheStoreOptions, type DiskCacheRequest,
} from "./cache-store.js";

/**
 * The file:// storage plugin. Pass it to a Context; nothing registers itself on
 * import. `load()` imports the implementation on first use, the same shape as the
 * plugins whose implementation is heavy (here it needs only Node built-ins, so the
 * FileStore class is also exported directly above).
 */
export function fileStorage(): StoragePlugin {
  return {
    kind: "storage",
    protocols: ["file"],
    package: "@cloudvolume/storage-file",
    async load(): Promise<StorageFactory> {
      const { createFileStore } = await import("./file-store.js");
      return (url) => createFileStore(url);
    },
  };
}
