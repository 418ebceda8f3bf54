/**
 * Byte helpers on web-standard streams (WHATWG Streams, Compression Streams), for the
 * browser / worker / edge entries of the transfer-compression codecs. No Node built-ins.
 */

/** The parts joined into one new buffer; `total` (their summed length) when the caller already has it. */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((s, p) => s + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * Read `bytes` through a transform stream (e.g. `new DecompressionStream("gzip")`) into
 * one buffer. With `sizeHint` (> 0) the output is preallocated at that size and grown if
 * the hint was short; without it the chunks are collected and joined once at the end.
 * A failure of the stream (corrupt input) rejects the returned promise.
 */
export async function pipeBytes(stream: TransformStream<BufferSource, Uint8Array>, bytes: Uint8Array, sizeHint?: number): Promise<Uint8Array> {
  // Streams refuse views of a SharedArrayBuffer; copy those once.
  const input = (typeof SharedArrayBuffer !== "undefined" && bytes.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes) as Uint8Array<ArrayBuffer>;
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Write and close without awaiting: the write settles only as output is read, so
  // awaiting it first would deadlock on large inputs. Its failure resurfaces from read().
  writer
    .write(input)
    .then(() => writer.close())
    .catch(() => undefined);

  let out = new Uint8Array(sizeHint !== undefined && sizeHint > 0 ? sizeHint : 0);
  let n = 0;
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out.byteLength > 0) {
        // Known size: copy into the one buffer, growing it if the hint was short.
        if (n + value.byteLength > out.byteLength) {
          const grown = new Uint8Array(Math.max(out.byteLength * 2, n + value.byteLength));
          grown.set(out.subarray(0, n));
          out = grown;
        }
        out.set(value, n);
      } else {
        parts.push(value);
      }
      n += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  if (out.byteLength > 0) return n === out.byteLength ? out : out.subarray(0, n);
  if (parts.length === 1) return parts[0];
  return concatBytes(parts, n);
}
