import { Context, type Plugin } from "@cloudvolume/core";
import { blosc } from "@cloudvolume/codec-blosc";
import { bzip2 } from "@cloudvolume/codec-bzip2";
import { gzip, zlib } from "@cloudvolume/codec-gzip";
import { lz4 } from "@cloudvolume/codec-lz4";
import { raw } from "@cloudvolume/codec-raw";
import { zstd } from "@cloudvolume/codec-zstd";
import { precomputed } from "@cloudvolume/format-precomputed";
import { fileStorage } from "@cloudvolume/storage-file";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { zarr } from "@cloudvolume/format-zarr";

export const compressionPlugins = (): Plugin[] => [gzip(), zlib(), zstd(), blosc(), bzip2(), lz4()];

/** zarr, every compressor it needs, file and memory storage, precomputed + raw (for copies). */
export function zarrPlugins(mem = memoryStorage()): Plugin[] {
  return [zarr(), mem, fileStorage(), ...compressionPlugins(), precomputed(), raw()];
}

export function zarrContext(): Context {
  return new Context({ plugins: zarrPlugins() });
}
