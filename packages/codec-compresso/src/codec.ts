import { CloudVolumeError, dtypeInfo, type ArrayCodec, type ChunkSpec } from "@cloudvolume/core";
import { decodeCompresso } from "./decode.js";
import { encodeCompresso } from "./encode.js";
import { CODEC_NAME, decodeFailed } from "./format.js";
import { compressoLabels } from "./labels.js";
import { nativeCompresso } from "./native.js";

/**
 * The Precomputed `compresso` encoding as an ArrayCodec (one channel, unsigned labels of
 * any width; CloudVolume writes it with 4x4x1 windows and 4-connectivity). Decode and
 * encode run in the native addon when it is built, else in TypeScript (same bytes, same
 * checks); `labels` answers from the ids and locations without decoding the chunk.
 */
export const compressoCodec: ArrayCodec = {
  name: CODEC_NAME,
  decode(bytes, chunk, out) {
    const native = nativeCompresso();
    const bpv = dtypeInfo(chunk.dtype).bytes;
    if (!native || chunk.channels !== 1 || dtypeInfo(chunk.dtype).float) return decodeCompresso(bytes, chunk, out);
    const [sx, sy, sz] = chunk.shape;
    const target = out && out.byteOffset % bpv === 0 ? out : new Uint8Array(sx * sy * sz * bpv);
    if (target.byteLength !== sx * sy * sz * bpv) throw decodeFailed(chunk.key, `output buffer has ${target.byteLength} bytes, the chunk needs ${sx * sy * sz * bpv}`);
    try {
      native.decode(bytes, target, sx, sy, sz, bpv);
    } catch (e) {
      throw decodeFailed(chunk.key, (e as Error).message);
    }
    if (out && target !== out) out.set(target);
    return out ?? target;
  },
  encode(voxels: Uint8Array, chunk: ChunkSpec) {
    const native = nativeCompresso();
    const info = dtypeInfo(chunk.dtype);
    if (!native || chunk.channels !== 1 || info.float || info.signed || chunk.shape.some((n) => n > 0xffff)) return encodeCompresso(voxels, chunk);
    const src = voxels.byteOffset % info.bytes === 0 ? voxels : voxels.slice();
    try {
      return native.encode(src, chunk.shape[0], chunk.shape[1], chunk.shape[2], info.bytes);
    } catch (e) {
      throw new CloudVolumeError("ENCODE_FAILED", `compresso encode of chunk${chunk.key ? ` ${chunk.key}` : ""}: ${(e as Error).message}`, { key: chunk.key });
    }
  },
  labels: compressoLabels,
};
