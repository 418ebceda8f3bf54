import { CloudVolumeError, dtypeInfo, type ChunkSpec, type TypedArray } from "@cloudvolume/core";
import { decodeFailed, readHeader, sections } from "./format.js";

/**
 * The distinct labels of a stream, ascending, without decoding it (compresso.labels):
 * every component's label is in `ids`, and every other label a boundary voxel can take
 * is a literal in `locations` (code 6 + the label, or label + 7).
 */
export function compressoLabels(bytes: Uint8Array, chunk: ChunkSpec): TypedArray {
  const key = chunk.key;
  const h = readHeader(bytes, key);
  const s = sections(h, bytes.byteLength, key);
  const info = dtypeInfo(chunk.dtype);
  if (h.dataWidth > info.bytes) throw decodeFailed(key, `${h.dataWidth}-byte labels do not fit the layer's ${chunk.dtype}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (p: number): bigint => {
    switch (h.dataWidth) {
      case 1: return BigInt(bytes[p]);
      case 2: return BigInt(dv.getUint16(p, true));
      case 4: return BigInt(dv.getUint32(p, true));
      default: return dv.getBigUint64(p, true);
    }
  };
  const seen = new Set<bigint>();
  for (let i = 0, p = s.ids; i < h.idSize; i++, p += h.dataWidth) seen.add(read(p));
  for (let i = 0, p = s.locations; i < h.locationSize; i++, p += h.dataWidth) {
    const v = read(p);
    if (v === 6n) {
      i++; p += h.dataWidth;
      if (i >= h.locationSize) throw decodeFailed(key, "the last location is code 6 without its label");
      seen.add(read(p));
    } else if (v >= 7n) seen.add(v - 7n);
  }
  const sorted = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (info.bytes === 8) return info.ctor === BigInt64Array ? BigInt64Array.from(sorted.map((v) => BigInt.asIntN(64, v))) : BigUint64Array.from(sorted);
  const Ctor = info.ctor as unknown as { from(a: number[]): TypedArray };
  if (!Ctor.from) throw new CloudVolumeError("UNSUPPORTED", `compresso labels of ${chunk.dtype}`);
  return Ctor.from(sorted.map(Number));
}
