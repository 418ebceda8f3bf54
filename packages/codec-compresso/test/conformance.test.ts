import type { ChunkSpec } from "@cloudvolume/core";
import { describeArrayCodec } from "@cloudvolume/testing";
import { compresso } from "@cloudvolume/codec-compresso";

/**
 * The shared ArrayCodec conformance suite on compresso, for every unsigned width: with the
 * suite's full-range random voxels (every voxel its own label: all boundaries, labels
 * near the top of the range that need location code 6) and with segmentation-like voxels
 * (a few labels in blobs: components, copies from neighbours).
 */
function blobs(chunk: ChunkSpec, seed: number): Uint8Array {
  const [sx, sy, sz] = chunk.shape;
  const bytes = chunk.dtype === "uint8" ? 1 : chunk.dtype === "uint16" ? 2 : chunk.dtype === "uint32" ? 4 : 8;
  const out = new Uint8Array(sx * sy * sz * bytes);
  const dv = new DataView(out.buffer);
  let i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    const label = ((Math.floor(x / 5) * 7 + Math.floor(y / 3) * 13 + z * 3 + seed) % 11) + (bytes === 1 ? 240 : 2 ** (8 * Math.min(bytes, 4)) - 12);
    if (bytes === 1) out[i] = label & 0xff;
    else if (bytes === 2) dv.setUint16(2 * i, label, true);
    else if (bytes === 4) dv.setUint32(4 * i, label >>> 0, true);
    else { dv.setUint32(8 * i, label >>> 0, true); dv.setUint32(8 * i + 4, 0xffffffff, true); }
  }
  return out;
}

const load = () => compresso().load();
describeArrayCodec("compresso, random labels", load, { dtypes: ["uint8", "uint16", "uint32", "uint64"] });
describeArrayCodec("compresso, segmentation-like labels near the top of the range", load, { dtypes: ["uint8", "uint16", "uint32", "uint64"], makeVoxels: blobs });
