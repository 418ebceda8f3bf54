import type { Plugin } from "@cloudvolume/core";
import { precomputed } from "@cloudvolume/format-precomputed";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { brotli } from "@cloudvolume/codec-brotli";

/** Plugins that run anywhere (browser, edge, Node). */
export function portablePlugins(): Plugin[] {
  return [precomputed(), memoryStorage(), raw(), gzip(), brotli()];
}
