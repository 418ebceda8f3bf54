import { CloudVolumeError, concatBytes, pipeBytes, type ByteCodec } from "@cloudvolume/core";
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
    return concatBytes([head, tail]);
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
