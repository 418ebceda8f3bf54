import type { StorageFactory, StoragePlugin } from "@cloudvolume/core";
import type { HttpStoreOptions } from "./http-store.js";

export { HttpStore, encodeKey } from "./http-store.js";
export type { HttpStoreOptions } from "./http-store.js";
export { toHttpsUrl, PUBLIC_HTTPS_ENDPOINTS } from "./https-url.js";

export interface HttpStorageOptions extends Omit<HttpStoreOptions, "url"> {
  /**
   * Also answer gs://, s3:// and matrix:// by reading their public HTTPS endpoints
   * (CloudVolume's `use_https=True`; see toHttpsUrl). List this plugin before a
   * gs:// or s3:// plugin for it to win.
   */
  useHttps?: boolean;
}

/**
 * The http:// and https:// storage plugin (read-only). Pass it to a Context; nothing
 * registers itself on import. Browser-safe: fetch only.
 */
export function httpStorage(opts: HttpStorageOptions = {}): StoragePlugin {
  const { useHttps, ...storeOpts } = opts;
  return {
    kind: "storage",
    protocols: useHttps ? ["http", "https", "gs", "s3", "matrix"] : ["http", "https"],
    package: "@cloudvolume/storage-http",
    async load(): Promise<StorageFactory> {
      const [{ HttpStore }, { toHttpsUrl }] = await Promise.all([import("./http-store.js"), import("./https-url.js")]);
      return (url) => new HttpStore({ ...storeOpts, url: url.protocol === "http" || url.protocol === "https" ? url.storageUrl : toHttpsUrl(url.storageUrl) });
    },
  };
}
