import type { Plugin } from "@cloudvolume/core";
import { precomputed } from "@cloudvolume/format-precomputed";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { httpStorage } from "@cloudvolume/storage-http";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { brotli } from "@cloudvolume/codec-brotli";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import { png } from "@cloudvolume/codec-png";
import { jpeg } from "@cloudvolume/codec-jpeg";
import { jxl } from "@cloudvolume/codec-jxl";

/** Plugins that run anywhere (browser, edge, Node). */
export function portablePlugins(): Plugin[] {
  return [precomputed(), memoryStorage(), httpStorage(), raw(), gzip(), brotli(), compressedSegmentation(), png(), jpeg(), jxl()];
}
