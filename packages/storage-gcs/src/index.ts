import type { StorageFactory, StoragePlugin } from "@cloudvolume/core";
import type { Storage } from "@google-cloud/storage";
import type { GcsStoreOptions } from "./gcs-store.js";

export { GcsStore, openGcsStore, createStorageClient, parseGsPath, DEFAULT_RESUMABLE_THRESHOLD } from "./gcs-store.js";
export type { GcsStoreOptions } from "./gcs-store.js";
export { resolveGoogleCredentials, secretDirectories } from "./secrets.js";
export type { GoogleSecrets, ResolvedGoogleCredentials, ResolveOptions } from "./secrets.js";

/** Options of the gs:// plugin: everything of GcsStoreOptions except what the cloudpath gives. */
export type GcsStorageOptions = Omit<GcsStoreOptions, "bucket" | "prefix">;

/**
 * The gs:// storage plugin. Pass it to a Context; nothing registers itself on
 * import. `load()` imports the store (and @google-cloud/storage) on first use.
 * Clients are shared by the stores this plugin instance opens, one per endpoint and
 * credential source.
 */
export function gcsStorage(opts: GcsStorageOptions = {}): StoragePlugin {
  const clients = new Map<string, Promise<Storage>>();
  return {
    kind: "storage",
    protocols: ["gs"],
    package: "@cloudvolume/storage-gcs",
    async load(): Promise<StorageFactory> {
      const { openGcsStore, parseGsPath } = await import("./gcs-store.js");
      return (url) => openGcsStore({ ...opts, ...parseGsPath(url) }, clients);
    },
  };
}
