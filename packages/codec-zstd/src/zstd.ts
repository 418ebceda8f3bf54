import { CloudVolumeError, type ByteCodec } from "@cloudvolume/core";

/*
 * Zstandard (RFC 8878) frames through the WebAssembly build of libzstd that numcodecs.js
 * ships (the codec zarrita.js uses; the .wasm is inlined in its module, so this runs
 * unchanged in Node, browsers and workers). Its decoder walks every frame of the input
 * with the streaming API, so frames without a content size (streaming writers) and
 * concatenated frames decode too; what it rejects (bad magic, truncation, corrupt
 * blocks, trailing garbage) comes back as a JS exception, which we turn into
 * DECODE_FAILED naming the key. We add only what the wrapper does not check: an empty
 * input, the magic number (so a plain-text object never reaches the decoder's size
 * guess) and a decoded-size hint that disagrees is ignored, as the conformance suite asks.
 *
 * Node 20 has no zstd in node:zlib (it arrives in 22.15/23.8), so there is no separate
 * Node entry: the WebAssembly decoder is the fast path everywhere.
 */

export const ZSTD_NAME = "zstd";
/** CloudFiles' on-disk suffix for zstd objects (`<key>.zstd`). */
export const ZSTD_SUFFIX = ".zstd";
export const ZSTD_PACKAGE = "@cloudvolume/codec-zstd";
/** zstd's own default (ZSTD_CLEVEL_DEFAULT); zarr and n5 pass theirs in params.level. */
export const DEFAULT_ZSTD_LEVEL = 3;
export const MAX_ZSTD_LEVEL = 22;

/** Frame magic 0xFD2FB528 and skippable-frame magics 0x184D2A5?, little-endian. */
function startsWithFrame(b: Uint8Array): boolean {
  if (b.byteLength < 4) return false;
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return true;
  return (b[0] & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18;
}

interface NumcodecsZstd {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
type ZstdCtor = { fromConfig(c: { id: string; level?: number }): NumcodecsZstd };

let ctor: Promise<ZstdCtor> | undefined;
function zstdClass(): Promise<ZstdCtor> {
  ctor ??= import("numcodecs/zstd").then((m) => m.default as unknown as ZstdCtor).catch((e: unknown) => {
    ctor = undefined;
    throw new CloudVolumeError("UNAVAILABLE", `could not load the zstd WebAssembly module (numcodecs/zstd): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  });
  return ctor;
}

const encoders = new Map<number, NumcodecsZstd>();
let decoder: NumcodecsZstd | undefined;

function failed(what: string, key: string | undefined, cause?: unknown): CloudVolumeError {
  const reason = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new CloudVolumeError("DECODE_FAILED", `zstd decode of ${key ?? "a chunk"} ${what}${reason}. The object is truncated, corrupt or not zstd-compressed.`, key === undefined ? { cause } : { key, cause });
}

/** A zstd level from `level` or a codec configuration's `level` (zarr, n5); INVALID_ARGUMENT outside 1..22. */
export function zstdLevel(level: unknown): number {
  if (level === undefined || level === null) return DEFAULT_ZSTD_LEVEL;
  if (typeof level !== "number" || !Number.isInteger(level) || level > MAX_ZSTD_LEVEL) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `zstd level must be an integer up to ${MAX_ZSTD_LEVEL}, got ${JSON.stringify(level)}`);
  }
  // zstd's fast (negative) levels and 0 ("default") are not exposed by the WebAssembly
  // build; level 1 is the nearest it has, and any zstd decoder reads the result.
  return level < 1 ? 1 : level;
}

/** Decode every zstd frame of `bytes` (DECODE_FAILED naming `key` on any failure). */
export async function zstdDecompress(bytes: Uint8Array, key?: string): Promise<Uint8Array> {
  if (bytes.byteLength === 0) throw failed("failed: the object has zero bytes", key);
  if (!startsWithFrame(bytes)) throw failed(`failed: no zstd frame magic (first bytes ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")})`, key);
  decoder ??= (await zstdClass()).fromConfig({ id: "zstd" });
  try {
    // The wrapper copies its input into the WebAssembly heap; a view into a larger buffer is fine.
    return await decoder.decode(bytes);
  } catch (e) {
    throw failed("failed", key, e);
  }
}

/** One zstd frame (with its content size) of `bytes` at `level`. */
export async function zstdCompress(bytes: Uint8Array, level: number = DEFAULT_ZSTD_LEVEL): Promise<Uint8Array> {
  const l = zstdLevel(level);
  let enc = encoders.get(l);
  if (!enc) encoders.set(l, (enc = (await zstdClass()).fromConfig({ id: "zstd", level: l })));
  try {
    const out = await enc.encode(bytes);
    return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
  } catch (e) {
    throw new CloudVolumeError("ENCODE_FAILED", `zstd encode failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * The zstd ByteCodec. `encode` takes `level`, else `params.level` (a zarr/n5 codec
 * configuration such as `{"id": "zstd", "level": 3}`), else 3.
 */
export const zstdCodec: ByteCodec = {
  name: ZSTD_NAME,
  suffix: ZSTD_SUFFIX,
  decode(bytes, opts = {}) {
    return zstdDecompress(bytes, opts.key);
  },
  encode(bytes, opts = {}) {
    return zstdCompress(bytes, zstdLevel(opts.level ?? opts.params?.level));
  },
};
