// Test fixture: a storage plugin for `alias://<name>`, a layer kept in the local file store
// under $CV_ALIAS_ROOT/<name>. load() returns a factory that builds the real file store
// (@cloudvolume/storage-file's own factory) for that directory.
import { join } from "node:path";

/** A plugin for `protocol://<name>` that maps to `$<rootVar>/<name>` on local disk. */
export function aliasPlugin(protocol, rootVar) {
  return {
    kind: "storage",
    protocols: [protocol],
    package: `cli-plugins-test-${protocol}`,
    async load() {
      const { fileStorage } = await import("@cloudvolume/storage-file");
      const file = await fileStorage().load();
      return (url, ctx) => {
        const root = process.env[rootVar];
        if (!root) throw new Error(`${rootVar} is not set`);
        const path = join(root, url.path);
        return file({ ...url, protocol: "file", path, storageUrl: `file://${path}` }, ctx);
      };
    },
  };
}

export default aliasPlugin("alias", "CV_ALIAS_ROOT");
