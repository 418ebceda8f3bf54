import type { FormatPlugin } from "@cloudvolume/core";
import type * as Impl from "./volume.js";

export * from "./info.js";
export * from "./provenance.js";
export {
  PrecomputedVolume, cacheControlFor, type PrecomputedOptions, type IoOptions, type Cutout, type TransferOptions, type TransferStats,
} from "./volume.js";
export * from "./sharding/index.js";

/** Format plugin descriptor for `precomputed://` (the default format). */
export function precomputed(): FormatPlugin<typeof Impl> {
  return { kind: "format", names: ["precomputed"], package: "@cloudvolume/format-precomputed", load: () => import("./volume.js") };
}
