import { describe, expect, it, beforeAll } from "vitest";
import { mutateBytes, seededRandom } from "./random.js";
import {
  dtypeInfo,
  isCloudVolumeError,
  viewAs,
  type ArrayCodec,
  type ByteCodec,
  type ChunkSpec,
  type DataType,
  type Vec3,
} from "@cloudvolume/core";

/**
 * Codec conformance suites (TensorStore's chunk_encoding_test, unstorage's
 * testDriver): written once, run by every codec package with a loader. Each check
 * is also exported as a plain async function (`arrayCodecChecks`, `byteCodecChecks`)
 * so a package can run it against a deliberately broken codec and prove the check
 * has teeth.
 *
 * Failure rule for bad input, shared by both suites: a decoder given bytes it cannot
 * decode throws (or rejects with) a CloudVolumeError whose code is DECODE_FAILED and
 * whose `key` names the chunk. Where a format genuinely cannot tell (random bytes of
 * exactly the right length for `raw`, a lossy stream that happens to parse), the
 * only other acceptable outcome is a normal return of a correctly sized buffer:
 * never a TypeError/RangeError from inside the decoder, never a hang.
 */

// ---------------------------------------------------------------------------
// Deterministic random data
// ---------------------------------------------------------------------------

/**
 * A tiny seeded 32-bit generator: a Weyl sequence (golden-ratio increment) passed
 * through the murmur3 32-bit finaliser. Not cryptographic; it only has to be the
 * same on every run and every runtime so a failure reproduces.
 */
function seededUint32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A stable seed from a label, so each case gets its own data independent of test order. */
function seedOf(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Seeded random bytes (uniform over 0..255). */
export function randomTestBytes(length: number, seed: number): Uint8Array {
  const next = seededUint32(seed);
  const out = new Uint8Array(length);
  const whole = length & ~3;
  const dv = new DataView(out.buffer);
  for (let i = 0; i < whole; i += 4) dv.setUint32(i, next(), true);
  for (let i = whole; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/**
 * `count` voxels of `dtype` as little-endian bytes, spread over the type's whole range.
 * Integers (64-bit included, built as BigInt words) are uniform over every bit
 * pattern. Floats are random sign/exponent/mantissa but always finite: NaN payloads
 * are not preserved by every lossless float codec, and a byte-exact comparison of
 * NaNs would test that, not the codec. The first voxels pin the extremes (zero,
 * all-ones/-1, signed min and max; for floats +-max, the smallest subnormal, -0).
 */
export function randomVoxelBytes(dtype: DataType, count: number, seed: number): Uint8Array {
  const info = dtypeInfo(dtype);
  const next = seededUint32(seed);
  const out = new Uint8Array(count * info.bytes);
  const dv = new DataView(out.buffer);
  switch (dtype) {
    case "uint8":
    case "int8":
      for (let i = 0; i < count; i++) out[i] = next() & 0xff;
      break;
    case "uint16":
    case "int16":
      for (let i = 0; i < count; i++) dv.setUint16(i * 2, next() & 0xffff, true);
      break;
    case "uint32":
    case "int32":
      for (let i = 0; i < count; i++) dv.setUint32(i * 4, next(), true);
      break;
    case "uint64":
    case "int64": {
      const words = new BigUint64Array(count);
      for (let i = 0; i < count; i++) words[i] = (BigInt(next()) << 32n) | BigInt(next());
      for (let i = 0; i < count; i++) dv.setBigUint64(i * 8, words[i], true);
      break;
    }
    case "float32":
      for (let i = 0; i < count; i++) {
        let bits = next();
        // An all-ones exponent is Inf/NaN: flip its lowest bit to stay finite.
        if (((bits >>> 23) & 0xff) === 0xff) bits ^= 1 << 23;
        dv.setUint32(i * 4, bits >>> 0, true);
      }
      break;
    case "float64":
      for (let i = 0; i < count; i++) {
        const lo = next();
        let hi = next();
        if (((hi >>> 20) & 0x7ff) === 0x7ff) hi ^= 1 << 20;
        dv.setUint32(i * 8, lo, true);
        dv.setUint32(i * 8 + 4, hi >>> 0, true);
      }
      break;
  }
  const extremes = extremeValues(dtype);
  for (let k = 0; k < extremes.length && k < count; k++) out.set(extremes[k], k * info.bytes);
  return out;
}

/** Little-endian bit patterns of each dtype's edge values. */
function extremeValues(dtype: DataType): Uint8Array[] {
  const n = dtypeInfo(dtype).bytes;
  const pattern = (fill: number, top?: number, bottom?: number): Uint8Array => {
    const b = new Uint8Array(n).fill(fill);
    if (bottom !== undefined) b[0] = bottom;
    if (top !== undefined) b[n - 1] = top;
    return b;
  };
  if (dtype === "float32") return [0x00000000, 0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000000].map((w) => le32(w));
  if (dtype === "float64") {
    return [
      [0, 0],
      [0xffffffff, 0x7fefffff],
      [0xffffffff, 0xffefffff],
      [1, 0],
      [0, 0x80000000],
    ].map(([lo, hi]) => {
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, lo, true);
      dv.setUint32(4, hi, true);
      return b;
    });
  }
  // zero, all ones (unsigned max / signed -1), signed min (0x80..), signed max (0x7f..).
  return [pattern(0), pattern(0xff), pattern(0, 0x80), pattern(0xff, 0x7f)];
}

function le32(w: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, w >>> 0, true);
  return b;
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/** `bytes` copied into the middle of a larger buffer whose other bytes are noise. */
function embedAt(bytes: Uint8Array, offset: number, seed: number): Uint8Array {
  const backing = randomTestBytes(bytes.byteLength + offset + 13, seed);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.byteLength);
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

/** Byte equality with a useful message (toEqual on 100k-element arrays is slow and unreadable). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.byteLength, `${what}: byte length`).toBe(expected.byteLength);
  const at = firstDifference(actual, expected);
  if (at >= 0) throw new Error(`${what}: first differing byte at ${at} (got ${actual[at]}, expected ${expected[at]})`);
}

/** Root-mean-square error between two voxel buffers of `dtype`, in value units. */
export function voxelRmse(a: Uint8Array, b: Uint8Array, dtype: DataType): number {
  if (a.byteLength !== b.byteLength) return Infinity;
  const va = viewAs(a, dtype);
  const vb = viewAs(b, dtype);
  if (va.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < va.length; i++) {
    const d = Number(va[i]) - Number(vb[i]);
    sum += d * d;
  }
  return Math.sqrt(sum / va.length);
}

function describeError(err: unknown): string {
  if (isCloudVolumeError(err)) return `CloudVolumeError ${err.code} (key ${JSON.stringify(err.key)}): ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

async function settle<T>(fn: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The call must fail with DECODE_FAILED (naming `key` when given). */
async function expectDecodeFailed(fn: () => unknown, what: string, key?: string): Promise<void> {
  const r = await settle(fn);
  if (r.ok) throw new Error(`${what}: expected CloudVolumeError DECODE_FAILED, but decode returned normally`);
  if (!isCloudVolumeError(r.error, "DECODE_FAILED")) {
    throw new Error(`${what}: expected CloudVolumeError DECODE_FAILED, got ${describeError(r.error)}`, { cause: r.error });
  }
  if (key !== undefined && r.error.key !== key) {
    throw new Error(`${what}: DECODE_FAILED should name key ${JSON.stringify(key)}, named ${JSON.stringify(r.error.key)}`);
  }
}

/** The call must fail with DECODE_FAILED, or (undetectable corruption) return `size` bytes. */
async function expectCleanOutcome(fn: () => unknown, what: string, size: number, key?: string): Promise<void> {
  const r = await settle(fn);
  if (r.ok) {
    const v = r.value;
    if (!(v instanceof Uint8Array)) throw new Error(`${what}: decode returned ${Object.prototype.toString.call(v)}, not a Uint8Array`);
    if (v.byteLength !== size) throw new Error(`${what}: decode returned ${v.byteLength} bytes instead of failing; the chunk needs ${size}`);
    return;
  }
  await expectDecodeFailed(() => Promise.reject(r.error), what, key);
}

/** A stream to corrupt, the chunk it decodes to, and the decoder to feed. */
export interface FuzzSeed {
  bytes: Uint8Array;
  chunk: ChunkSpec;
  decode: (bytes: Uint8Array, chunk: ChunkSpec) => unknown;
}

/**
 * `cases` seeded corruptions (mutateBytes; `keep(i)` bytes left intact at the start of
 * case i) of the seeds, in turn: each decode must give exactly the chunk's decoded size
 * or DECODE_FAILED naming the chunk's key, nothing else. Returns how many did which.
 */
export async function fuzzDecode(seeds: readonly FuzzSeed[], opts: { cases: number; seed: number; keep?: (i: number) => number }): Promise<{ decoded: number; failed: number }> {
  const r = seededRandom(opts.seed);
  let decoded = 0, failed = 0;
  for (let i = 0; i < opts.cases; i++) {
    const { bytes, chunk, decode } = seeds[i % seeds.length];
    const s = mutateBytes(bytes, r, opts.keep?.(i) ?? 0);
    const res = await settle(() => decode(s, chunk));
    await expectCleanOutcome(() => (res.ok ? res.value : Promise.reject(res.error)), `fuzz case ${i} (${chunk.key})`, decodedSize(chunk), chunk.key);
    if (res.ok) decoded++;
    else failed++;
  }
  return { decoded, failed };
}

// ---------------------------------------------------------------------------
// Array codecs
// ---------------------------------------------------------------------------

export interface ArrayCodecGolden {
  name: string;
  /** Chunk bytes written by an independent implementation. */
  encoded: Uint8Array;
  chunk: ChunkSpec;
  /** Voxels, Fortran order (x, y, z, channel), little-endian. */
  expected: Uint8Array;
}

export interface ArrayCodecSuiteOptions {
  dtypes: DataType[];
  /** Channel counts to round-trip. Default [1]. */
  channels?: number[];
  /** Chunk shapes to round-trip. Default DEFAULT_CODEC_SHAPES (includes edge chunks smaller than nominal). */
  shapes?: Vec3[];
  /** Decoded voxels equal the encoded ones byte for byte. Default: true unless maxRmse is given. */
  lossless?: boolean;
  /** For lossy codecs: largest acceptable root-mean-square error, in value units. */
  maxRmse?: number;
  /** Encoding parameters passed as ChunkSpec.params. */
  params?: Record<string, unknown>;
  golden?: ArrayCodecGolden[];
  /**
   * "detect" (default): every truncated input must give DECODE_FAILED. "tolerate":
   * only for formats that genuinely cannot tell (say so where you pass it); a
   * correctly sized result is then accepted too.
   */
  truncation?: "detect" | "tolerate";
  /** Replace the default full-range random voxels (e.g. smooth images for lossy codecs). */
  makeVoxels?: (chunk: ChunkSpec, seed: number) => Uint8Array;
}

/** Nominal 32x32x16 plus edge chunks smaller than nominal, down to a single voxel. */
export const DEFAULT_CODEC_SHAPES: readonly Vec3[] = [
  [1, 1, 1],
  [2, 2, 1],
  [5, 7, 3],
  [32, 32, 16],
];

interface ArrayCase {
  chunk: ChunkSpec;
  voxels: Uint8Array;
}

function decodedSize(chunk: ChunkSpec): number {
  return chunk.shape[0] * chunk.shape[1] * chunk.shape[2] * chunk.channels * dtypeInfo(chunk.dtype).bytes;
}

function chunkKey(chunk: Pick<ChunkSpec, "shape" | "channels" | "dtype">): string {
  const [x, y, z] = chunk.shape;
  return `conformance/${chunk.dtype}/${chunk.channels}ch/0-${x}_0-${y}_0-${z}`;
}

function makeCase(dtype: DataType, channels: number, shape: Vec3, opts: Pick<ArrayCodecSuiteOptions, "params" | "makeVoxels">): ArrayCase {
  const chunk: ChunkSpec = { shape, channels, dtype, key: chunkKey({ shape, channels, dtype }) };
  if (opts.params) chunk.params = opts.params;
  const seed = seedOf(chunk.key!);
  const voxels = opts.makeVoxels ? opts.makeVoxels(chunk, seed) : randomVoxelBytes(dtype, decodedSize(chunk) / dtypeInfo(dtype).bytes, seed);
  return { chunk, voxels };
}

function compareVoxels(actual: Uint8Array, expected: Uint8Array, chunk: ChunkSpec, lossless: boolean, maxRmse: number | undefined, what: string): void {
  expect(actual, `${what}: decode must return a Uint8Array`).toBeInstanceOf(Uint8Array);
  expect(actual.byteLength, `${what}: decoded byte length`).toBe(decodedSize(chunk));
  if (lossless) {
    expectSameBytes(actual, expected, what);
  } else {
    const rmse = voxelRmse(actual, expected, chunk.dtype);
    expect(rmse, `${what}: RMSE ${rmse} exceeds ${maxRmse}`).toBeLessThanOrEqual(maxRmse ?? 0);
  }
}

/** Decode into an `out` view with guard bytes on both sides; returns the result and checks the guards. */
async function decodeIntoGuarded(codec: ArrayCodec, encoded: Uint8Array, chunk: ChunkSpec, what: string): Promise<Uint8Array> {
  const size = decodedSize(chunk);
  // 8 bytes of guard keeps `out` aligned for 64-bit views, as a pooled buffer would be.
  const guard = 8;
  const backing = new Uint8Array(size + 2 * guard).fill(0xa5);
  const out = backing.subarray(guard, guard + size);
  const result = await codec.decode(encoded, chunk, out);
  expect(result.buffer, `${what}: decode(bytes, chunk, out) must return a view of \`out\``).toBe(backing.buffer);
  expect(result.byteOffset, `${what}: returned view must start where \`out\` does`).toBe(out.byteOffset);
  expect(result.byteLength, `${what}: returned view must be the decoded size`).toBe(size);
  for (let i = 0; i < guard; i++) {
    if (backing[i] !== 0xa5 || backing[guard + size + i] !== 0xa5) throw new Error(`${what}: decode wrote outside \`out\``);
  }
  return out;
}

/** The array-codec checks, runnable on their own (e.g. against a broken codec). */
export const arrayCodecChecks = {
  /** encode -> decode gives the voxels back (or within maxRmse); decoding into `out` gives the same bytes, in `out`. */
  async roundTrip(codec: ArrayCodec, c: ArrayCase, o: { lossless: boolean; maxRmse?: number }): Promise<void> {
    if (!codec.encode) throw new Error(`${codec.name} has no encode`);
    const label = `${c.chunk.dtype} ${c.chunk.shape.join("x")}x${c.chunk.channels}`;
    const input = embedAt(c.voxels, 8, 1);
    const encoded = await codec.encode(input, c.chunk);
    expect(encoded, `${label}: encode must return a Uint8Array`).toBeInstanceOf(Uint8Array);
    expectSameBytes(input, c.voxels, `${label}: encode must not modify its input`);
    // Encoded bytes at an odd offset: sharded reads hand decoders subarrays of a shard
    // at arbitrary byte offsets, so a decoder must not assume alignment or offset 0.
    const stored = embedAt(encoded, 3, 2);
    const storedCopy = stored.slice();
    const decoded = await codec.decode(stored, c.chunk);
    compareVoxels(decoded, c.voxels, c.chunk, o.lossless, o.maxRmse, `${label} round trip`);
    const decodedCopy = decoded.slice();
    const into = await decodeIntoGuarded(codec, stored, c.chunk, `${label} into out`);
    expectSameBytes(into, decodedCopy, `${label}: decoding into \`out\` must give the same bytes as without`);
    expectSameBytes(stored, storedCopy, `${label}: decode must not modify its input`);
  },

  /** An independent implementation's bytes decode to the expected voxels. */
  async golden(codec: ArrayCodec, g: ArrayCodecGolden, o: { lossless: boolean; maxRmse?: number }): Promise<void> {
    const decoded = await codec.decode(g.encoded.slice(), g.chunk);
    compareVoxels(decoded, g.expected, g.chunk, o.lossless, o.maxRmse, `golden ${g.name}`);
    const into = await decodeIntoGuarded(codec, embedAt(g.encoded, 5, 3), g.chunk, `golden ${g.name} into out`);
    compareVoxels(into, g.expected, g.chunk, o.lossless, o.maxRmse, `golden ${g.name} into out`);
  },

  /** Every cut of a valid stream fails with DECODE_FAILED naming the key (or, when tolerated, returns a right-sized buffer). */
  async truncated(codec: ArrayCodec, encoded: Uint8Array, chunk: ChunkSpec, mode: "detect" | "tolerate"): Promise<void> {
    const size = decodedSize(chunk);
    for (const cut of truncationCuts(encoded.byteLength)) {
      // slice(): a fresh, exactly sized buffer, so nothing past the cut is reachable.
      const bytes = encoded.slice(0, encoded.byteLength - cut);
      const what = `${chunk.key}: input truncated by ${cut} of ${encoded.byteLength} bytes`;
      if (mode === "detect") await expectDecodeFailed(() => codec.decode(bytes, chunk), what, chunk.key);
      else await expectCleanOutcome(() => codec.decode(bytes, chunk), what, size, chunk.key);
    }
  },

  /** Random bytes of many lengths fail cleanly; empty input always gives DECODE_FAILED. */
  async garbage(codec: ArrayCodec, chunk: ChunkSpec): Promise<void> {
    const size = decodedSize(chunk);
    await expectDecodeFailed(() => codec.decode(new Uint8Array(0), chunk), `${chunk.key}: empty input`, chunk.key);
    const lengths = [...new Set([1, 2, 3, 4, 7, 8, 16, 64, 255, 1000, 4096, size - 1, size, size + 1].filter((n) => n > 0))];
    for (const n of lengths) {
      const bytes = randomTestBytes(n, seedOf(`${chunk.key}/garbage/${n}`));
      await expectCleanOutcome(() => codec.decode(bytes, chunk), `${chunk.key}: ${n} random bytes`, size, chunk.key);
    }
  },
};

/** Cuts (bytes removed from the end) to try on an n-byte stream: 1..16 and a few large ones. */
function truncationCuts(n: number): number[] {
  const cuts = new Set<number>();
  for (let c = 1; c <= Math.min(16, n - 1); c++) cuts.add(c);
  for (const c of [Math.floor(n / 4), Math.floor(n / 2), Math.floor((3 * n) / 4), n - 1]) if (c >= 1 && c < n) cuts.add(c);
  return [...cuts];
}

/**
 * Register the array-codec conformance suite. `load` is called once (lazily, like a
 * plugin's `load()`); it may return the codec or a promise of it.
 */
export function describeArrayCodec(name: string, load: () => Promise<ArrayCodec> | ArrayCodec, opts: ArrayCodecSuiteOptions): void {
  const channels = opts.channels ?? [1];
  const shapes = opts.shapes ?? DEFAULT_CODEC_SHAPES;
  const lossless = opts.lossless ?? opts.maxRmse === undefined;
  const cmp = { lossless, maxRmse: opts.maxRmse };
  const truncationMode = opts.truncation ?? "detect";
  // Truncation and garbage use a mid-size edge chunk: big enough to have structure,
  // small enough that ~20 decodes per dtype stay fast.
  const probeShape = shapes[Math.min(2, shapes.length - 1)];

  describe(`ArrayCodec conformance: ${name}`, () => {
    let codec: ArrayCodec;
    beforeAll(async () => {
      codec = await load();
    });

    it("has a name and a decode method", () => {
      expect(typeof codec.name).toBe("string");
      expect(codec.name.length).toBeGreaterThan(0);
      expect(typeof codec.decode).toBe("function");
    });

    for (const dtype of opts.dtypes) {
      describe(dtype, () => {
        for (const ch of channels) {
          for (const shape of shapes) {
            it(`round trip ${shape.join("x")}, ${ch} channel${ch === 1 ? "" : "s"}`, async (ctx) => {
              if (!codec.encode) return ctx.skip();
              await arrayCodecChecks.roundTrip(codec, makeCase(dtype, ch, shape, opts), cmp);
            });
          }
        }

        it("truncated input fails with DECODE_FAILED naming the key", async (ctx) => {
          if (!codec.encode) return ctx.skip();
          const c = makeCase(dtype, channels[0], probeShape, opts);
          await arrayCodecChecks.truncated(codec, await codec.encode(c.voxels, c.chunk), c.chunk, truncationMode);
        });

        it("random bytes fail cleanly; empty input fails with DECODE_FAILED", async () => {
          await arrayCodecChecks.garbage(codec, makeCase(dtype, channels[0], probeShape, opts).chunk);
        });
      });
    }

    for (const g of opts.golden ?? []) {
      it(`golden: ${g.name}`, async () => {
        await arrayCodecChecks.golden(codec, g, cmp);
      });
      it(`golden truncated: ${g.name}`, async () => {
        const chunk = { ...g.chunk, key: g.chunk.key ?? `golden/${g.name}` };
        await arrayCodecChecks.truncated(codec, g.encoded, chunk, truncationMode);
      });
    }
  });
}

// ---------------------------------------------------------------------------
// Byte codecs
// ---------------------------------------------------------------------------

export interface ByteCodecGolden {
  name: string;
  /** Compressed bytes written by an independent implementation. */
  encoded: Uint8Array;
  decoded: Uint8Array;
}

export interface ByteCodecSuiteOptions {
  golden?: ByteCodecGolden[];
  /** Levels passed to encode in the round trip (each must still decode). Default [1, 9]. */
  levels?: number[];
  /**
   * What bad input must give. "detect" (default) for both: DECODE_FAILED naming the
   * key. "tolerate": the decoder genuinely cannot tell (say which and why where you
   * pass it); returning some bytes is then accepted, crashing still is not.
   */
  truncation?: "detect" | "tolerate";
  garbage?: "detect" | "tolerate";
}

/** Data that compresses well: label runs like a segmentation chunk, with some structure. */
function compressibleBytes(length: number, seed: number): Uint8Array {
  const next = seededUint32(seed);
  const out = new Uint8Array(length);
  let i = 0;
  while (i < length) {
    const run = 16 + (next() % 512);
    const label = next() % 7;
    out.fill(label * 37, i, Math.min(length, i + run));
    i += run;
  }
  return out;
}

export const BYTE_CODEC_KEY = "conformance/chunk.bin";

/** The byte-codec checks, runnable on their own (e.g. against a broken codec). */
export const byteCodecChecks = {
  /** encode -> decode gives the bytes back, from an offset view, with and without level. */
  async roundTrip(codec: ByteCodec, data: Uint8Array, label: string, levels: number[]): Promise<Uint8Array> {
    const input = embedAt(data, 8, 4);
    const encoded = await codec.encode(input);
    expect(encoded, `${label}: encode must return a Uint8Array`).toBeInstanceOf(Uint8Array);
    expectSameBytes(input, data, `${label}: encode must not modify its input`);
    const stored = embedAt(encoded, 3, 5);
    const decoded = await codec.decode(stored, { key: BYTE_CODEC_KEY });
    expect(decoded, `${label}: decode must return a Uint8Array`).toBeInstanceOf(Uint8Array);
    expectSameBytes(decoded, data, `${label} round trip`);
    for (const level of levels) {
      const enc = await codec.encode(data, { level });
      expectSameBytes(await codec.decode(enc), data, `${label} round trip at level ${level}`);
    }
    return encoded;
  },

  /** The decodedSize hint only helps allocation: right, wrong or absent, the bytes are the same. */
  async hints(codec: ByteCodec, encoded: Uint8Array, data: Uint8Array): Promise<void> {
    const n = data.byteLength;
    const hints: (number | undefined)[] = [undefined, n, n + 1, n - 1, 1, 0, Math.floor(n / 3), n * 3 + 7];
    for (const decodedSize of hints) {
      const opts = decodedSize === undefined ? { key: BYTE_CODEC_KEY } : { key: BYTE_CODEC_KEY, decodedSize: Math.max(0, decodedSize) };
      expectSameBytes(await codec.decode(encoded, opts), data, `decode with decodedSize ${decodedSize}`);
    }
    expectSameBytes(await codec.decode(encoded), data, "decode with no options");
  },

  async golden(codec: ByteCodec, g: ByteCodecGolden): Promise<void> {
    expectSameBytes(await codec.decode(g.encoded.slice(), { key: g.name }), g.decoded, `golden ${g.name}`);
    expectSameBytes(
      await codec.decode(embedAt(g.encoded, 1, 6), { key: g.name, decodedSize: g.decoded.byteLength }),
      g.decoded,
      `golden ${g.name} with decodedSize`,
    );
  },

  /** Cuts of 1..16 bytes, halves and more give DECODE_FAILED naming the key. */
  async truncated(codec: ByteCodec, encoded: Uint8Array, decodedLength: number, key: string, mode: "detect" | "tolerate"): Promise<void> {
    for (const cut of truncationCuts(encoded.byteLength)) {
      const bytes = encoded.slice(0, encoded.byteLength - cut);
      const what = `${key}: input truncated by ${cut} of ${encoded.byteLength} bytes`;
      for (const hint of [undefined, decodedLength]) {
        const call = () => codec.decode(bytes, hint === undefined ? { key } : { key, decodedSize: hint });
        if (mode === "detect") await expectDecodeFailed(call, what, key);
        else await expectTolerated(call, what, key);
      }
    }
  },

  /** Empty input, random bytes and plain text give DECODE_FAILED naming the key. */
  async garbage(codec: ByteCodec, key: string, mode: "detect" | "tolerate"): Promise<void> {
    await expectDecodeFailed(() => codec.decode(new Uint8Array(0), { key }), `${key}: empty input`, key);
    const samples: [string, Uint8Array][] = [3, 10, 100, 1000, 10000].map((n) => [`${n} random bytes`, randomTestBytes(n, seedOf(`garbage/${n}`))]);
    samples.push(["plain text", new TextEncoder().encode("this is a plain, uncompressed chunk of text and not a compressed stream\n")]);
    for (const [label, bytes] of samples) {
      const call = () => codec.decode(bytes, { key, decodedSize: 4096 });
      if (mode === "detect") await expectDecodeFailed(call, `${key}: ${label}`, key);
      else await expectTolerated(call, `${key}: ${label}`, key);
    }
  },
};

/** Either DECODE_FAILED naming the key, or a normal Uint8Array result. */
async function expectTolerated(fn: () => unknown, what: string, key: string): Promise<void> {
  const r = await settle(fn);
  if (r.ok) {
    if (!(r.value instanceof Uint8Array)) throw new Error(`${what}: decode returned ${Object.prototype.toString.call(r.value)}, not a Uint8Array`);
    return;
  }
  await expectDecodeFailed(() => Promise.reject(r.error), what, key);
}

/**
 * Register the byte-codec (transfer compression) conformance suite. `load` is called
 * once, like a plugin's `load()`.
 */
export function describeByteCodec(name: string, load: () => Promise<ByteCodec> | ByteCodec, opts: ByteCodecSuiteOptions = {}): void {
  const levels = opts.levels ?? [1, 9];
  const truncation = opts.truncation ?? "detect";
  const garbage = opts.garbage ?? "detect";
  const samples: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["1 byte", new Uint8Array([0x5a])],
    ["64 KiB random", randomTestBytes(64 * 1024, seedOf("bytecodec/random"))],
    ["256 KiB compressible", compressibleBytes(256 * 1024, seedOf("bytecodec/compressible"))],
  ];
  const compressible = samples[3][1];

  describe(`ByteCodec conformance: ${name}`, () => {
    let codec: ByteCodec;
    beforeAll(async () => {
      codec = await load();
    });

    it("has a name and a file-name suffix", () => {
      expect(typeof codec.name).toBe("string");
      expect(codec.name.length).toBeGreaterThan(0);
      expect(codec.suffix).toMatch(/^\.[a-z0-9]+$/);
    });

    for (const [label, data] of samples) {
      it(`round trip: ${label}`, async () => {
        await byteCodecChecks.roundTrip(codec, data, label, levels);
      });
    }

    it("compressible data actually shrinks", async () => {
      const encoded = await codec.encode(compressible);
      expect(encoded.byteLength).toBeLessThan(compressible.byteLength / 4);
    });

    it("decodedSize hint: exact, wrong or absent gives the same bytes", async () => {
      await byteCodecChecks.hints(codec, await codec.encode(compressible), compressible);
      const random = samples[2][1];
      await byteCodecChecks.hints(codec, await codec.encode(random), random);
    });

    it(`truncated input fails with DECODE_FAILED naming the key${truncation === "tolerate" ? " (or returns bytes: tolerated)" : ""}`, async () => {
      await byteCodecChecks.truncated(codec, await codec.encode(compressible), compressible.byteLength, BYTE_CODEC_KEY, truncation);
      const random = samples[2][1];
      await byteCodecChecks.truncated(codec, await codec.encode(random), random.byteLength, BYTE_CODEC_KEY, truncation);
    });

    it(`garbage fails with DECODE_FAILED naming the key${garbage === "tolerate" ? " (or returns bytes: tolerated)" : ""}`, async () => {
      await byteCodecChecks.garbage(codec, BYTE_CODEC_KEY, garbage);
    });

    it("a decode error without a key is still DECODE_FAILED", async () => {
      await expectDecodeFailed(() => codec.decode(new Uint8Array(0)), "empty input, no options");
    });

    for (const g of opts.golden ?? []) {
      it(`golden: ${g.name}`, async () => {
        await byteCodecChecks.golden(codec, g);
      });
      it(`golden truncated: ${g.name}`, async () => {
        await byteCodecChecks.truncated(codec, g.encoded, g.decoded.byteLength, g.name, truncation);
      });
    }
  });
}
