import { CloudVolumeError } from "@cloudvolume/core";

/*
 * The compresso stream (seung-lab/compresso, README "Compresso Stream Format"; format
 * versions 0 and 1). All integers little-endian.
 *
 *   header    36 bytes: "cpso", format_version u8, data_width u8 (label bytes: 1, 2, 4, 8),
 *             sx, sy, sz u16, xstep, ystep, zstep u8, id_size u64, value_size u32,
 *             location_size u64, connectivity u8 (4 or 6)
 *   ids       id_size labels (data_width each): the label of each connected component
 *             of non-boundary voxels, in the order the components are numbered
 *   values    value_size window bitfields (window width each), ascending
 *   locations location_size labels: how each boundary voxel no left / up neighbour
 *             explains gets its label (0..5: copy a neighbour; 6: the next entry is
 *             the label; n >= 7: the label n - 7)
 *   windows   the rest (before the z index): one entry per xstep x ystep x zstep block,
 *             run-length coded: even n = value index n >> 1, odd n = n >> 1 blocks of
 *             value index 0
 *   z index   version 1 only: sz counts of ids per z slice, then sz counts of locations
 *             (as compresso 3.x writes them: entry z is slice z-1's count, entry 0 is 0),
 *             each of zindexWidth(sx, sy) bytes. Version 1 streams never copy a label
 *             across z slices (location codes 4 and 5), so a slice decodes alone.
 *
 * The window width is the smallest of 1, 2, 4, 8 bytes holding xstep*ystep*zstep bits.
 */

export const CODEC_NAME = "compresso";
export const PACKAGE_NAME = "@cloudvolume/codec-compresso";
export const HEADER_BYTES = 36;
export const FORMAT_VERSION = 1;

export interface CompressoHeader {
  formatVersion: number;
  dataWidth: 1 | 2 | 4 | 8;
  sx: number;
  sy: number;
  sz: number;
  xstep: number;
  ystep: number;
  zstep: number;
  idSize: number;
  valueSize: number;
  locationSize: number;
  connectivity: 4 | 6;
}

export function windowWidth(xstep: number, ystep: number, zstep: number): 1 | 2 | 4 | 8 {
  const bits = xstep * ystep * zstep;
  return bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 32 ? 4 : 8;
}

/** Bytes of each z-index entry (version 1): the smallest width holding 2 * sx * sy. */
export function zindexWidth(sx: number, sy: number): 1 | 2 | 4 | 8 {
  const v = 2 * sx * sy;
  return v < 2 ** 8 ? 1 : v < 2 ** 16 ? 2 : v < 2 ** 32 ? 4 : 8;
}

export function decodeFailed(key: string | undefined, what: string): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `compresso chunk${key ? ` ${key}` : ""}: ${what}`, { key });
}

/** A u64 field as a number (sizes past 2^53 are corrupt anyway). */
function u64(dv: DataView, at: number): number {
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  return hi * 2 ** 32 + lo;
}

export function readHeader(bytes: Uint8Array, key?: string): CompressoHeader {
  if (bytes.byteLength < HEADER_BYTES) throw decodeFailed(key, `${bytes.byteLength} bytes cannot hold the ${HEADER_BYTES}-byte header (truncated?)`);
  if (bytes[0] !== 0x63 || bytes[1] !== 0x70 || bytes[2] !== 0x73 || bytes[3] !== 0x6f) throw decodeFailed(key, "no \"cpso\" magic number: not a compresso stream");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const formatVersion = bytes[4];
  if (formatVersion > FORMAT_VERSION) throw decodeFailed(key, `format version ${formatVersion} is newer than this decoder reads (0 and 1)`);
  const dataWidth = bytes[5];
  if (dataWidth !== 1 && dataWidth !== 2 && dataWidth !== 4 && dataWidth !== 8) throw decodeFailed(key, `data width ${dataWidth} is not 1, 2, 4 or 8`);
  const connectivity = bytes[35];
  if (connectivity !== 4 && connectivity !== 6) throw decodeFailed(key, `connectivity ${connectivity} is not 4 or 6`);
  const h: CompressoHeader = {
    formatVersion, dataWidth, connectivity,
    sx: dv.getUint16(6, true), sy: dv.getUint16(8, true), sz: dv.getUint16(10, true),
    xstep: bytes[12], ystep: bytes[13], zstep: bytes[14],
    idSize: u64(dv, 15), valueSize: dv.getUint32(23, true), locationSize: u64(dv, 27),
  };
  const steps = h.xstep * h.ystep * h.zstep;
  if (steps === 0 || steps > 64) throw decodeFailed(key, `window ${h.xstep}x${h.ystep}x${h.zstep} must hold 1 to 64 voxels`);
  return h;
}

/** Byte offsets of the sections of a stream, checked against its length. */
export interface Sections {
  ids: number;
  values: number;
  locations: number;
  windows: number;
  windowsEnd: number;
  zindex: number;
  windowWidth: 1 | 2 | 4 | 8;
}

export function sections(h: CompressoHeader, length: number, key?: string): Sections {
  const ww = windowWidth(h.xstep, h.ystep, h.zstep);
  const ids = HEADER_BYTES;
  const values = ids + h.idSize * h.dataWidth;
  const locations = values + h.valueSize * ww;
  const windows = locations + h.locationSize * h.dataWidth;
  const zbytes = h.formatVersion >= 1 ? 2 * h.sz * zindexWidth(h.sx, h.sy) : 0;
  const windowsEnd = length - zbytes;
  if (!Number.isSafeInteger(windows) || windows > windowsEnd) {
    throw decodeFailed(key, `the header's ${h.idSize} ids, ${h.valueSize} values and ${h.locationSize} locations need ${windows + zbytes} bytes, the stream has ${length} (truncated or corrupt)`);
  }
  if ((windowsEnd - windows) % ww !== 0) throw decodeFailed(key, `${windowsEnd - windows} bytes of windows are not a whole number of ${ww}-byte entries`);
  return { ids, values, locations, windows, windowsEnd, zindex: windowsEnd, windowWidth: ww };
}
