import type { Plugin } from "@cloudvolume/core";
import { createDiskCache, fileStorage } from "@cloudvolume/storage-file";
import { gcsStorage } from "@cloudvolume/storage-gcs";
import { s3Storage } from "@cloudvolume/storage-s3";
import { fpzip, kempressed } from "@cloudvolume/codec-fpzip";
import { zfpc } from "@cloudvolume/codec-zfpc";
import { largeBufferAllocator } from "@cloudvolume/memory";
import { CloudVolume as Base, type CloudVolumeOptions } from "./volume.js";
import { portablePlugins } from "./plugins.js";
import { nodeRuntime } from "./node-runtime.js";
import type { ParallelRuntime } from "./parallel.js";
import { downloadToFile, uploadFromFile, type FileIoOptions } from "./files.js";
import type { Bbox, BboxLike } from "@cloudvolume/core";

// A single memory-store plugin instance per process, so `mem://` layers opened
// by different CloudVolume.open calls see each other's objects as in CloudFiles.
let shared: Plugin[] | undefined;

/**
 * The default plugin set in Node: the portable set plus local disk, GCS, S3 and the codecs
 * that exist only as native addons (fpzip, kempressed, zfpc).
 */
export function defaultPlugins(): Plugin[] {
  shared ??= [fileStorage(), gcsStorage(), s3Storage(), ...portablePlugins(), fpzip(), kempressed(), zfpc()];
  return shared;
}

/** Large cutouts on recycled buffers where @cloudvolume/memory's addon is built. */
let sharedAllocator: ReturnType<typeof largeBufferAllocator> | null = null;
function allocator(): ReturnType<typeof largeBufferAllocator> {
  if (sharedAllocator === null) sharedAllocator = largeBufferAllocator();
  return sharedAllocator;
}

/** Worker threads (one pool per Context) and stderr progress bars. */
const runtime = nodeRuntime(defaultPlugins);

export class CloudVolume extends Base {
  protected override runtime(): ParallelRuntime {
    return runtime;
  }

  static open(url: string, options: CloudVolumeOptions = {}): Promise<CloudVolume> {
    // The disk cache (`cache: true | dir`) needs the file system, so only this Node entry supplies it.
    // `allocate: undefined` (an unset option passed along) keeps the default.
    return CloudVolume.openWith(defaultPlugins, url, { cacheFactory: createDiskCache, ...options, allocate: options.allocate ?? allocator() });
  }

  /** Download `bbox` into a file (raw little-endian, Fortran order), atomically, in slabs; returns the box written. */
  downloadToFile(bbox: BboxLike, path: string, opts: FileIoOptions = {}): Promise<Bbox> {
    return downloadToFile(this.vol, bbox, path, opts);
  }

  /** Upload a file in that layout (exactly the size of `bbox`) to `bbox`, in slabs. */
  uploadFromFile(bbox: BboxLike, path: string, opts: FileIoOptions = {}): Promise<void> {
    return uploadFromFile(this.vol, bbox, path, opts);
  }
}

export type { CloudVolumeOptions } from "./volume.js";
export type { FileIoOptions } from "./files.js";
export type { ParallelOptions, Progress, ProgressInfo } from "./parallel.js";
export { WorkerPool, liveWorkerThreads, type WorkerPoolOptions } from "./worker-pool.js";
export * from "./reexports.js";
