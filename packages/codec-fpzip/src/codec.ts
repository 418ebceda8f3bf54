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
import { fpzipBackend, nativeFpzip, type NativeFpzip } from "./native.js";

/*
 * Precomputed's `fpzip` and `kempressed` encodings (CloudVolume chunks.py).
 *
 * fpzip: one fpzip stream per chunk with the header's nx, ny, nz, nf = the chunk's x, y,
 * z and channels (CloudVolume compresses the Fortran-order x,y,z,c array), float32 or
 * float64, lossless unless the scale has `fpzip_precision` (bits kept: 2-32 for float32,
 * even 4-64 for float64).
 *
 * kempressed: fpzip (lossless) of (chunk + 2.0) in the chunk's float type with the z
 * and channel axes swapped (header nz = channels, nf = z); reading subtracts 2.0 and
 * swaps back. The +2 moves values of [-1, 1] fields away from zero, where fpzip's
 * prediction residuals in the integer map are small; the subtraction rounds, so reading
 * does not always give back the written floats (as in CloudVolume).
 */

export const FPZIP = "fpzip";
export const KEMPRESSED = "kempressed";
const KEMPRESSED_OFFSET = 2.0;

function addon(codec: string, chunk: ChunkSpec, op: "decode" | "encode"): NativeFpzip {
  const native = nativeFpzip();
  if (native) return native;
  throw new CloudVolumeError("UNAVAILABLE", `${codec} ${op} of ${describeChunk(chunk)}: ${fpzipBackend().why}`, chunkErrorContext(chunk));
}

function floatType(codec: string, chunk: ChunkSpec, op: "decode" | "encode"): { isDouble: boolean; bytes: number } {
  if (chunk.dtype === "float32") return { isDouble: false, bytes: 4 };
  if (chunk.dtype === "float64") return { isDouble: true, bytes: 8 };
  const e = `${codec} stores float32 or float64 voxels; this layer's data_type is ${chunk.dtype}`;
  if (op === "decode") throw chunkDecodeFailed(codec, chunk, e);
  throw new CloudVolumeError("INVALID_ARGUMENT", `${codec} encode of ${describeChunk(chunk)}: ${e}`, chunkErrorContext(chunk));
}

/** Bits of precision `fpzip_precision` asks for (0 = lossless); float32 2-32, float64 even 4-64. */
export function fpzipPrecision(chunk: ChunkSpec): number {
  const v = chunk.params?.fpzip_precision;
  if (v === undefined || v === null || v === 0) return 0;
  const double = chunk.dtype === "float64";
  const ok = typeof v === "number" && Number.isInteger(v) && (double ? v >= 4 && v <= 64 && v % 2 === 0 : v >= 2 && v <= 32);
  if (!ok) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `fpzip encode of ${describeChunk(chunk)}: fpzip_precision must be 0 (lossless) or ${double ? "an even number of bits from 4 to 64" : "bits from 2 to 32"}, got ${JSON.stringify(v)}`,
      chunkErrorContext(chunk),
    );
  }
  return v;
}

/** A view of `bytes` whose offset suits `align`-byte values (copied when it does not). */
function aligned(bytes: Uint8Array, align: number): Uint8Array {
  return bytes.byteOffset % align === 0 ? bytes : bytes.slice();
}

function decodeStream(codec: string, bytes: Uint8Array, chunk: ChunkSpec, out: Uint8Array | undefined, dims: [number, number, number, number]): Uint8Array {
  const native = addon(codec, chunk, "decode");
  const { isDouble, bytes: bpv } = floatType(codec, chunk, "decode");
  const size = dims[0] * dims[1] * dims[2] * dims[3] * bpv;
  checkDecodeOutput(codec, chunk, out, size);
  const target = out && out.byteOffset % bpv === 0 ? out : new Uint8Array(size);
  try {
    native.decode(bytes, target, isDouble, ...dims);
  } catch (e) {
    throw chunkDecodeFailed(codec, chunk, (e as Error).message, e);
  }
  if (out && target !== out) out.set(target);
  return out ?? target;
}

function encodeStream(codec: string, values: Uint8Array, chunk: ChunkSpec, dims: [number, number, number, number], precision: number): Uint8Array {
  const native = addon(codec, chunk, "encode");
  const { isDouble } = floatType(codec, chunk, "encode");
  try {
    return native.encode(values, isDouble, ...dims, precision);
  } catch (e) {
    throw chunkEncodeFailed(codec, chunk, (e as Error).message, e);
  }
}

export const fpzipCodec: ArrayCodec = {
  name: FPZIP,
  decode(bytes, chunk, out) {
    const [x, y, z] = chunk.shape;
    return decodeStream(FPZIP, bytes, chunk, out, [x, y, z, chunk.channels]);
  },
  encode(voxels, chunk) {
    const { bytes } = floatType(FPZIP, chunk, "encode");
    const [x, y, z] = chunk.shape;
    checkEncodeInput(FPZIP, chunk, voxels, x * y * z * chunk.channels * bytes);
    return encodeStream(FPZIP, aligned(voxels, bytes), chunk, [x, y, z, chunk.channels], fpzipPrecision(chunk));
  },
};

/**
 * Swap the z and channel axes of an x*y plane-major array, into `dst`: from [x, y, a, b]
 * (a fastest after y) to [x, y, b, a]; planes of x*y values move whole.
 */
function swapPlaneAxes(src: Uint8Array, planeBytes: number, a: number, b: number, dst: Uint8Array = new Uint8Array(src.byteLength)): Uint8Array {
  for (let j = 0; j < b; j++) for (let i = 0; i < a; i++) dst.set(src.subarray((i + a * j) * planeBytes, (i + a * j + 1) * planeBytes), (j + b * i) * planeBytes);
  return dst;
}

export const kempressedCodec: ArrayCodec = {
  name: KEMPRESSED,
  decode(bytes, chunk, out) {
    const [x, y, z] = chunk.shape;
    const c = chunk.channels;
    const { isDouble, bytes: bpv } = floatType(KEMPRESSED, chunk, "decode");
    // The stream holds [x, y, c, z] (header nz = channels, nf = z). With one channel that
    // is the chunk's own layout: decode in place; else decode aside and swap into place.
    checkDecodeOutput(KEMPRESSED, chunk, out, x * y * z * c * bpv);
    const aligned = out && out.byteOffset % bpv === 0 ? out : undefined; // float views need it
    const target = c === 1 ? decodeStream(KEMPRESSED, bytes, chunk, aligned, [x, y, c, z]) : swapPlaneAxes(decodeStream(KEMPRESSED, bytes, chunk, undefined, [x, y, c, z]), x * y * bpv, c, z, aligned);
    const values = isDouble ? new Float64Array(target.buffer, target.byteOffset, target.byteLength / 8) : new Float32Array(target.buffer, target.byteOffset, target.byteLength / 4);
    for (let i = 0; i < values.length; i++) values[i] -= KEMPRESSED_OFFSET; // rounds in the array's own type, as numpy does
    if (out && target !== out) out.set(target);
    return out ?? target;
  },
  encode(voxels, chunk) {
    const [x, y, z] = chunk.shape;
    const c = chunk.channels;
    const { isDouble, bytes: bpv } = floatType(KEMPRESSED, chunk, "encode");
    checkEncodeInput(KEMPRESSED, chunk, voxels, x * y * z * c * bpv);
    const shifted = new Uint8Array(voxels.byteLength);
    shifted.set(voxels);
    const values = isDouble ? new Float64Array(shifted.buffer) : new Float32Array(shifted.buffer);
    for (let i = 0; i < values.length; i++) values[i] += KEMPRESSED_OFFSET;
    return encodeStream(KEMPRESSED, c === 1 ? shifted : swapPlaneAxes(shifted, x * y * bpv, z, c), chunk, [x, y, c, z], 0);
  },
};
