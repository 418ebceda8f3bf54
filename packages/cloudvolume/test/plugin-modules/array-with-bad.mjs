// Test fixture: an array whose second item is not a plugin (no protocols).
import alias from "./alias-storage.mjs";

export default [alias, { kind: "storage", package: "half-a-plugin", async load() { return () => undefined; } }];
