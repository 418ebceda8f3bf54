import { CloudVolumeError, type ByteCodec, type WasmSource } from "@cloudvolume/core";

/*
 * bzip2 on libbzip2 1.0.8 (the reference implementation) compiled to WebAssembly, the
 * build the bzip2-wasm package ships. We instantiate its .wasm ourselves instead of using
 * that package's JavaScript: its Emscripten glue reaches for `require` through a global
 * it installs, which neither a browser bundle nor an ES module should depend on. The
 * module needs six imports (memcpy, heap growth, exit, three stdio stubs) and exports
 * BZ2_bzBuffToBuffCompress / BZ2_bzBuffToBuffDecompress with malloc and free.
 *
 * Limits of the buffer-to-buffer API: the decoder reads one bzip2 stream (concatenated
 * streams, as pbzip2 writes, decode to the first only); the decoded size is not stored,
 * so decode starts from the `decodedSize` hint (or 4x the input) and grows on
 * BZ_OUTBUFF_FULL.
 */

export const BZIP2_NAME = "bzip2";
export const BZIP2_ALIASES = ["bzip2", "bz2"] as const;
export const BZIP2_SUFFIX = ".bz2";
export const BZIP2_PACKAGE = "@cloudvolume/codec-bzip2";
/** bzip2's default block size (900k, `bzip2 -9`, Python's bz2.compress); zarr and n5 pass theirs in params.level. */
export const DEFAULT_BZIP2_LEVEL = 9;
/** Largest output we try before calling the input corrupt. */
const MAX_OUTPUT = 0x7fff0000;

const ERRORS: Record<number, string> = {
  [-2]: "BZ_PARAM_ERROR (bad parameters)",
  [-3]: "BZ_MEM_ERROR (out of memory)",
  [-4]: "BZ_DATA_ERROR (corrupt data: a CRC or structure check failed)",
  [-5]: "BZ_DATA_ERROR_MAGIC (no bzip2 header)",
  [-7]: "BZ_UNEXPECTED_EOF (the stream ends early: truncated)",
  [-8]: "BZ_OUTBUFF_FULL",
};
const BZ_OUTBUFF_FULL = -8;

interface Exports {
  memory: WebAssembly.Memory;
  malloc(n: number): number;
  free(p: number): void;
  BZ2_bzBuffToBuffCompress(dest: number, destLen: number, src: number, srcLen: number, blockSize100k: number, verbosity: number, workFactor: number): number;
  BZ2_bzBuffToBuffDecompress(dest: number, destLen: number, src: number, srcLen: number, small: number, verbosity: number): number;
  __wasm_call_ctors(): void;
  emscripten_stack_init?(): void;
}

class Exit extends Error {}

async function instantiate(module: WebAssembly.Module): Promise<Exports> {
  let exports: Exports | undefined;
  const heap = () => new Uint8Array(exports!.memory.buffer);
  const env = {
    emscripten_memcpy_big: (dest: number, src: number, n: number) => void heap().copyWithin(dest, src, src + n),
    emscripten_resize_heap: (requested: number) => {
      const mem = exports!.memory;
      const need = requested >>> 0;
      if (need > 0x80000000) return 0;
      try {
        mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
        return 1;
      } catch {
        return 0;
      }
    },
    // libbzip2 calls exit() from bz_internal_error (an assertion failure).
    exit: (code: number) => {
      throw new Exit(`libbzip2 exited with code ${code} (internal error)`);
    },
  };
  const wasi = { fd_write: () => 0, fd_close: () => 0, fd_seek: () => 0 };
  const instance = await WebAssembly.instantiate(module, { env, wasi_snapshot_preview1: wasi });
  exports = instance.exports as unknown as Exports;
  exports.emscripten_stack_init?.();
  exports.__wasm_call_ctors();
  return exports;
}

/** A bzip2 ByteCodec on the libbzip2 module `source` compiles. */
export function createBzip2Codec(source: WasmSource): ByteCodec {
  let current: Promise<Exports> | undefined;
  const get = () => {
    current ??= source().then(instantiate).catch((e: unknown) => {
      current = undefined;
      throw new CloudVolumeError("UNAVAILABLE", `could not load the libbzip2 WebAssembly module: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
    return current;
  };

  /** Run `fn` with `input` in the module's heap; any trap or exit() drops the instance (its stack may be left unwound). */
  async function withInput<T>(input: Uint8Array, fn: (m: Exports, src: number) => T): Promise<T> {
    const m = await get();
    const src = m.malloc(Math.max(1, input.byteLength));
    if (src === 0) throw new CloudVolumeError("UNAVAILABLE", `libbzip2: cannot allocate ${input.byteLength} bytes`);
    try {
      new Uint8Array(m.memory.buffer, src, input.byteLength).set(input);
      return fn(m, src);
    } catch (e) {
      if (!(e instanceof CloudVolumeError)) current = undefined;
      throw e;
    } finally {
      if (current) m.free(src);
    }
  }

  function call(m: Exports, capacity: number, run: (dest: number, lenPtr: number) => number): { rc: number; out?: Uint8Array } {
    const lenPtr = m.malloc(4);
    const dest = m.malloc(Math.max(1, capacity));
    try {
      if (lenPtr === 0 || dest === 0) return { rc: -3 };
      new DataView(m.memory.buffer).setUint32(lenPtr, capacity, true);
      const rc = run(dest, lenPtr);
      if (rc !== 0) return { rc };
      const n = new DataView(m.memory.buffer).getUint32(lenPtr, true);
      return { rc, out: new Uint8Array(m.memory.buffer, dest, n).slice() };
    } finally {
      if (dest) m.free(dest);
      if (lenPtr) m.free(lenPtr);
    }
  }

  const decodeFailed = (key: string | undefined, size: number, why: string, cause?: unknown) =>
    new CloudVolumeError("DECODE_FAILED", `bzip2 decode of ${key ?? "a chunk"} (${size} bytes) failed: ${why}. The object is truncated, corrupt or not bzip2-compressed.`, key === undefined ? { cause } : { key, cause });

  return {
    name: BZIP2_NAME,
    suffix: BZIP2_SUFFIX,

    async decode(bytes, opts = {}) {
      const key = opts.key;
      if (bytes.byteLength === 0) throw decodeFailed(key, 0, "the object has zero bytes");
      // "BZh" + block size '1'..'9' (or the 14-byte empty stream "BZh9" + end-of-stream marker).
      if (bytes.byteLength < 14 || bytes[0] !== 0x42 || bytes[1] !== 0x5a || bytes[2] !== 0x68 || bytes[3] < 0x31 || bytes[3] > 0x39) {
        throw decodeFailed(key, bytes.byteLength, "no bzip2 header (\"BZh1\"..\"BZh9\")");
      }
      let capacity = Math.max(opts.decodedSize ?? 0, bytes.byteLength * 4, 4096);
      try {
        return await withInput(bytes, (m, src) => {
          for (;;) {
            const { rc, out } = call(m, capacity, (dest, lenPtr) => m.BZ2_bzBuffToBuffDecompress(dest, lenPtr, src, bytes.byteLength, 0, 0));
            if (rc === 0) return out!;
            if (rc === BZ_OUTBUFF_FULL && capacity < MAX_OUTPUT) {
              capacity = Math.min(MAX_OUTPUT, capacity * 4);
              continue;
            }
            throw decodeFailed(key, bytes.byteLength, ERRORS[rc] ?? `libbzip2 error ${rc}`);
          }
        });
      } catch (e) {
        if (e instanceof CloudVolumeError) throw e;
        throw decodeFailed(key, bytes.byteLength, e instanceof Error ? e.message : String(e), e);
      }
    },

    /** `level` (block size 1..9 x 100k), else `params.level` (zarr/n5: `{"id": "bz2", "level": 1}`), else 9. */
    async encode(bytes, opts = {}) {
      const level = opts.level ?? opts.params?.level ?? DEFAULT_BZIP2_LEVEL;
      if (typeof level !== "number" || !Number.isInteger(level) || level < 1 || level > 9) {
        throw new CloudVolumeError("INVALID_ARGUMENT", `bzip2 level (block size in 100k) must be an integer from 1 to 9, got ${JSON.stringify(level)}`);
      }
      // bzip2's documented bound: 1% larger plus 600 bytes.
      const capacity = Math.ceil(bytes.byteLength * 1.01) + 600;
      try {
        return await withInput(bytes, (m, src) => {
          const { rc, out } = call(m, capacity, (dest, lenPtr) => m.BZ2_bzBuffToBuffCompress(dest, lenPtr, src, bytes.byteLength, level, 0, 30));
          if (rc !== 0) throw new CloudVolumeError("ENCODE_FAILED", `bzip2 encode failed: ${ERRORS[rc] ?? `libbzip2 error ${rc}`}`);
          return out!;
        });
      } catch (e) {
        if (e instanceof CloudVolumeError) throw e;
        throw new CloudVolumeError("ENCODE_FAILED", `bzip2 encode failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
  };
}
