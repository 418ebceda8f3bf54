import type { FormatPlugin } from "@cloudvolume/core";
import type * as Impl from "./volume.js";

export * from "./info.js";
export * from "./provenance.js";
export {
  PrecomputedVolume, cacheControlFor, type PrecomputedOptions, type IoOptions, type Cutout, type TransferOptions, type TransferStats,
} from "./volume.js";
export * from "./sharding/index.js";
export * from "./cache/index.js";
export * from "./mesh/index.js";
export * from "./spatial-index/index.js";
export * from "./skeleton/index.js";
export { splitJobs, type ChunkPainter, type PaintJob, type PaintOptions } from "./parallel.js";
export {
  exists, deleteRegion, hasData, unique, downloadPoint, scatteredPoints, downloadWith, maskExcept, renumberCutout, downloadFiles,
  transferWith, memoryCutout, deleteLayer, setMipLocks,
  type OperationOptions, type UniqueOptions, type DownloadOptions, type RenumberedCutout, type DownloadPointOptions,
  type ScatteredPointsOptions, type DownloadFilesOptions, type TransferToOptions, type MemoryCutoutOptions,
} from "./operations.js";

/** Format plugin descriptor for `precomputed://` (the default format). */
export function precomputed(): FormatPlugin<typeof Impl> {
  return { kind: "format", names: ["precomputed"], package: "@cloudvolume/format-precomputed", load: () => import("./volume.js") };
}
