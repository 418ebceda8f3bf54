import { CloudVolumeError, concatBytes, type ByteCodec } from "@cloudvolume/core";
// A webpack UMD (CommonJS) bundle of xz-embedded compiled to WebAssembly (the wasm is inlined
// as a data: URL); its `stream/web` import is mapped away for browsers by its package.json.
import xzDecompress from "xz-decompress";

/*
 * xz decoding (the .xz container with LZMA2, as liblzma, Python's lzma and xz-java write
 * it) on xz-decompress: xz-embedded in WebAssembly, the same in Node and browsers, no
 * native code. Concatenated streams decode as one. There is no encoder: no pure-JS or wasm
 * xz encoder is on npm that we trust, so encode() is UNSUPPORTED (write another compression).
 */

const { XzReadableStream } = xzDecompress;

function failed(key: string | undefined, size: number, why: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError(
    "DECODE_FAILED",
    `xz decode of ${key ?? "a chunk"} (${size} bytes) failed: ${why}. The object is truncated, corrupt or not xz-compressed.`,
    { ...(key === undefined ? {} : { key }), ...(cause === undefined ? {} : { cause }) },
  );
}

async function readAll(stream: ReadableStream<Uint8Array>, hint?: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.byteLength;
  }
  if (parts.length === 1 && (hint === undefined || hint === total)) return parts[0];
  return concatBytes(parts, total);
}

export const xzCodec: ByteCodec = {
  name: "xz",
  suffix: ".xz",

  async decode(bytes, opts = {}) {
    // Stream header magic FD 37 7A 58 5A 00 ("\xFD7zXZ\0"); the decoder's own message for other input is an opaque code.
    const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
    if (bytes.byteLength === 0) throw failed(opts.key, 0, "the object has zero bytes");
    if (bytes.byteLength < 12 || MAGIC.some((m, i) => bytes[i] !== m)) throw failed(opts.key, bytes.byteLength, "no xz stream header (magic FD 37 7A 58 5A 00)");
    try {
      // A copy: the stream may transfer or detach the buffer it reads.
      const input = bytes.slice();
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(input);
          controller.close();
        },
      });
      return await readAll(new XzReadableStream(source), opts.decodedSize);
    } catch (e) {
      throw failed(opts.key, bytes.byteLength, (e as Error)?.message ?? String(e), e);
    }
  },

  encode() {
    throw new CloudVolumeError(
      "UNSUPPORTED",
      "xz compression is decode-only in @cloudvolume/codec-xz (xz-decompress has no encoder); write with another compression (e.g. gzip)",
    );
  },
};
