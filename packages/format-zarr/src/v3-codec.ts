import { CloudVolumeError, isCloudVolumeError, type Context } from "@cloudvolume/core";
import CRC32C from "crc-32/crc32c.js";
import { permutedStrides } from "./axes.js";
import { compressorStage, type ByteStage, type ChunkEncoding } from "./codec.js";
import { show } from "./errors.js";
import type { V3BytesCodec, V3Chain, Zarr3ArrayMeta } from "./v3-metadata.js";

/** CRC-32C (Castagnoli) of `bytes`, unsigned. */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}

/**
 * The crc32c codec (codecs/crc32c/v1.0): four little-endian checksum bytes after the
 * data. A mismatch is DECODE_FAILED naming the key: corrupt bytes are never decoded.
 */
export const CRC32C_STAGE: ByteStage = {
  name: "crc32c",
  async decode(bytes, key) {
    return checkCrc32c(bytes, key);
  },
  async encode(bytes) {
    const out = new Uint8Array(bytes.byteLength + 4);
    out.set(bytes);
    new DataView(out.buffer).setUint32(bytes.byteLength, crc32c(bytes), true);
    return out;
  },
};

export function checkCrc32c(bytes: Uint8Array, key: string): Uint8Array {
  if (bytes.byteLength < 4) throw new CloudVolumeError("DECODE_FAILED", `${key}: ${bytes.byteLength} bytes cannot hold a crc32c checksum (truncated?)`, { key });
  const body = bytes.subarray(0, bytes.byteLength - 4);
  const want = new DataView(bytes.buffer, bytes.byteOffset + body.byteLength, 4).getUint32(0, true);
  const got = crc32c(body);
  if (want !== got) throw new CloudVolumeError("DECODE_FAILED", `${key}: crc32c mismatch (stored ${want.toString(16).padStart(8, "0")}, computed ${got.toString(16).padStart(8, "0")}): the object is corrupt or truncated`, { key });
  return body;
}

const BLOSC_SHUFFLE: Record<string, number> = { noshuffle: 0, shuffle: 1, bitshuffle: 2 };

/** A zarr v3 bytes -> bytes codec's configuration as the compression plugin's params (numcodecs form). */
function pluginParams(c: V3BytesCodec, itemsize: number): Record<string, unknown> {
  const cfg = c.configuration;
  if (c.name !== "blosc") return { ...cfg };
  return { cname: cfg.cname, clevel: cfg.clevel ?? 5, shuffle: BLOSC_SHUFFLE[(cfg.shuffle as string | undefined) ?? "noshuffle"], typesize: cfg.typesize ?? itemsize, blocksize: cfg.blocksize ?? 0 };
}

/** The ByteStages of a chain's bytes -> bytes codecs, from the Context's compression plugins. */
export async function chainStages(ctx: Context, chain: V3Chain, itemsize: number, where: { key: string; url: string; mip?: number }): Promise<ByteStage[]> {
  return Promise.all(chain.bytes.map(async (c) => {
    if (c.name === "crc32c") return CRC32C_STAGE;
    try {
      const codec = await ctx.compression(c.name);
      if (!codec) throw new CloudVolumeError("UNKNOWN_CODEC", `no compression plugin for ${c.name}`);
      return compressorStage(c.name, codec, pluginParams(c, itemsize));
    } catch (e) {
      if (!isCloudVolumeError(e, "UNKNOWN_CODEC")) throw e;
      throw new CloudVolumeError("UNKNOWN_CODEC", `${where.key} of ${where.url}: codec ${show({ name: c.name, configuration: c.configuration })}: ${e.message}`, { ...where, cause: e });
    }
  }));
}

/** How a zarr v3 array's chunks (the inner chunks of a sharded one) are stored. */
export async function v3ChunkEncoding(ctx: Context, meta: Zarr3ArrayMeta, url: string, mip: number): Promise<ChunkEncoding> {
  const chain = meta.chunkChain;
  const stages = await chainStages(ctx, chain, meta.dtype.itemsize, { key: meta.key, url, mip });
  return {
    name: `zarr3 ${["bytes", ...chain.bytes.map((b) => b.name)].join("/")}`,
    chunks: meta.chunks,
    strides: permutedStrides(meta.chunks, chain.perm),
    dtype: meta.dtype,
    bigEndian: chain.endian === "big",
    stages,
  };
}
