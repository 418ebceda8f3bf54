export { LRU, type LruValue } from "./lru.js";
export { ChunkLru, type LruEncoding, type LruChunkRead } from "./chunk-lru.js";
export {
  LayerCache, cacheEncodingFor, openDiskCache,
  type CacheOptions, type DiskCacheBackend, type DiskCacheFactory, type DiskCacheRequest,
} from "./disk-cache.js";
