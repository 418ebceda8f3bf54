export { murmurhash3_x86_128, murmurHash64 } from "./murmur.js";
export {
  parseShardingSpec, shardingSpecToJson, shardLocation, shardFilename, shardIndexLength, hashedKey, SHARDED_TYPE, MAX_MINISHARD_BITS,
  type ShardingSpec, type ShardingSpecJson, type ShardLocation,
} from "./spec.js";
export { compressedMortonCode, decodeCompressedMorton, mortonBits } from "./morton.js";
export { ShardedImageLayout, type ImageShard } from "./image.js";
export { ShardedStore, decodeShardFile, parseMinishardIndex, type ShardedStoreOptions, type MinishardIndex, type RequestWrapper } from "./reader.js";
export { encodeShard, type EncodeShardOptions, type EncodedShard } from "./writer.js";
export {
  computeShardParamsForImage, computeShardParamsForHashed, imageShardShape,
  type ImageShardParamsOptions, type HashedShardParams,
} from "./params.js";
