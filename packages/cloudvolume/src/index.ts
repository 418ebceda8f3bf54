import type { Plugin } from "@cloudvolume/core";
import { fileStorage } from "@cloudvolume/storage-file";
import { CloudVolume as Base, type CloudVolumeOptions } from "./volume.js";
import { portablePlugins } from "./plugins.js";

// A single memory-store plugin instance per process, so `mem://` layers opened
// by different CloudVolume.open calls see each other's objects as in CloudFiles.
let shared: Plugin[] | undefined;

/** The default plugin set in Node: local disk, memory, precomputed, raw, gzip and brotli. */
export function defaultPlugins(): Plugin[] {
  shared ??= [fileStorage(), ...portablePlugins()];
  return shared;
}

export class CloudVolume extends Base {
  static open(url: string, options: CloudVolumeOptions = {}): Promise<CloudVolume> {
    return CloudVolume.openWith(defaultPlugins, url, options);
  }
}

export type { CloudVolumeOptions } from "./volume.js";
export * from "./reexports.js";
