import type { ChunkSpec, DataType, Vec3 } from "@cloudvolume/core";

export const mix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** A seeded uint32 stream. */
export function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    return mix32(s);
  };
}

export function spec(shape: Vec3, dtype: DataType, block: Vec3, channels = 1, key = `test/${shape.join("x")}`): ChunkSpec {
  return { shape, channels, dtype, key, params: { compressed_segmentation_block_size: block } };
}

/**
 * Segmentation-like voxels: cells a few voxels across (so blocks hold 1..~8 labels and
 * every bit width 0..4 occurs), labels spread over the full 32/64-bit range (top bits
 * set too), one background-0 region, varying with `seed` and channel.
 */
export function blockyVoxels(chunk: ChunkSpec, seed: number): Uint8Array {
  const [X, Y, Z] = chunk.shape;
  const wpv = chunk.dtype === "uint64" ? 2 : 1;
  const a = new Uint32Array(X * Y * Z * chunk.channels * wpv);
  let i = 0;
  const cx = 2 + (seed % 5);
  const cy = 2 + ((seed >>> 3) % 4);
  const cz = 1 + ((seed >>> 6) % 3);
  for (let c = 0; c < chunk.channels; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++, i += wpv) {
          const cell = Math.floor((x + (y >> 2)) / cx) + 97 * Math.floor(y / cy) + 9973 * Math.floor(z / cz) + 7 * c;
          const bg = (x + y + z + seed) % 11 === 0;
          a[i] = bg ? 0 : mix32(cell ^ seed) || 1;
          if (wpv === 2) a[i + 1] = bg ? 0 : mix32(cell + 0x1234 + seed) & (cell % 3 === 0 ? 0xffffffff : 0x7f);
        }
  return new Uint8Array(a.buffer);
}

/** Voxels as (lo, hi) words -> label as bigint (uint64) or number (uint32), for brute-force checks. */
export function voxelValues(bytes: Uint8Array, dtype: DataType): (number | bigint)[] {
  if (dtype === "uint64") return Array.from(new BigUint64Array(bytes.slice().buffer));
  return Array.from(new Uint32Array(bytes.slice().buffer));
}

export function distinctSorted(bytes: Uint8Array, dtype: DataType): (number | bigint)[] {
  const vals = [...new Set(voxelValues(bytes, dtype))];
  return vals.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Catch what `fn` throws (or undefined). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
