import type { ArrayCodec, ByteCodec } from "./codec.js";
import type { KeyValueStore } from "./storage.js";
import type { ParsedUrl } from "./url.js";
import type { Context } from "./context.js";
import type { FormatDriver } from "./format.js";

/**
 * Plugin descriptors are small and carry no heavy code: `load()` imports the
 * implementation lazily (loaders.gl's pattern), so a bundle that lists a plugin
 * it never uses pays almost nothing for it.
 */
/** What every plugin descriptor has. */
export interface PluginDescriptor {
  readonly package: string;
  /**
   * Where a worker thread can import this plugin again: a module specifier (a file URL,
   * or a package name resolvable from the cloudvolume package) whose default export is
   * the Plugin or an array of Plugins. A Context whose extra plugins all have one reads
   * in parallel on worker threads; without it those reads stay on the calling thread.
   */
  readonly module?: string;
}

export interface StoragePlugin extends PluginDescriptor {
  readonly kind: "storage";
  readonly protocols: readonly string[];
  readonly package: string;
  load(): Promise<StorageFactory>;
}
export type StorageFactory = (url: ParsedUrl, ctx: Context) => KeyValueStore | Promise<KeyValueStore>;

/** An array codec: a Precomputed `encoding` (raw, compressed_segmentation, png, ...). */
export interface CodecPlugin extends PluginDescriptor {
  readonly kind: "codec";
  readonly names: readonly string[];
  readonly package: string;
  load(): Promise<ArrayCodec>;
}

/** A byte-stream codec: transfer compression (gzip, br, zstd). */
export interface CompressionPlugin extends PluginDescriptor {
  readonly kind: "compression";
  /** Names and Content-Encoding values it handles ("gzip", "br"). */
  readonly names: readonly string[];
  readonly package: string;
  load(): Promise<ByteCodec>;
}

/**
 * A data format (precomputed, zarr, ...): `names` are its URL schemes
 * (`name://protocol://path`); load() gives the driver the chunk engine opens layers with.
 */
export interface FormatPlugin<D extends FormatDriver = FormatDriver> extends PluginDescriptor {
  readonly kind: "format";
  readonly names: readonly string[];
  readonly package: string;
  load(): Promise<D>;
}

export type Plugin = StoragePlugin | CodecPlugin | CompressionPlugin | FormatPlugin;

/** Which package provides a protocol, codec or format we might be asked for. */
export const PROVIDERS: Readonly<Record<string, string>> = {
  "storage:file": "@cloudvolume/storage-file",
  "storage:mem": "@cloudvolume/storage-memory",
  "storage:http": "@cloudvolume/storage-http",
  "storage:https": "@cloudvolume/storage-http",
  "storage:s3": "@cloudvolume/storage-s3",
  "storage:matrix": "@cloudvolume/storage-s3",
  "storage:tigerdata": "@cloudvolume/storage-s3",
  "storage:gs": "@cloudvolume/storage-gcs",
  "codec:raw": "@cloudvolume/codec-raw",
  "codec:compressed_segmentation": "@cloudvolume/codec-compressed-segmentation",
  "codec:png": "@cloudvolume/codec-png",
  "codec:jpeg": "@cloudvolume/codec-jpeg",
  "codec:jxl": "@cloudvolume/codec-jxl",
  "codec:jpegxl": "@cloudvolume/codec-jxl",
  "codec:compresso": "@cloudvolume/codec-compresso",
  "codec:crackle": "@cloudvolume/codec-crackle",
  "codec:fpzip": "@cloudvolume/codec-fpzip",
  "codec:kempressed": "@cloudvolume/codec-fpzip",
  "codec:zfpc": "@cloudvolume/codec-zfpc",
  "compression:gzip": "@cloudvolume/codec-gzip",
  "compression:br": "@cloudvolume/codec-brotli",
  "compression:zstd": "@cloudvolume/codec-zstd",
  "compression:zlib": "@cloudvolume/codec-gzip",
  "compression:blosc": "@cloudvolume/codec-blosc",
  "compression:bzip2": "@cloudvolume/codec-bzip2",
  "compression:bz2": "@cloudvolume/codec-bzip2",
  "compression:lz4": "@cloudvolume/codec-lz4",
  "format:precomputed": "@cloudvolume/format-precomputed",
  "format:graphene": "@cloudvolume/format-graphene",
  "format:zarr": "@cloudvolume/format-zarr",
  "format:zarr2": "@cloudvolume/format-zarr",
  "format:zarr3": "@cloudvolume/format-zarr",
  "format:n5": "@cloudvolume/format-n5",
  "format:boss": "@cloudvolume/format-boss",
};
