import { CloudVolumeError, dtypeInfo, isCloudVolumeError, type ByteCodec, type Context, type DataType } from "@cloudvolume/core";
import type { BlockCompression } from "./block.js";
import { isLz4BlockStream, n5Lz4Codec } from "./lz4.js";
import type { N5Compression } from "./metadata.js";

/*
 * An N5 `compression` to the byte codec that (de)compresses a block's data. Codecs come
 * from the Context (compression plugins), so a reader installs only what its data needs:
 *
 *   raw                    none
 *   gzip                   "gzip" (RFC 1952), or "zlib" (RFC 1950) when useZlib is true
 *   bzip2, xz, blosc, zstd "bzip2", "xz", "blosc", "zstd"
 *   lz4                    n5-java's LZ4 framing (lz4-java's LZ4BlockOutputStream: "LZ4Block"
 *                          frames), built in here: it is not numcodecs' lz4 framing
 */

/** The package that provides each compression plugin we ask the Context for. */
export const COMPRESSION_PACKAGES: Readonly<Record<string, string>> = {
  gzip: "@cloudvolume/codec-gzip",
  zlib: "@cloudvolume/codec-gzip (its \"zlib\" compression)",
  bzip2: "@cloudvolume/codec-bzip2",
  xz: "@cloudvolume/codec-xz",
  blosc: "@cloudvolume/codec-blosc",
  zstd: "@cloudvolume/codec-zstd",
};

const SUPPORTED = ["raw", "gzip", "bzip2", "xz", "lz4", "blosc", "zstd"];

/** gzip level -1 is zlib's default, 6 (n5-java's GzipCompression default). */
function gzipLevel(level: unknown): number {
  return typeof level === "number" && level >= 0 && level <= 9 ? level : 6;
}

/** The plugin name a compression object is (de)compressed with, undefined for raw. */
export function pluginNameOf(c: N5Compression): string | undefined {
  switch (c.type) {
    case "raw": return undefined;
    case "gzip": return c.useZlib === true ? "zlib" : "gzip";
    case "lz4": return "n5-lz4";
    default: return c.type;
  }
}

/**
 * The block compression of a dataset: UNKNOWN_CODEC naming the compression and the package
 * to install when the Context has no plugin for it (or N5 type the driver does not know).
 */
export async function resolveCompression(ctx: Context, c: N5Compression, dtype: DataType, where: { url: string; file: string }): Promise<BlockCompression> {
  const name = pluginNameOf(c);
  if (name === undefined) return { config: c, name: "raw" };
  if (name === "n5-lz4") {
    // n5-java's framing, built in; blocks in numcodecs' framing (zarr-python's N5Store) go to an "lz4" plugin when there is one.
    const java = n5Lz4Codec(typeof c.blockSize === "number" ? c.blockSize : 65536);
    const numcodecs = ctx.hasCompression("lz4") ? await ctx.compression("lz4") : undefined;
    const codec: ByteCodec = {
      ...java,
      decode: (bytes, opts) => (numcodecs && !isLz4BlockStream(bytes) ? numcodecs.decode(bytes, opts) : java.decode(bytes, opts)),
    };
    return { config: c, name: "lz4", codec, params: { ...c } };
  }
  if (!SUPPORTED.includes(c.type)) {
    throw new CloudVolumeError(
      "UNKNOWN_CODEC",
      `${where.file} of ${where.url}: N5 compression type ${JSON.stringify(c.type)} is not supported; this driver reads ${SUPPORTED.join(", ")} (gzip with useZlib too)`,
      { url: where.url, key: where.file },
    );
  }
  if (!ctx.hasCompression(name)) {
    const pkg = COMPRESSION_PACKAGES[name] ?? `a package providing the "${name}" compression plugin`;
    throw new CloudVolumeError(
      "UNKNOWN_CODEC",
      `${where.file} of ${where.url}: the dataset uses ${c.type === "gzip" && name === "zlib" ? "gzip with useZlib: true (zlib framing)" : `${c.type} compression`}, and the Context has no "${name}" compression plugin: install ${pkg} and pass its plugin in \`plugins\` (new Context({ plugins }) or CloudVolume.open(url, { plugins })), or to the CLI with --plugin <module> or CLOUDVOLUME_PLUGINS`,
      { url: where.url, key: where.file },
    );
  }
  let codec;
  try {
    codec = await ctx.compression(name);
  } catch (e) {
    if (isCloudVolumeError(e)) throw e;
    throw new CloudVolumeError("UNAVAILABLE", `the "${name}" compression plugin failed to load: ${(e as Error)?.message ?? e}`, { url: where.url, cause: e });
  }
  const typesize = dtypeInfo(dtype).bytes;
  switch (c.type) {
    case "gzip":
      return { config: c, name, codec, level: gzipLevel(c.level), params: { ...c } };
    case "bzip2":
      return { config: c, name, codec, level: typeof c.blockSize === "number" ? c.blockSize : 9, params: { ...c } };
    case "xz":
      return { config: c, name, codec, level: typeof c.preset === "number" ? c.preset : 6, params: { ...c } };
    case "blosc":
      return {
        config: c, name, codec, level: typeof c.clevel === "number" ? c.clevel : 5,
        params: { cname: c.cname ?? "lz4", clevel: c.clevel ?? 5, shuffle: c.shuffle ?? 1, blocksize: c.blocksize ?? 0, typesize },
      };
    case "zstd":
      return { config: c, name, codec, level: typeof c.level === "number" ? c.level : 3, params: { ...c } };
    default:
      return { config: c, name, codec, params: { ...c } };
  }
}
