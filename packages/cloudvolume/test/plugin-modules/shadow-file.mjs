// Test fixture: a plugin for the built-in `file` protocol that reads every file:// layer
// from $CV_SHADOW_ROOT/<last path segment>: shows explicit plugins come before the defaults.
import { basename, join } from "node:path";

export default {
  kind: "storage",
  protocols: ["file"],
  package: "cli-plugins-test-shadow",
  async load() {
    const { fileStorage } = await import("@cloudvolume/storage-file");
    const file = await fileStorage().load();
    return (url, ctx) => {
      const path = join(process.env.CV_SHADOW_ROOT, basename(url.path));
      return file({ ...url, path, storageUrl: `file://${path}` }, ctx);
    };
  },
};
