import type { FormatDriver, FormatPlugin, Plugin } from "@cloudvolume/core";

export { npyCodec, npyHeaderBytes, npyHeaderText, parseNpyHeader, NPY_DESCR, NPY_ALIGN, NPY_MAGIC, type NpyHeader } from "./npy.js";
export { HEADER_KEY, SCALE_KEY, parseHeader, fromLayerInfo, toLayerInfo, serializeHeader, type NpyChunksHeader } from "./header.js";

export const PACKAGE_NAME = "@cloudvolume-examples/format-npy-chunks";

/**
 * The format plugin for `npychunks://<storage url>` (`npychunks://file:///abs/dir`,
 * `npychunks://mem://bucket/x`). The descriptor is tiny; load() imports the driver.
 * Pass it in `plugins` (CloudVolume.open(url, { plugins: [npyChunks()] }), new Context),
 * or to the CLI: `cloudvolume --plugin <this package or its dist/index.js> ...`.
 */
export function npyChunks(): FormatPlugin<FormatDriver> {
  return {
    kind: "format",
    names: ["npychunks"],
    package: PACKAGE_NAME,
    load: async () => (await import("./driver.js")).npyChunksDriver,
  };
}

/**
 * What `--plugin` and CLOUDVOLUME_PLUGINS load: the default export is a Plugin or an array
 * of them. The npy codec is no separate CodecPlugin: it comes with the driver's pipeline
 * (see driver.ts for why).
 */
const plugins: Plugin[] = [npyChunks()];
export default plugins;
