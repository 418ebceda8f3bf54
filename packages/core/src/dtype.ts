import { CloudVolumeError } from "./errors.js";

export type DataType =
  | "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32"
  | "uint64" | "int64" | "float32" | "float64";

export type TypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array;

type TypedArrayCtor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

export interface DataTypeInfo {
  readonly name: DataType;
  readonly bytes: number;
  /** 64-bit integers are BigInt-valued in JS; compare them as bigint, never as number. */
  readonly bigint: boolean;
  readonly float: boolean;
  readonly signed: boolean;
  readonly ctor: TypedArrayCtor;
}

const table: Record<DataType, DataTypeInfo> = {
  uint8: { name: "uint8", bytes: 1, bigint: false, float: false, signed: false, ctor: Uint8Array },
  int8: { name: "int8", bytes: 1, bigint: false, float: false, signed: true, ctor: Int8Array },
  uint16: { name: "uint16", bytes: 2, bigint: false, float: false, signed: false, ctor: Uint16Array },
  int16: { name: "int16", bytes: 2, bigint: false, float: false, signed: true, ctor: Int16Array },
  uint32: { name: "uint32", bytes: 4, bigint: false, float: false, signed: false, ctor: Uint32Array },
  int32: { name: "int32", bytes: 4, bigint: false, float: false, signed: true, ctor: Int32Array },
  uint64: { name: "uint64", bytes: 8, bigint: true, float: false, signed: false, ctor: BigUint64Array as unknown as TypedArrayCtor },
  int64: { name: "int64", bytes: 8, bigint: true, float: false, signed: true, ctor: BigInt64Array as unknown as TypedArrayCtor },
  float32: { name: "float32", bytes: 4, bigint: false, float: true, signed: true, ctor: Float32Array },
  float64: { name: "float64", bytes: 8, bigint: false, float: true, signed: true, ctor: Float64Array },
};

export const DATA_TYPES = Object.keys(table) as DataType[];

export function isDataType(name: unknown): name is DataType {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(table, name);
}

export function dtypeInfo(name: string): DataTypeInfo {
  if (!isDataType(name)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `unknown data type ${JSON.stringify(name)}; expected one of ${DATA_TYPES.join(", ")}`);
  }
  return table[name];
}

/** The data type of a typed array, by its constructor. */
export function dtypeOfArray(a: TypedArray): DataType {
  for (const info of Object.values(table)) if (a instanceof info.ctor) return info.name;
  throw new CloudVolumeError("INVALID_ARGUMENT", "not a supported typed array");
}

/** A typed view of `bytes` (no copy when aligned; copies into fresh storage when not). */
export function viewAs(bytes: Uint8Array, dtype: DataType): TypedArray {
  const info = dtypeInfo(dtype);
  if (bytes.byteLength % info.bytes !== 0) {
    throw new CloudVolumeError("DECODE_FAILED", `${bytes.byteLength} bytes is not a whole number of ${dtype} values`);
  }
  if (bytes.byteOffset % info.bytes === 0) return new info.ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / info.bytes);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new info.ctor(copy.buffer, 0, copy.byteLength / info.bytes);
}

/** The bytes behind a typed array (a view, no copy). */
export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Precomputed stores numbers little-endian; we rely on the host agreeing (every JS engine in use is LE). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reverse the byte order of every `width`-byte word in place. Only used on a
 * big-endian host (see HOST_IS_LITTLE_ENDIAN): the rest of the library views
 * decoded voxel bytes through typed arrays (core's viewAs), which read in host order,
 * so on such a host little-endian file bytes must be swapped once for the
 * numbers to come out right. Every JS engine in use today is little-endian, where
 * this never runs (raw decode is then a zero-copy pass-through).
 */
export function byteswapInPlace(bytes: Uint8Array, width: number): Uint8Array {
  if (width <= 1) return bytes;
  if (bytes.byteLength % width !== 0) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `cannot byteswap ${bytes.byteLength} bytes in ${width}-byte words`);
  }
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
  return bytes;
}
