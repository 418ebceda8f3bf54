export { ChunkedVolume, decodeOrFail, encodeOrFail, scalarBytesOf, unsupported, type EdgeForm } from "./volume.js";
export { cacheControlFor, type VolumeOptions, type IoOptions, type TransferOptions, type TransferStats, type Cutout } from "./options.js";
export { shardBatches, workerUrl, type ShardedChunk } from "./paint.js";
export { asInput, checkChunkAlignment, wholeShards } from "./write.js";
export { visitChunks, decodePayload, chunksExist, deleteObjects } from "./visit.js";
export { storedEdgeExtent, type StoredExtent } from "./edge.js";
export { splitJobs, type ChunkPainter, type PaintJob, type PaintOptions } from "./parallel.js";
export * from "./cache/index.js";
export {
  exists, deleteRegion, hasData, unique, downloadPoint, scatteredPoints, downloadWith, maskExcept, renumberCutout, downloadFiles,
  transferWith, memoryCutout, deleteLayer, setMipLocks,
  type OperationOptions, type UniqueOptions, type DownloadOptions, type RenumberedCutout, type DownloadPointOptions,
  type ScatteredPointsOptions, type DownloadFilesOptions, type TransferToOptions, type MemoryCutoutOptions,
} from "./operations.js";
