import { CloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { GZIP_NAME, GZIP_SUFFIX, checkLevel, emptyInput, gzipDecodeFailed, gzipEncodeFailed } from "./common.js";

/**
 * gzip for browsers, workers and edge runtimes, on the Compression Streams API
 * (WHATWG Compression: `DecompressionStream("gzip")`, RFC 1952). No Node built-ins.
 *
 * Limits of the web API, and what we do about them:
 * - Levels cannot be chosen: `CompressionStream("gzip")` uses the engine's default
 *   (zlib's 6 in Chromium and Node). `encode({ level })` validates the level and then
 *   ignores it; use the Node entry to write CloudVolume's level 9.
 * - The Compression spec allows one gzip member per stream and browsers reject what
 *   follows it, but RFC 1952 §2.2 allows a series of members (pigz, `cat a.gz b.gz`),
 *   which Node and CloudFiles' Python reader decode. When a whole-stream decode fails
 *   we look for member boundaries and decode member by member (decodeGzipMembers).
 */

/** Read `bytes` through a (de)compression stream into one buffer, preallocated from `sizeHint`. */
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
  return concat(parts, n);
}

function concat(parts: Uint8Array[], total = parts.reduce((s, p) => s + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function gunzipOne(bytes: Uint8Array, sizeHint?: number): Promise<Uint8Array> {
  return pipeBytes(new DecompressionStream("gzip"), bytes, sizeHint);
}

/** RFC 1952 §2.3.1: a member starts with ID1 ID2 CM = 1f 8b 08 (deflate). */
function isMemberStart(b: Uint8Array, p: number): boolean {
  return b[p] === 0x1f && b[p + 1] === 0x8b && b[p + 2] === 0x08;
}

/** A member is at least a 10-byte header, 2 bytes of deflate (an empty final block) and an 8-byte trailer. */
const MIN_MEMBER = 20;

/**
 * Decode a gzip stream that may hold several members with a decoder that only accepts
 * one (`decodeOne`). Tries the whole stream first (one member: the common case, and
 * runtimes that decode series themselves); if that fails, tries each later offset that
 * looks like a member header as the end of the first member: its prefix must decode on
 * its own, which gzip's CRC-32 and ISIZE trailer make a reliable test. Then the rest is
 * decoded the same way. If no split works, the original error stands.
 */
export async function decodeGzipMembers(
  bytes: Uint8Array,
  decodeOne: (member: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  let firstError: unknown;
  try {
    return await decodeOne(bytes);
  } catch (err) {
    firstError = err;
  }
  for (let p = MIN_MEMBER; p + 3 <= bytes.byteLength; p++) {
    if (!isMemberStart(bytes, p)) continue;
    let head: Uint8Array;
    try {
      head = await decodeOne(bytes.subarray(0, p));
    } catch {
      continue;
    }
    const tail = await decodeGzipMembers(bytes.subarray(p), decodeOne);
    return concat([head, tail]);
  }
  throw firstError;
}

export const gzipCodec: ByteCodec = {
  name: GZIP_NAME,
  suffix: GZIP_SUFFIX,

  async decode(bytes, opts = {}) {
    if (bytes.byteLength === 0) throw emptyInput(opts.key);
    try {
      return await decodeGzipMembers(bytes, (member) => gunzipOne(member, member === bytes ? opts.decodedSize : undefined));
    } catch (err) {
      throw gzipDecodeFailed(err, opts.key, bytes.byteLength);
    }
  },

  /** The level is validated but not applied: CompressionStream has no level (see above). */
  async encode(bytes, opts = {}) {
    checkLevel(opts.level);
    if (typeof CompressionStream === "undefined") {
      throw new CloudVolumeError("UNAVAILABLE", "gzip compression needs the Compression Streams API (CompressionStream), which this runtime lacks");
    }
    try {
      return await pipeBytes(new CompressionStream("gzip"), bytes);
    } catch (err) {
      throw gzipEncodeFailed(err);
    }
  },
};
