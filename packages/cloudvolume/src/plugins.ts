import type { Plugin } from "@cloudvolume/core";
import { precomputed } from "@cloudvolume/format-precomputed";
import { n5 } from "@cloudvolume/format-n5";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { httpStorage } from "@cloudvolume/storage-http";
import { raw } from "@cloudvolume/codec-raw";
import { gzip, zlib } from "@cloudvolume/codec-gzip";
import { brotli } from "@cloudvolume/codec-brotli";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import { compresso } from "@cloudvolume/codec-compresso";
import { png } from "@cloudvolume/codec-png";
import { jpeg } from "@cloudvolume/codec-jpeg";
import { jxl } from "@cloudvolume/codec-jxl";
import { zarr } from "@cloudvolume/format-zarr";
import { zstd } from "@cloudvolume/codec-zstd";
import { blosc } from "@cloudvolume/codec-blosc";
import { bzip2 } from "@cloudvolume/codec-bzip2";
import { lz4 } from "@cloudvolume/codec-lz4";

/** Plugins that run anywhere (browser, edge, Node). */
export function portablePlugins(): Plugin[] {
  return [
    precomputed(), n5(), zarr(), memoryStorage(), httpStorage(), raw(), gzip(), brotli(), compressedSegmentation(), compresso(), png(), jpeg(), jxl(),
    // zarr's (and n5's) compressors; zstd is also Precomputed's `compress: "zstd"`.
    zlib(), zstd(), blosc(), bzip2(), lz4(),
  ];
}
