/*
 * The `cloudvolume` facade, from its built dist. Not a devDependency: cloudvolume depends on
 * this package (n5 is in its default plugin set), and turbo refuses the cycle a devDependency
 * back would make. `pnpm test` builds everything first (without a build, run `pnpm build`).
 */
export { CloudVolume, defaultPlugins } from "../../cloudvolume/dist/index.js";
