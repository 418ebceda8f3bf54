import type { Plugin } from "@cloudvolume/core";
import { CloudVolume as Base, type CloudVolumeOptions } from "./volume.js";
import { portablePlugins } from "./plugins.js";

let shared: Plugin[] | undefined;

/** The default plugin set outside Node: no local disk. */
export function defaultPlugins(): Plugin[] {
  shared ??= portablePlugins();
  return shared;
}

export class CloudVolume extends Base {
  static open(url: string, options: CloudVolumeOptions = {}): Promise<CloudVolume> {
    return CloudVolume.openWith(defaultPlugins, url, options);
  }
}

export type { CloudVolumeOptions } from "./volume.js";
export * from "./reexports.js";
