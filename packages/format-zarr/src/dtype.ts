import { CloudVolumeError, type DataType } from "@cloudvolume/core";
import { invalid, show } from "./errors.js";

/** A zarr v2 `dtype` (NumPy's array-protocol type string) we can present as a core DataType. */
export interface ZarrDtype {
  /** As written in the .zarray ("<u2", ">f4", "|u1", "|b1"). */
  readonly text: string;
  readonly dataType: DataType;
  readonly itemsize: number;
  /** Stored big-endian: decoded chunks are byte-swapped to the engine's little-endian voxels. */
  readonly bigEndian: boolean;
  /** NumPy bool (`|b1`): presented as uint8 0/1. */
  readonly bool: boolean;
}

const NUMERIC: Record<string, DataType> = {
  u1: "uint8", i1: "int8", u2: "uint16", i2: "int16", u4: "uint32", i4: "int32",
  u8: "uint64", i8: "int64", f4: "float32", f8: "float64", b1: "uint8",
};
const KIND_NAMES: Record<string, string> = {
  f2: "float16", c: "complex", M: "datetime64", m: "timedelta64", S: "bytes", U: "unicode string", O: "object", V: "void / structured",
};

/**
 * Parse a .zarray `dtype`. Numeric types (every byte order) are read; what the voxel
 * engine cannot hold (float16, complex, datetimes, strings, objects, structured types)
 * is UNSUPPORTED naming the type; anything that is no dtype is INVALID_METADATA.
 */
export function parseDtype(v: unknown, key: string, url: string): ZarrDtype {
  if (Array.isArray(v)) {
    throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: dtype ${show(v)} is a structured (record) type; the zarr format driver reads numeric arrays only`, { url, key });
  }
  if (typeof v !== "string") throw invalid(key, url, "dtype", `must be a NumPy type string such as "<u2", got ${show(v)}`);
  const m = /^([<>|=])([a-zA-Z])(\d+)?(\[.*\])?$/.exec(v);
  if (!m) throw invalid(key, url, "dtype", `must be a NumPy type string such as "<u2", got ${show(v)}`);
  const [, order, kind, size] = m;
  const code = `${kind}${size ?? ""}`;
  const dataType = NUMERIC[code];
  if (dataType && !m[4]) {
    const itemsize = Number(size);
    if (order === "|" && itemsize > 1) throw invalid(key, url, "dtype", `${show(v)}: "|" (no byte order) is only for one-byte types`);
    return { text: v, dataType, itemsize, bigEndian: order === ">" && itemsize > 1, bool: code === "b1" };
  }
  const name = KIND_NAMES[code] ?? KIND_NAMES[kind];
  if (name || "biufcmMOSUV".includes(kind)) {
    throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: dtype ${show(v)} (${name ?? `${kind}${size ?? ""}`}) is not supported; the zarr format driver reads uint8..uint64, int8..int64, float32, float64 and bool`, { url, key });
  }
  throw invalid(key, url, "dtype", `${show(v)} is not a NumPy type string`);
}

/** The dtype string we write for a DataType (little-endian unless `bigEndian`). */
export function dtypeText(dataType: DataType, bigEndian = false): string {
  const code = Object.entries(NUMERIC).find(([c, t]) => t === dataType && c !== "b1")![0];
  return `${code.endsWith("1") ? "|" : bigEndian ? ">" : "<"}${code}`;
}
