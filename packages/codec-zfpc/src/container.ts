/*
 * The zfpc container (seung-lab/zfpc 0.1.x, as its reference code reads and writes it;
 * its README's header table lists 15 bytes, the code writes 23). Little-endian.
 *
 *   header  23 bytes: "zfpc", format_version u8 (0), type byte (bits 0-2 data type:
 *           1 int32, 2 int64, 3 float32, 4 float64; bits 3-5 zfp mode: 2 fixed rate,
 *           3 fixed precision, 4 fixed accuracy, 5 reversible; bit 7 c_order),
 *           nx, ny, nz, nw u32 (trailing 0 = no such dimension), correlated_dims u8
 *           (bit i: dimension i is correlated)
 *   index   (1 + streams) u64: the byte offset of the first stream, then each stream's size
 *   streams zfp streams, each with a full zfp header
 *
 * The array is cut into hyperplanes along its uncorrelated dimensions: one stream per
 * combination of their indices, the first dimension's index varying fastest; each
 * stream holds the correlated dimensions, in order. zfpy (the writer of every stream)
 * gives zfp the NumPy axes in reverse, so zfp's x is the hyperplane's last axis. That
 * axis order decides the bytes and is independent of the array's memory order, so
 * c_order does not change how we read.
 */
export const MAGIC = "zfpc";
export const HEADER_BYTES = 23;
export const FORMAT_VERSION = 0;

export const ZFPC_TYPES = { int32: 1, int64: 2, float32: 3, float64: 4 } as const;
export type ZfpcDtype = keyof typeof ZFPC_TYPES;
export const ZfpcMode = { FIXED_RATE: 2, FIXED_PRECISION: 3, FIXED_ACCURACY: 4, REVERSIBLE: 5 } as const;

export interface ZfpcHeader {
  formatVersion: number;
  dataType: number;
  mode: number;
  cOrder: boolean;
  /** nx, ny, nz, nw; 0 where the array has fewer dimensions. */
  shape: [number, number, number, number];
  correlated: [boolean, boolean, boolean, boolean];
}

/** A malformed container: the codec turns it into DECODE_FAILED naming the chunk. */
export class ContainerError extends Error {}

export function readHeader(bytes: Uint8Array): ZfpcHeader {
  if (bytes.byteLength < HEADER_BYTES) throw new ContainerError(`the stream has ${bytes.byteLength} bytes, fewer than the ${HEADER_BYTES}-byte zfpc header`);
  if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== MAGIC) throw new ContainerError("not a zfpc stream (magic is not \"zfpc\")");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = bytes[4];
  if (formatVersion > FORMAT_VERSION) throw new ContainerError(`zfpc format version ${formatVersion}; only ${FORMAT_VERSION} is known`);
  const t = bytes[5];
  const shape = [0, 1, 2, 3].map((i) => dv.getUint32(6 + 4 * i, true)) as ZfpcHeader["shape"];
  const correlated = [0, 1, 2, 3].map((i) => ((bytes[22] >> i) & 1) === 1) as ZfpcHeader["correlated"];
  return { formatVersion, dataType: t & 7, mode: (t >> 3) & 7, cOrder: t >> 7 === 1, shape, correlated };
}

export function writeHeader(h: ZfpcHeader): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  out[4] = h.formatVersion;
  out[5] = (h.dataType & 7) | ((h.mode & 7) << 3) | (h.cOrder ? 0x80 : 0);
  h.shape.forEach((n, i) => dv.setUint32(6 + 4 * i, n, true));
  out[22] = h.correlated.reduce((bits, c, i) => bits | (c ? 1 << i : 0), 0);
  return out;
}

/**
 * Where one stream's values sit in the chunk buffer (Fortran order x, y, z, channel):
 * zfp's dimensions (x first: the hyperplane's last axis) with their strides, in
 * values, and the offset of the first value.
 */
export interface Hyperplane {
  dims: number[];
  strides: number[];
  offset: number;
}

/** The hyperplanes of an array of `shape` (header order, trailing zeros allowed), in stream order. */
export function hyperplanes(shape: readonly number[], correlated: readonly boolean[]): Hyperplane[] {
  const ndim = shape.filter((n) => n > 0).length;
  if (shape.slice(0, ndim).some((n) => n === 0)) throw new ContainerError(`the zfpc header's shape ${shape.join("x")} has a zero before its last dimension`);
  const size = [0, 1, 2, 3].map((i) => (i < ndim ? shape[i] : 1));
  const stride = [1, size[0], size[0] * size[1], size[0] * size[1] * size[2]];
  const axes = [0, 1, 2, 3].filter((i) => i < ndim && correlated[i]);
  if (axes.length === 0) throw new ContainerError("no dimension of the zfpc array is correlated: a stream per value is not a zfpc layout");
  const dims = axes.map((i) => size[i]).reverse();
  const strides = axes.map((i) => stride[i]).reverse();
  const loops = [0, 1, 2, 3].map((i) => (i < ndim && !correlated[i] ? size[i] : 1));
  const out: Hyperplane[] = [];
  for (let w = 0; w < loops[3]; w++) for (let z = 0; z < loops[2]; z++) for (let y = 0; y < loops[1]; y++) for (let x = 0; x < loops[0]; x++) {
    out.push({ dims, strides, offset: x * stride[0] + y * stride[1] + z * stride[2] + w * stride[3] });
  }
  return out;
}

/** The streams of a container, checked against its length. */
export function readStreams(bytes: Uint8Array, count: number): Uint8Array[] {
  const indexEnd = HEADER_BYTES + 8 * (1 + count);
  if (bytes.byteLength < indexEnd) throw new ContainerError(`the stream index needs ${indexEnd} bytes; the stream has ${bytes.byteLength}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(bytes.byteLength)) throw new ContainerError(`index entry ${v} at byte ${at} is beyond the stream's ${bytes.byteLength} bytes`);
    return Number(v);
  };
  let offset = u64(HEADER_BYTES);
  if (offset < indexEnd) throw new ContainerError(`the first zfp stream starts at byte ${offset}, inside the header and index`);
  const streams: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const n = u64(HEADER_BYTES + 8 * (1 + i));
    if (offset + n > bytes.byteLength) throw new ContainerError(`zfp stream ${i} (bytes ${offset}..${offset + n}) runs past the end of the ${bytes.byteLength}-byte stream`);
    streams.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return streams;
}

export function writeContainer(header: ZfpcHeader, streams: readonly Uint8Array[]): Uint8Array {
  const indexEnd = HEADER_BYTES + 8 * (1 + streams.length);
  const total = indexEnd + streams.reduce((n, s) => n + s.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(writeHeader(header));
  const dv = new DataView(out.buffer);
  dv.setBigUint64(HEADER_BYTES, BigInt(indexEnd), true);
  let at = indexEnd;
  streams.forEach((s, i) => {
    dv.setBigUint64(HEADER_BYTES + 8 * (1 + i), BigInt(s.byteLength), true);
    out.set(s, at);
    at += s.byteLength;
  });
  return out;
}
