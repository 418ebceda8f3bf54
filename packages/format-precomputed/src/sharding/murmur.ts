/**
 * MurmurHash3_x86_128 (Austin Appleby's public-domain algorithm), in 32-bit integer
 * math: every multiply is Math.imul and every add is truncated with `| 0` / `>>> 0`,
 * so no BigInt is touched per round. The sharded format hashes the 8 little-endian
 * bytes of a uint64 key with seed 0 and keeps the low 64 bits of the 128-bit result
 * (neuroglancer sharded.md, "Sharding specification": `murmurhash3_x86_128`).
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const le32 = (b: Uint8Array, i: number): number => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** The four 32-bit words h1..h4 of MurmurHash3_x86_128(bytes, seed); h1 is the lowest in the digest. */
export function murmurhash3_x86_128(bytes: Uint8Array, seed = 0): [number, number, number, number] {
  let h1 = seed >>> 0, h2 = seed >>> 0, h3 = seed >>> 0, h4 = seed >>> 0;
  const len = bytes.length;
  const blocks = len - (len % 16);
  for (let i = 0; i < blocks; i += 16) {
    let k1 = le32(bytes, i), k2 = le32(bytes, i + 4), k3 = le32(bytes, i + 8), k4 = le32(bytes, i + 12);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2); h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2 | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3); h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3 | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4); h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4 | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1); h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1 | 0, 5) + 0x32ac3b17) | 0;
  }
  // Tail: the remaining 1..15 bytes, little-endian into k1..k4 (k4 holds bytes 12..14).
  const t = blocks;
  const rest = len & 15;
  let k1 = 0, k2 = 0, k3 = 0, k4 = 0;
  for (let j = rest - 1; j >= 0; j--) {
    const v = bytes[t + j] << ((j & 3) * 8);
    if (j >= 12) k4 ^= v;
    else if (j >= 8) k3 ^= v;
    else if (j >= 4) k2 ^= v;
    else k1 ^= v;
  }
  if (rest > 12) { k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1); h4 ^= k4; }
  if (rest > 8) { k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4); h3 ^= k3; }
  if (rest > 4) { k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3); h2 ^= k2; }
  if (rest > 0) { k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2); h1 ^= k1; }

  h1 ^= len; h2 ^= len; h3 ^= len; h4 ^= len;
  h1 = (h1 + h2) | 0; h1 = (h1 + h3) | 0; h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;
  h1 = fmix32(h1); h2 = fmix32(h2); h3 = fmix32(h3); h4 = fmix32(h4);
  h1 = (h1 + h2) | 0; h1 = (h1 + h3) | 0; h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const scratch = new Uint8Array(8);

/**
 * The sharded format's hash of a uint64 key: MurmurHash3_x86_128 over the key's 8
 * little-endian bytes, seed 0, low 64 bits (h1 | h2 << 32) as a uint64.
 */
export function murmurHash64(key: bigint): bigint {
  const lo = Number(key & 0xffffffffn);
  const hi = Number((key >> 32n) & 0xffffffffn);
  scratch[0] = lo; scratch[1] = lo >>> 8; scratch[2] = lo >>> 16; scratch[3] = lo >>> 24;
  scratch[4] = hi; scratch[5] = hi >>> 8; scratch[6] = hi >>> 16; scratch[7] = hi >>> 24;
  const [h1, h2] = murmurhash3_x86_128(scratch, 0);
  return (BigInt(h2) << 32n) | BigInt(h1);
}
