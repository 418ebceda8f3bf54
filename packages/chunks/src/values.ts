import { bytesOf, dtypeInfo, viewAs, type DataType, type TypedArray, type Vec3 } from "@cloudvolume/core";

/*
 * Voxel values as unsigned words, for the per-voxel loops of unique, label masks and
 * renumbering: 64-bit values are (low, high) uint32 pairs, so no BigInt is made per voxel.
 */


export type Words = Uint8Array | Uint16Array | Uint32Array;

/** Unsigned words of `bytes` for values of `bpv` bytes (8-byte values as low, high uint32 pairs); copies when misaligned. */
export function wordsOf(bytes: Uint8Array, bpv: number): Words {
  const w = bpv === 8 ? 4 : bpv;
  if (bytes.byteOffset % w !== 0) bytes = bytes.slice();
  if (w === 1) return bytes;
  if (w === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 1);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
}

/**
 * The (low, high) words of `value` stored as `dtype`, or undefined when no value of that
 * type equals it (e.g. 2^40 for uint32, -1 for uint64, 1.5 for an integer type).
 */
export function scalarWords(dtype: DataType, value: number | bigint): [number, number] | undefined {
  const info = dtypeInfo(dtype);
  if (info.bigint) {
    let b: bigint;
    try {
      b = BigInt(value);
    } catch {
      return undefined; // not an integer
    }
    if (info.signed ? b < -(1n << 63n) || b >= 1n << 63n : b < 0n || b >= 1n << 64n) return undefined;
    const u = BigInt.asUintN(64, b);
    return [Number(u & 0xffffffffn), Number(u >> 32n)];
  }
  const n = Number(value);
  if (typeof value === "bigint" && BigInt(n) !== value) return undefined;
  const one = new info.ctor(1) as Float64Array;
  one[0] = n;
  // Floats take the nearest value of the type; integer types must hold the value exactly.
  if (!info.float && one[0] !== n) return undefined;
  const w = wordsOf(bytesOf(one), info.bytes);
  return [w[0], 0];
}

/** A value read from little-endian voxel bytes: a bigint for 64-bit integers. */
export function readScalar(bytes: Uint8Array, index: number, dtype: DataType): number | bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = index * dtypeInfo(dtype).bytes;
  switch (dtype) {
    case "uint8": return dv.getUint8(at);
    case "int8": return dv.getInt8(at);
    case "uint16": return dv.getUint16(at, true);
    case "int16": return dv.getInt16(at, true);
    case "uint32": return dv.getUint32(at, true);
    case "int32": return dv.getInt32(at, true);
    case "uint64": return dv.getBigUint64(at, true);
    case "int64": return dv.getBigInt64(at, true);
    case "float32": return dv.getFloat32(at, true);
    case "float64": return dv.getFloat64(at, true);
  }
}


/**
 * An open-addressing hash table of values given as (low, high) uint32 words, with one
 * number per entry. Keeps BigInt out of the per-voxel loops (a uint64 voxel is two words).
 */
export class ValueTable {
  size = 0;
  private lo: Uint32Array;
  private hi: Uint32Array;
  private used: Uint8Array;
  private val: Float64Array;
  private mask: number;

  constructor(capacity = 256) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.val = new Float64Array(cap);
    this.mask = cap - 1;
  }

  private slot(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1);
    h ^= h >>> 15;
    let s = h & this.mask;
    while (this.used[s] === 1 && (this.lo[s] !== lo || this.hi[s] !== hi)) s = (s + 1) & this.mask;
    return s;
  }

  add(lo: number, hi: number): void {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    const s = this.slot(lo, hi);
    if (this.used[s] === 1) return;
    this.used[s] = 1;
    this.lo[s] = lo;
    this.hi[s] = hi;
    this.size++;
  }

  has(lo: number, hi: number): boolean {
    return this.used[this.slot(lo, hi)] === 1;
  }

  /** The number stored with a value (undefined when absent). */
  get(lo: number, hi: number): number | undefined {
    const s = this.slot(lo, hi);
    return this.used[s] === 1 ? this.val[s] : undefined;
  }

  set(lo: number, hi: number, v: number): void {
    this.add(lo, hi);
    this.val[this.slot(lo, hi)] = v;
  }

  /** The values, ascending in `dtype`'s numeric order, as a typed array of `dtype`. */
  sorted(dtype: DataType): TypedArray {
    const bpv = dtypeInfo(dtype).bytes;
    const bytes = new Uint8Array(this.size * bpv);
    const w = wordsOf(bytes, bpv);
    let i = 0;
    for (let s = 0; s <= this.mask; s++) {
      if (this.used[s] !== 1) continue;
      if (bpv === 8) {
        w[2 * i] = this.lo[s];
        w[2 * i + 1] = this.hi[s];
      } else w[i] = this.lo[s];
      i++;
    }
    const out = viewAs(bytes, dtype);
    (out as unknown as { sort(): unknown }).sort(); // typed-array sort is numeric, for bigint arrays too
    return out;
  }

  private grow(): void {
    const { lo, hi, used, val } = this;
    const cap = 2 * (this.mask + 1);
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.val = new Float64Array(cap);
    this.mask = cap - 1;
    for (let s = 0; s < used.length; s++) {
      if (used[s] !== 1) continue;
      const t = this.slot(lo[s], hi[s]);
      this.used[t] = 1;
      this.lo[t] = lo[s];
      this.hi[t] = hi[s];
      this.val[t] = val[s];
    }
  }
}

/** Add every value of `values` (typed array bytes of `bpv` bytes per value) to `table`. */
export function addAll(table: ValueTable, values: Uint8Array, bpv: number): void {
  const w = wordsOf(values, bpv);
  const wide = bpv === 8;
  const n = values.byteLength / bpv;
  for (let i = 0; i < n; i++) table.add(wide ? w[2 * i] : w[i], wide ? w[2 * i + 1] : 0);
}

/** Add the values of the sub-box `[origin, origin + size)` (all channels) of a Fortran array of `shape`. */
export function addBox(table: ValueTable, voxels: Uint8Array, bpv: number, shape: Vec3, channels: number, origin: Vec3, size: Vec3): void {
  const w = wordsOf(voxels, bpv);
  const wide = bpv === 8;
  const [sx, sy, sz] = shape;
  let have = false;
  let plo = 0;
  let phi = 0;
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < size[2]; z++) {
      for (let y = 0; y < size[1]; y++) {
        const row = origin[0] + sx * (origin[1] + y + sy * (origin[2] + z + sz * c));
        for (let x = 0; x < size[0]; x++) {
          const i = row + x;
          const lo = wide ? w[2 * i] : w[i];
          const hi = wide ? w[2 * i + 1] : 0;
          // Segmentation comes in runs: skip the lookup while the value repeats.
          if (have && lo === plo && hi === phi) continue;
          table.add(lo, hi);
          have = true;
          plo = lo;
          phi = hi;
        }
      }
    }
  }
}
