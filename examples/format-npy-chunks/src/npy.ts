import { CloudVolumeError, HOST_IS_LITTLE_ENDIAN, byteswapInPlace, dtypeInfo, type ArrayCodec, type ChunkSpec, type DataType } from "@cloudvolume/core";

/*
 * The NPY file format, version 1.0 (numpy/lib/format.py, NEP 1):
 *
 *   "\x93NUMPY"  6 bytes magic
 *   0x01 0x00    major, minor version
 *   uint16 LE    HEADER_LEN
 *   header       HEADER_LEN bytes of ASCII: a Python dict literal
 *                {'descr': '<u2', 'fortran_order': True, 'shape': (x, y, z, c), }
 *                padded with spaces and ended by "\n" so that 10 + HEADER_LEN is a
 *                multiple of 64 (numpy's ARRAY_ALIGN)
 *   data         the array, here little-endian in Fortran order
 *
 * Fortran order with shape (x, y, z, channels) is exactly the chunk engine's voxel layout
 * (x fastest, then y, z, channel), so encoding is "prepend a header" and decoding is
 * "check the header, take the rest".
 */

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
/** numpy aligns the start of the data to this many bytes. */
export const NPY_ALIGN = 64;
const PREAMBLE = 10; // magic + version + uint16 header length

/** numpy's `descr` of each data type: '|' (not applicable) for one-byte types, '<' (little-endian) otherwise. */
export const NPY_DESCR: Readonly<Record<DataType, string>> = {
  uint8: "|u1", int8: "|i1",
  uint16: "<u2", int16: "<i2",
  uint32: "<u4", int32: "<i4",
  uint64: "<u8", int64: "<i8",
  float32: "<f4", float64: "<f8",
};

/** The header dict numpy writes for a Fortran-ordered array of `shape` (keys in numpy's sorted order). */
export function npyHeaderText(descr: string, shape: readonly number[]): string {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  return `{'descr': '${descr}', 'fortran_order': True, 'shape': ${tuple}, }`;
}

/** Magic, version 1.0, header length and the padded header: everything before the data. */
export function npyHeaderBytes(descr: string, shape: readonly number[]): Uint8Array {
  const text = npyHeaderText(descr, shape);
  // Room for the dict and its "\n", rounded up so the data starts on a 64-byte boundary.
  const total = Math.ceil((PREAMBLE + text.length + 1) / NPY_ALIGN) * NPY_ALIGN;
  const headerLen = total - PREAMBLE;
  if (headerLen > 0xffff) throw new Error(`npy header of ${headerLen} bytes does not fit NPY version 1.0`);
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  const padded = text + " ".repeat(headerLen - text.length - 1) + "\n";
  for (let i = 0; i < padded.length; i++) out[PREAMBLE + i] = padded.charCodeAt(i);
  return out;
}

/** What an NPY header says. */
export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the data in the file. */
  dataOffset: number;
}

/** Thrown by parseNpyHeader; the codec turns it into DECODE_FAILED naming the chunk. */
export class NpyFormatError extends Error {}

/**
 * Read the preamble and header dict of an NPY version 1.0 file, strictly: the magic, the
 * version, a header that fits in the file and ends with "\n", and a dict literal with
 * exactly the keys descr (a string), fortran_order (True/False) and shape (a tuple of
 * non-negative integers), nothing else but trailing spaces.
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.byteLength < PREAMBLE) throw new NpyFormatError(`${bytes.byteLength} bytes is too short for an NPY file (the preamble alone is ${PREAMBLE})`);
  for (let i = 0; i < NPY_MAGIC.length; i++) {
    if (bytes[i] !== NPY_MAGIC[i]) throw new NpyFormatError(`not an NPY file: the first bytes are ${hex(bytes.subarray(0, 6))}, not the magic 93 4e 55 4d 50 59 ("\\x93NUMPY")`);
  }
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new NpyFormatError(`NPY version ${bytes[6]}.${bytes[7]}; only version 1.0 is read (numpy writes 1.0 for headers under 64 KiB)`);
  const headerLen = bytes[8] | (bytes[9] << 8);
  const dataOffset = PREAMBLE + headerLen;
  if (dataOffset > bytes.byteLength) throw new NpyFormatError(`the header claims ${headerLen} bytes but the file has only ${bytes.byteLength - PREAMBLE} after the preamble`);
  let text = "";
  for (let i = PREAMBLE; i < dataOffset; i++) {
    const c = bytes[i];
    if (c > 0x7e || (c < 0x20 && c !== 0x0a)) throw new NpyFormatError(`the header has a non-printable byte 0x${c.toString(16).padStart(2, "0")} at offset ${i}`);
    text += String.fromCharCode(c);
  }
  if (!text.endsWith("\n")) throw new NpyFormatError(`the header does not end with "\\n" (it ends with ${JSON.stringify(text.slice(-8))})`);
  const dict = parseDict(text.slice(0, -1));
  return { ...dict, dataOffset };
}

// ---- a parser for the Python literal subset NPY headers use -------------------------------

function parseDict(src: string): Omit<NpyHeader, "dataOffset"> {
  let i = 0;
  const fail = (what: string): never => {
    throw new NpyFormatError(`malformed header dict at character ${i}: ${what} in ${JSON.stringify(src.trimEnd())}`);
  };
  const ws = () => {
    while (i < src.length && (src[i] === " " || src[i] === "\t")) i++;
  };
  const expectChar = (c: string) => {
    ws();
    if (src[i] !== c) fail(`expected ${JSON.stringify(c)}, found ${i < src.length ? JSON.stringify(src[i]) : "the end"}`);
    i++;
  };
  const string = (): string => {
    ws();
    const q = src[i];
    if (q !== "'" && q !== '"') fail("expected a string");
    const end = src.indexOf(q, i + 1);
    if (end < 0) fail("unterminated string");
    const s = src.slice(i + 1, end);
    if (s.includes("\\")) fail("escapes are not expected in an NPY header");
    i = end + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const m = /^[0-9]+/.exec(src.slice(i));
    if (!m) fail("expected a non-negative integer");
    i += m![0].length;
    // Python 2 era writers appended L to longs: (64L, 64L).
    if (src[i] === "L") i++;
    const n = Number(m![0]);
    if (!Number.isSafeInteger(n)) fail(`integer ${m![0]} is too large`);
    return n;
  };
  const value = (key: string): unknown => {
    ws();
    if (key === "descr") return string();
    if (key === "fortran_order") {
      for (const [word, v] of [["True", true], ["False", false]] as const) {
        if (src.startsWith(word, i)) {
          i += word.length;
          return v;
        }
      }
      return fail("fortran_order must be True or False");
    }
    // shape: a tuple of integers, "()" for a scalar, "(n,)" for one dimension.
    expectChar("(");
    const dims: number[] = [];
    ws();
    if (src[i] === ")") {
      i++;
      return dims;
    }
    for (;;) {
      dims.push(int());
      ws();
      if (src[i] === ",") {
        i++;
        ws();
        if (src[i] === ")") {
          i++;
          return dims;
        }
        continue;
      }
      if (src[i] === ")") {
        if (dims.length === 1) fail("a one-element tuple needs a trailing comma: (n,)");
        i++;
        return dims;
      }
      fail("expected \",\" or \")\" in the shape tuple");
    }
  };

  const seen = new Map<string, unknown>();
  expectChar("{");
  for (;;) {
    ws();
    if (src[i] === "}") {
      i++;
      break;
    }
    const key = string();
    if (key !== "descr" && key !== "fortran_order" && key !== "shape") fail(`unexpected key ${JSON.stringify(key)} (an NPY header has exactly descr, fortran_order and shape)`);
    if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
    expectChar(":");
    seen.set(key, value(key));
    ws();
    if (src[i] === ",") {
      i++;
      continue;
    }
    ws();
    if (src[i] !== "}") fail("expected \",\" or \"}\" after a value");
  }
  ws();
  if (i !== src.length) fail("unexpected text after the dict");
  for (const k of ["descr", "fortran_order", "shape"]) if (!seen.has(k)) fail(`missing key ${JSON.stringify(k)}`);
  return { descr: seen.get("descr") as string, fortranOrder: seen.get("fortran_order") as boolean, shape: seen.get("shape") as number[] };
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

// ---- the codec --------------------------------------------------------------------------------

function describe(chunk: ChunkSpec): string {
  return `${chunk.key ?? "(no key)"} (${chunk.shape.join("x")} voxels, ${chunk.channels} channel(s) of ${chunk.dtype})`;
}

function decodeFailed(chunk: ChunkSpec, what: string, cause?: unknown): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `npy chunk ${describe(chunk)}: ${what}`, { key: chunk.key, cause });
}

function expectedShape(chunk: ChunkSpec): number[] {
  return [chunk.shape[0], chunk.shape[1], chunk.shape[2], chunk.channels];
}

function voxelBytes(chunk: ChunkSpec): number {
  const [x, y, z] = chunk.shape;
  return x * y * z * chunk.channels * dtypeInfo(chunk.dtype).bytes;
}

/**
 * The `npy` array codec: one chunk <-> one NPY 1.0 file of a Fortran-ordered array with
 * shape (x, y, z, channels), little-endian. The header must match the chunk exactly
 * (descr for the dtype, fortran_order True, the shape, the data length); anything else is
 * DECODE_FAILED naming the chunk's key.
 */
export const npyCodec: ArrayCodec = {
  name: "npy",

  decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array {
    let h: NpyHeader;
    try {
      h = parseNpyHeader(bytes);
    } catch (e) {
      if (e instanceof NpyFormatError) throw decodeFailed(chunk, e.message, e);
      throw e;
    }
    const descr = NPY_DESCR[chunk.dtype];
    if (h.descr !== descr) throw decodeFailed(chunk, `descr is ${JSON.stringify(h.descr)}, expected ${JSON.stringify(descr)} for ${chunk.dtype}`);
    if (!h.fortranOrder) throw decodeFailed(chunk, "fortran_order is False; chunks are stored in Fortran order (x fastest), as np.asfortranarray(a) saves them");
    const shape = expectedShape(chunk);
    if (h.shape.length !== shape.length || h.shape.some((n, i) => n !== shape[i])) {
      throw decodeFailed(chunk, `shape is (${h.shape.join(", ")}), expected (${shape.join(", ")}) = (x, y, z, channels)`);
    }
    const size = voxelBytes(chunk);
    const have = bytes.byteLength - h.dataOffset;
    if (have !== size) throw decodeFailed(chunk, `has ${have} bytes of data after its ${h.dataOffset}-byte header, expected ${size}${have < size ? " (truncated file)" : " (trailing bytes)"}`);
    if (out && out.byteLength !== size) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `npy decode: output buffer has ${out.byteLength} bytes, chunk ${describe(chunk)} needs ${size}`, { key: chunk.key });
    }
    const target = out ?? new Uint8Array(size);
    target.set(bytes.subarray(h.dataOffset));
    return HOST_IS_LITTLE_ENDIAN ? target : byteswapInPlace(target, dtypeInfo(chunk.dtype).bytes);
  },

  encode(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
    const size = voxelBytes(chunk);
    if (voxels.byteLength !== size) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `npy encode of ${describe(chunk)}: got ${voxels.byteLength} bytes of voxels, expected ${size}`, { key: chunk.key });
    }
    const header = npyHeaderBytes(NPY_DESCR[chunk.dtype], expectedShape(chunk));
    const out = new Uint8Array(header.byteLength + size);
    out.set(header, 0);
    out.set(voxels, header.byteLength);
    if (!HOST_IS_LITTLE_ENDIAN) byteswapInPlace(out.subarray(header.byteLength), dtypeInfo(chunk.dtype).bytes);
    return out;
  },
};
