import { type DataType, type TypedArray, dtypeInfo, bytesOf } from "./dtype.js";
import { CloudVolumeError } from "./errors.js";
import { fillPattern } from "./copy.js";

/**
 * A cutout: a typed array in Fortran order with axes (x, y, z, channel), x
 * fastest, as CloudVolume returns (numpy order='F'). `stride` is in elements.
 */
export interface VolumeArray<T extends TypedArray = TypedArray> {
  data: T;
  shape: [number, number, number, number];
  stride: [number, number, number, number];
  dtype: DataType;
}

export function fortranStrides(shape: readonly number[]): [number, number, number, number] {
  return [1, shape[0], shape[0] * shape[1], shape[0] * shape[1] * shape[2]];
}

/**
 * Allocate a zeroed cutout (or one filled with `background`). With `shared`, the data
 * lives on a SharedArrayBuffer, so worker threads can paint it and read it without a copy.
 * Otherwise `allocate` (a Context's, e.g. huge pages) may supply the zeroed buffer; it
 * cannot make shared memory (Node-API has no external SharedArrayBuffer), so shared
 * outputs always come from the engine's own allocator.
 */
export function allocateArray(
  dtype: DataType, shape: readonly [number, number, number, number], background: number | bigint = 0,
  opts: { shared?: boolean; allocate?: (bytes: number) => ArrayBuffer | undefined } = {},
): VolumeArray {
  const info = dtypeInfo(dtype);
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (opts.shared && typeof SharedArrayBuffer === "undefined") {
    throw new CloudVolumeError("UNAVAILABLE", "SharedArrayBuffer is not available here (a browser page needs cross-origin isolation: COOP and COEP headers)");
  }
  const given = !opts.shared && opts.allocate && n > 0 ? opts.allocate(n * info.bytes) : undefined;
  const data = opts.shared ? new info.ctor(new SharedArrayBuffer(n * info.bytes)) : given && given.byteLength === n * info.bytes ? new info.ctor(given) : new info.ctor(n);
  if (background !== 0 && background !== 0n && n > 0) fillPattern(bytesOf(data), scalarBytes(dtype, background));
  return { data, shape: [shape[0], shape[1], shape[2], shape[3]], stride: fortranStrides(shape), dtype };
}

/** Wrap an existing typed array as a cutout of `shape`, checking the length. */
export function asVolumeArray(data: TypedArray, shape: readonly number[], dtype: DataType): VolumeArray {
  const s: [number, number, number, number] = [shape[0], shape[1], shape[2], shape[3] ?? 1];
  const n = s[0] * s[1] * s[2] * s[3];
  if (data.length !== n) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `array has ${data.length} elements but shape ${s.join("x")} needs ${n}`);
  }
  return { data, shape: s, stride: fortranStrides(s), dtype };
}

/** Little-endian bytes of one scalar of `dtype` (for fills and background tests). */
export function scalarBytes(dtype: DataType, value: number | bigint): Uint8Array {
  const info = dtypeInfo(dtype);
  const one = new info.ctor(1);
  if (info.bigint) {
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `${dtype} value must be an integer or bigint, got ${value}`);
    }
    (one as BigUint64Array)[0] = BigInt.asUintN(64, BigInt(value));
  }
  else (one as Float64Array)[0] = Number(value);
  return bytesOf(one).slice();
}

/** Value at (x, y, z, c). */
export function getVoxel(a: VolumeArray, x: number, y: number, z: number, c = 0): number | bigint {
  return a.data[x + a.stride[1] * y + a.stride[2] * z + a.stride[3] * c];
}
