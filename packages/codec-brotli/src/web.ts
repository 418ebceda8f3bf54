import { CloudVolumeError, pipeBytes, type ByteCodec } from "@cloudvolume/core";
import { BROTLI_NAME, BROTLI_SUFFIX, type BrotliBackend, brotliDecodeFailed, brotliEncodeFailed, checkQuality, emptyInput } from "./common.js";

/**
 * Brotli for browsers, workers and edge runtimes. No Node built-ins.
 *
 * Decode: the Compression Streams API when the runtime supports brotli there. The
 * WHATWG Compression standard names the format "brotli" (Safari 18.4+, Firefox, Node
 * 24.7+); we also try "br", the Content-Encoding token, in case a runtime used that.
 * Elsewhere (Chromium today) we fall back to the pure-JS decoder of the `brotli` npm
 * package (a port of Google's C decoder), imported on first use so runtimes with
 * native support never load it. Its bundler (`browser`) build carries a compressed
 * copy of the 122 KiB static dictionary. It is ~20x slower than native (6.9 ms vs
 * 0.3 ms for a 256 KiB segmentation chunk) and less strict: it cannot report where
 * the stream ended, so bytes after a complete stream, or a stream missing only its
 * final empty meta-block, decode without error (the array codec's size check still
 * catches a wrong-sized result).
 *
 * Encode: only with a native CompressionStream for brotli; quality cannot be chosen
 * there (the engine's default applies). Otherwise UNAVAILABLE: the pure-JS encoders
 * are large, slow emscripten builds, and Node has the real one.
 */

const FORMATS = ["brotli", "br"] as const;
type StreamCtor = new (format: CompressionFormat) => TransformStream<BufferSource, Uint8Array>;
const probed = new WeakMap<StreamCtor, string | null>();

/** The format name this stream constructor accepts for brotli, if any (probed once per constructor). */
function nativeFormat(ctor: StreamCtor | undefined): string | null {
  if (typeof ctor !== "function") return null;
  let format = probed.get(ctor);
  if (format === undefined) {
    format = null;
    for (const f of FORMATS) {
      try {
        new ctor(f as unknown as CompressionFormat);
        format = f;
        break;
      } catch {
        // TypeError: unsupported format
      }
    }
    probed.set(ctor, format);
  }
  return format;
}

const decompressionCtor = (): StreamCtor | undefined => (globalThis as { DecompressionStream?: StreamCtor }).DecompressionStream;
const compressionCtor = (): StreamCtor | undefined => (globalThis as { CompressionStream?: StreamCtor }).CompressionStream;

/** Which decoder this runtime will use: a native stream format, or the pure-JS fallback. */
export function brotliDecoderBackend(): BrotliBackend {
  const f = nativeFormat(decompressionCtor());
  return f === null ? "brotli.js" : f === "br" ? "native:br" : "native:brotli";
}

type PureDecompress = (buffer: ArrayLike<number>, outSize?: number | null) => Uint8Array;
let pureDecoder: Promise<PureDecompress> | undefined;

/** Loaded on first use only; a failed load is retried next time rather than cached. */
function loadPureDecoder(): Promise<PureDecompress> {
  pureDecoder ??= import("brotli/decompress").then(
    (m) => m.decompress as PureDecompress,
    (err: unknown) => {
      pureDecoder = undefined;
      throw new CloudVolumeError("UNAVAILABLE", "brotli decoding needs DecompressionStream('brotli') or the `brotli` npm package, which failed to load", { cause: err });
    },
  );
  return pureDecoder;
}

/**
 * The pure decoder allocates the output from the size it is given (or, without one,
 * from the first meta-block's length) and grows it per meta-block as needed, so any
 * hint is safe: an exact one saves the regrowth copies.
 */
function decodePure(decompress: PureDecompress, bytes: Uint8Array, decodedSize: number | undefined, key: string | undefined): Uint8Array {
  try {
    return decompress(bytes, decodedSize !== undefined && decodedSize > 0 ? decodedSize : null);
  } catch (err) {
    throw brotliDecodeFailed(err, key, bytes.byteLength);
  }
}

export const brotliCodec: ByteCodec = {
  name: BROTLI_NAME,
  suffix: BROTLI_SUFFIX,

  async decode(bytes, opts = {}) {
    if (bytes.byteLength === 0) throw emptyInput(opts.key);
    const ctor = decompressionCtor();
    const format = nativeFormat(ctor);
    if (ctor && format !== null) {
      try {
        return await pipeBytes(new ctor(format as unknown as CompressionFormat), bytes, opts.decodedSize);
      } catch (err) {
        throw brotliDecodeFailed(err, opts.key, bytes.byteLength);
      }
    }
    return decodePure(await loadPureDecoder(), bytes, opts.decodedSize, opts.key);
  },

  /** Needs a native CompressionStream for brotli; `level` is validated but cannot be applied there. */
  async encode(bytes, opts = {}) {
    checkQuality(opts.level);
    const ctor = compressionCtor();
    const format = nativeFormat(ctor);
    if (!ctor || format === null) {
      throw new CloudVolumeError(
        "UNAVAILABLE",
        "brotli compression needs Node (use the package's node entry) or a runtime with CompressionStream('brotli') / CompressionStream('br'); " +
          "this runtime has neither. Write gzip instead, or compress on a server.",
      );
    }
    try {
      return await pipeBytes(new ctor(format as unknown as CompressionFormat), bytes);
    } catch (err) {
      throw brotliEncodeFailed(err);
    }
  },
};
