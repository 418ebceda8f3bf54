import type { FormatDriver, FormatPlugin } from "@cloudvolume/core";

export * from "./info.js";
export * from "./provenance.js";
export { PrecomputedVolume, type PrecomputedOptions } from "./volume.js";
export { PrecomputedLayer, precomputedDriver, type PrecomputedDriverOptions } from "./layer.js";
export { PrecomputedShards } from "./sharding/adapter.js";
// The engine's types that PrecomputedVolume's methods take and return.
export type { Cutout, IoOptions, TransferOptions, TransferStats } from "@cloudvolume/chunks";
export * from "./sharding/index.js";
export * from "./mesh/index.js";
export * from "./spatial-index/index.js";
export * from "./skeleton/index.js";

/** Format plugin descriptor for `precomputed://` (the default format). */
export function precomputed(): FormatPlugin<FormatDriver> {
  return { kind: "format", names: ["precomputed"], package: "@cloudvolume/format-precomputed", load: async () => (await import("./layer.js")).precomputedDriver };
}
