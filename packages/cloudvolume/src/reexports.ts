export {
  Bbox, Context, CloudVolumeError, isCloudVolumeError, parseUrl, allocateArray, asVolumeArray, getVoxel,
  type BboxLike, type Vec3, type DataType, type TypedArray, type VolumeArray, type ErrorCode, type Plugin, type KeyValueStore,
} from "@cloudvolume/core";
export {
  createNewInfo, addScale, resetScales, parseInfo, serializeJson,
  computeShardParamsForImage, computeShardParamsForHashed, imageShardShape, ShardedStore,
  type PrecomputedInfo, type ScaleInfo, type Provenance, type Cutout, type NewInfoOptions, type TransferOptions, type TransferStats,
  type ShardingSpecJson,
} from "@cloudvolume/format-precomputed";
export type {
  OperationOptions, UniqueOptions, DownloadOptions, RenumberedCutout, DownloadPointOptions, ScatteredPointsOptions,
  DownloadFilesOptions, TransferToOptions, MemoryCutoutOptions, VolumeOptions,
} from "@cloudvolume/chunks";
export { ChunkedVolume, LRU, type LayerCache, type LruEncoding, type CacheOptions } from "@cloudvolume/chunks";
export type {
  FormatDriver, FormatLayer, FormatPlugin, FormatCapabilities, FormatOpenOptions, ChunkPipeline, ShardedChunks, LayerInfo, LayerScaleInfo,
  StoragePlugin, CodecPlugin, CompressionPlugin, ArrayCodec, ByteCodec, ChunkSpec,
} from "@cloudvolume/core";
