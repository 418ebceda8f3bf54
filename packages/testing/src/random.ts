/**
 * A seeded PRNG (mulberry32) returning numbers in [0, 1): the same seed gives the
 * same sequence on every run, so a failing random case reproduces.
 */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One seeded corruption of a stream, for decoder fuzz tests: flipped bits, overwritten
 * bytes, a cut, a zeroed tail, or random bytes from `keep` on (so a test can keep a
 * header intact and reach the payload). Returns a new array; `r` is a seededRandom.
 */
export function mutateBytes(bytes: Uint8Array, r: () => number, keep = 0): Uint8Array {
  const int = (n: number) => Math.floor(r() * n);
  let s = bytes.slice();
  switch (int(5)) {
    case 0: for (let k = 1 + int(4); k--;) s[int(s.length)] ^= 1 << int(8); break;
    case 1: for (let k = 1 + int(16); k--;) s[int(s.length)] = int(256); break;
    case 2: s = s.subarray(0, int(s.length)); break;
    case 3: s.fill(0, int(s.length)); break;
    default: for (let k = Math.min(keep, s.length); k < s.length; k++) s[k] = int(256);
  }
  return s;
}

/**
 * Smooth test values for lossy float codecs, as voxel bytes (Fortran x, y, z, channel):
 * products of sines in [-1, 1], different per channel and seed.
 */
export function smoothFloats(chunk: { shape: readonly number[]; channels: number; dtype: string }, seed: number): Uint8Array {
  const [sx, sy, sz] = chunk.shape;
  const n = sx * sy * sz * chunk.channels;
  const values = chunk.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  let i = 0;
  for (let c = 0; c < chunk.channels; c++) for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    values[i] = Math.sin(0.3 * x + seed) * Math.cos(0.2 * y - c) * Math.sin(0.5 * z + 1);
  }
  return new Uint8Array(values.buffer);
}
