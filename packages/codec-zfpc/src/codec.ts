import {
  CloudVolumeError,
  checkDecodeOutput,
  checkEncodeInput,
  chunkDecodeFailed,
  chunkEncodeFailed,
  chunkErrorContext,
  describeChunk,
  dtypeInfo,
  type ArrayCodec,
  type ChunkSpec,
} from "@cloudvolume/core";
import { ContainerError, FORMAT_VERSION, ZFPC_TYPES, ZfpcMode, hyperplanes, readHeader, readStreams, writeContainer, type ZfpcDtype } from "./container.js";
import { nativeZfp, zfpcBackend, type NativeZfp } from "./native.js";

/*
 * Precomputed's `zfpc` encoding (CloudVolume chunks.py: zfpc.compress of the Fortran
 * x,y,z,channel chunk with the scale's zfpc_rate, zfpc_precision, zfpc_tolerance and
 * zfpc_correlated_dims; all -1, the default, is zfp's reversible lossless mode).
 */

export const ZFPC = "zfpc";
const NATIVE_MODE = { reversible: 0, rate: 1, precision: 2, accuracy: 3 } as const;

function addon(chunk: ChunkSpec, op: string): NativeZfp {
  const native = nativeZfp();
  if (native) return native;
  throw new CloudVolumeError("UNAVAILABLE", `zfpc ${op} of ${describeChunk(chunk)}: ${zfpcBackend().why}`, chunkErrorContext(chunk));
}

function zfpType(chunk: ChunkSpec, op: "decode" | "encode"): number {
  const t = ZFPC_TYPES[chunk.dtype as ZfpcDtype];
  if (t) return t;
  const what = `zfpc stores int32, int64, float32 or float64 voxels; this layer's data_type is ${chunk.dtype}`;
  if (op === "decode") throw chunkDecodeFailed(ZFPC, chunk, what);
  throw new CloudVolumeError("INVALID_ARGUMENT", `zfpc encode of ${describeChunk(chunk)}: ${what}`, chunkErrorContext(chunk));
}

export interface ZfpcSettings {
  /** zfpc's header mode (ZfpcMode) and the zfp call zfpy makes: its mode and parameter. */
  headerMode: number;
  zfp: { mode: number; param: number };
  correlated: [boolean, boolean, boolean, boolean];
}

/**
 * The scale's zfpc_* fields as CloudVolume passes them to zfpc.compress: at most one of
 * rate, precision and tolerance >= 0 (-1 or absent: not set); none set is reversible.
 */
export function zfpcSettings(chunk: ChunkSpec): ZfpcSettings {
  const bad = (what: string) => new CloudVolumeError("INVALID_ARGUMENT", `zfpc encode of ${describeChunk(chunk)}: ${what}`, chunkErrorContext(chunk));
  const num = (name: string, integer: boolean): number => {
    const v = chunk.params?.[name];
    if (v === undefined || v === null || v === -1) return -1;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      throw bad(`${name} must be ${integer ? "an integer" : "a number"} >= 0, or -1 (not set); got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const rate = num("zfpc_rate", false), precision = num("zfpc_precision", true), tolerance = num("zfpc_tolerance", false);
  if ([rate, precision, tolerance].filter((v) => v >= 0).length > 1) throw bad("only one of zfpc_rate, zfpc_precision and zfpc_tolerance can be set");
  const dims = chunk.params?.zfpc_correlated_dims ?? [true, true, true, true];
  if (!Array.isArray(dims) || dims.length !== 4 || dims.some((d) => typeof d !== "boolean")) throw bad(`zfpc_correlated_dims must be four booleans (x, y, z, channel); got ${JSON.stringify(dims)}`);
  if (dims.every((d) => !d)) throw bad("zfpc_correlated_dims: at least one dimension must be correlated");
  const correlated = dims as ZfpcSettings["correlated"];
  if (tolerance >= 0) return { headerMode: ZfpcMode.FIXED_ACCURACY, zfp: { mode: NATIVE_MODE.accuracy, param: tolerance }, correlated };
  if (precision >= 0) return { headerMode: ZfpcMode.FIXED_PRECISION, zfp: { mode: NATIVE_MODE.precision, param: precision }, correlated };
  if (rate >= 0) return { headerMode: ZfpcMode.FIXED_RATE, zfp: { mode: NATIVE_MODE.rate, param: rate }, correlated };
  return { headerMode: ZfpcMode.REVERSIBLE, zfp: { mode: NATIVE_MODE.reversible, param: 0 }, correlated };
}

export const zfpcCodec: ArrayCodec = {
  name: ZFPC,
  decode(bytes, chunk, out) {
    const native = addon(chunk, "decode");
    const type = zfpType(chunk, "decode");
    const bpv = dtypeInfo(chunk.dtype).bytes;
    const [x, y, z] = chunk.shape;
    const size = x * y * z * chunk.channels * bpv;
    checkDecodeOutput(ZFPC, chunk, out, size);
    const target = out && out.byteOffset % bpv === 0 ? out : new Uint8Array(size);
    try {
      const h = readHeader(bytes);
      if (h.dataType !== type) throw new ContainerError(`the stream holds zfpc data type ${h.dataType}; this layer's ${chunk.dtype} is ${type}`);
      const want = [x, y, z, chunk.channels];
      // A writer that gave zfpc a 3D array leaves nw = 0; that is one channel.
      const same = want.every((n, i) => h.shape[i] === n || (h.shape[i] === 0 && n === 1 && h.shape.slice(i).every((m) => m === 0)));
      if (!same) throw new ContainerError(`the stream's shape is ${h.shape.join("x")}, the chunk's ${want.join("x")}`);
      const planes = hyperplanes(h.shape, h.correlated);
      const streams = readStreams(bytes, planes.length);
      planes.forEach((p, i) => native.decodeStream(streams[i], target, type, p.dims, p.strides, p.offset));
    } catch (e) {
      throw chunkDecodeFailed(ZFPC, chunk, (e as Error).message, e);
    }
    if (out && target !== out) out.set(target);
    return out ?? target;
  },
  encode(voxels, chunk) {
    const native = addon(chunk, "encode");
    const type = zfpType(chunk, "encode");
    const bpv = dtypeInfo(chunk.dtype).bytes;
    const [x, y, z] = chunk.shape;
    checkEncodeInput(ZFPC, chunk, voxels, x * y * z * chunk.channels * bpv);
    const settings = zfpcSettings(chunk);
    const shape: [number, number, number, number] = [x, y, z, chunk.channels];
    const values = voxels.byteOffset % bpv === 0 ? voxels : voxels.slice();
    try {
      const streams = hyperplanes(shape, settings.correlated).map((p) => native.encodeStream(values, type, p.dims, p.strides, p.offset, settings.zfp.mode, settings.zfp.param));
      // NumPy calls the chunk C-contiguous too when at most one dimension exceeds 1, and
      // zfpc records that flag; so do we, for the same bytes.
      const cOrder = shape.filter((n) => n > 1).length <= 1;
      return writeContainer({ formatVersion: FORMAT_VERSION, dataType: type, mode: settings.headerMode, cOrder, shape, correlated: settings.correlated }, streams);
    } catch (e) {
      throw chunkEncodeFailed(ZFPC, chunk, (e as Error).message, e);
    }
  },
};
