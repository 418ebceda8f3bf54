import { CloudVolumeError, dtypeInfo, viewAs, type ArrayCodec, type ChunkSpec, type TypedArray } from "@cloudvolume/core";
import { decodeCompresso } from "./decode.js";
import { encodeCompresso } from "./encode.js";
import { CODEC_NAME, decodeFailed } from "./format.js";
import { compressoLabels } from "./labels.js";
import { nativeCompresso } from "./native.js";

/*
 * readVoxel decodes the voxel's z slice alone (native addon, version-1 stream: the z
 * index says where the slice's ids and locations start), else the whole chunk. The
 * engine asks for each point of a chunk in turn with the same bytes, so the slices (or
 * the chunk) decoded are kept per bytes object, for as long as it lives.
 */
const decodedSlices = new WeakMap<Uint8Array, Map<number, TypedArray>>();

function sliceOf(bytes: Uint8Array, chunk: ChunkSpec, z: number): TypedArray {
  let slices = decodedSlices.get(bytes);
  if (!slices) decodedSlices.set(bytes, (slices = new Map()));
  const [sx, sy, sz] = chunk.shape;
  const cached = slices.get(z) ?? slices.get(-1);
  if (cached) return cached.length === sx * sy ? cached : cached.subarray(z * sx * sy, (z + 1) * sx * sy);
  const bpv = dtypeInfo(chunk.dtype).bytes;
  const native = nativeCompresso();
  if (native && chunk.channels === 1 && !dtypeInfo(chunk.dtype).float) {
    const out = new Uint8Array(sx * sy * bpv);
    try {
      native.decodeSlice(bytes, out, sx, sy, sz, bpv, z);
      const slice = viewAs(out, chunk.dtype);
      slices.set(z, slice);
      return slice;
    } catch {
      // not readable a slice at a time (or corrupt): the whole chunk says which
    }
  }
  const whole = viewAs(compressoCodec.decode(bytes, chunk) as Uint8Array, chunk.dtype);
  slices.set(-1, whole);
  return whole.subarray(z * sx * sy, (z + 1) * sx * sy);
}

/**
 * The Precomputed `compresso` encoding as an ArrayCodec (one channel, unsigned labels of
 * any width; CloudVolume writes it with 4x4x1 windows and 4-connectivity). Decode and
 * encode run in the native addon when it is built, else in TypeScript (same bytes, same
 * checks); `labels` answers from the ids and locations without decoding the chunk,
 * `readVoxel` from the voxel's slice.
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
  readVoxel(bytes, chunk, x, y, z) {
    const [sx, sy, sz] = chunk.shape;
    if (!(x >= 0 && x < sx && y >= 0 && y < sy && z >= 0 && z < sz) || !Number.isInteger(x + y + z)) {
      throw new CloudVolumeError("OUT_OF_BOUNDS", `compresso readVoxel: (${x}, ${y}, ${z}) is outside chunk ${chunk.key ?? ""} of ${sx}x${sy}x${sz} voxels`, { key: chunk.key });
    }
    return sliceOf(bytes, chunk, z)[x + sx * y];
  },
};
