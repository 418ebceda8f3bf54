import { constants, createGunzip, gunzipSync, type Gunzip } from "node:zlib";
import { emptyInput, gzipDecodeFailed } from "./common.js";

/*
 * Synchronous gunzip into a caller's buffer, for worker threads (ByteCodec.decodeInto).
 *
 * node:zlib has no public "inflate into this buffer" call: gunzipSync allocates a fresh
 * output per call and runs the stream machinery around it. Measured on a 2-core VM, 64
 * chunks of 64^3 (bench/parallel.mjs): EM-like uint8 inflates 1.02-1.5x faster into one
 * reused buffer, uint64 segmentation 1.1-2.4x (where output dominates, and more so while
 * fresh memory is slow to fault in, as on a busy VM). Reused buffers also keep a cutout's
 * peak memory near its size.
 *
 * So we drive the native handle of one Gunzip stream directly, as Node's own
 * processChunkSync does: `_handle.writeSync(flush, in, inOff, inLen, out, outOff,
 * outLen)` with the counts left in `_writeState` ([availOut, availIn]). It is the same
 * native code as gunzipSync (concatenated members, trailing zero padding, CRC checks),
 * only without the allocations. These names are internal to Node, so they are checked
 * once; when they are missing (another runtime, a future Node) decodeInto falls back to
 * gunzipSync and a copy, which is slower but gives the same bytes and the same errors.
 */

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
}

interface Inflater {
  stream: Gunzip;
  handle: NativeHandle;
  /** [availOut, availIn] after each write. */
  state: Uint32Array;
}

/** undefined: not made yet; null: this runtime lacks the internals, use the fallback. */
let inflater: Inflater | undefined | null;
/** Output room for the "did the stream end?" probe after `out` filled up exactly. */
const probe = new Uint8Array(64);

function getInflater(): Inflater | undefined {
  if (inflater === null) return undefined;
  if (inflater) return inflater;
  try {
    const stream = createGunzip();
    // Errors are read synchronously from the stream below; the 'error' event Node also
    // emits on the next tick must not become an uncaught exception.
    stream.on("error", () => {});
    const s = stream as unknown as { _handle?: Partial<NativeHandle>; _writeState?: unknown };
    const handle = s._handle;
    if (!handle || typeof handle.writeSync !== "function" || typeof handle.reset !== "function" || !(s._writeState instanceof Uint32Array)) {
      inflater = null;
      return undefined;
    }
    inflater = { stream, handle: handle as NativeHandle, state: s._writeState };
    return inflater;
  } catch {
    inflater = null;
    return undefined;
  }
}

/** The error a write left on the stream, if any (Node destroys a zlib stream on error). */
function failure(inf: Inflater): unknown {
  const s = inf.stream as unknown as { errored?: unknown; destroyed?: boolean };
  if (s.errored) return s.errored;
  if (s.destroyed) return new Error("zlib stream closed");
  return undefined;
}

/** Throw the error a write left, dropping the broken stream (a new one is made next time). */
function check(inf: Inflater, bytes: Uint8Array, key: string | undefined): void {
  const err = failure(inf);
  if (err === undefined) return;
  inflater = undefined;
  throw gzipDecodeFailed(err, key, bytes.byteLength);
}

/**
 * Gunzip `bytes` into `out` on this thread. Returns `out.subarray(0, n)`, or a new
 * buffer when the stream is longer than `out`.
 */
export function gunzipInto(bytes: Uint8Array, out: Uint8Array, key?: string): Uint8Array {
  if (bytes.byteLength === 0) throw emptyInput(key);
  const inf = getInflater();
  if (!inf) return fallback(bytes, out, key);
  const { handle, state } = inf;
  try {
    handle.writeSync(constants.Z_FINISH, bytes, 0, bytes.byteLength, out, 0, out.byteLength);
  } catch (e) {
    inflater = undefined;
    throw gzipDecodeFailed(e, key, bytes.byteLength);
  }
  check(inf, bytes, key);
  const produced = out.byteLength - state[0];
  if (state[0] === 0) {
    // `out` is full: either the stream ended exactly there (the common case, a pooled
    // buffer of the decoded size) or it goes on. One more write with a little room
    // tells: no output means it ended (a truncated stream errors here instead).
    const consumed = bytes.byteLength - state[1];
    handle.writeSync(constants.Z_FINISH, bytes, consumed, state[1], probe, 0, probe.byteLength);
    check(inf, bytes, key);
    const more = state[0] !== probe.byteLength;
    handle.reset();
    if (more) return fallback(bytes, undefined, key);
    return out;
  }
  handle.reset();
  return out.subarray(0, produced);
}

function fallback(bytes: Uint8Array, out: Uint8Array | undefined, key: string | undefined): Uint8Array {
  let buf: Buffer;
  try {
    buf = gunzipSync(bytes, out ? { chunkSize: Math.max(64 * 1024, out.byteLength + 64) } : {});
  } catch (e) {
    throw gzipDecodeFailed(e, key, bytes.byteLength);
  }
  if (!out || buf.byteLength > out.byteLength) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  out.set(buf);
  return buf.byteLength === out.byteLength ? out : out.subarray(0, buf.byteLength);
}

/** For tests: force the fallback path (true) or go back to probing the internals (false). */
export function useFallbackInflate(on: boolean): void {
  inflater = on ? null : undefined;
}
