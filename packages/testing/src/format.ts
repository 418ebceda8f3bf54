import { describe, expect, it } from "vitest";
import {
  Bbox,
  Context,
  DATA_TYPES,
  dtypeInfo,
  isCloudVolumeError,
  type DataType,
  type ErrorCode,
  type LayerInfo,
  type Plugin,
  type TypedArray,
  type Vec3,
} from "@cloudvolume/core";
import { ChunkedVolume, type VolumeOptions } from "@cloudvolume/chunks";
import { randomTestBytes, randomVoxelBytes } from "./codec.js";

/**
 * The format-driver conformance suite (TensorStore's driver_testutil, zarrita's
 * store tests): written once, run by every format package (precomputed, zarr, n5, a
 * third party's) against the Format contract in core. Each check is also exported as a plain async
 * function (`formatChecks`) so a package can run it against a deliberately broken
 * driver and prove the check can fail.
 *
 * Coordinates are voxels of mip 0, boxes are [min, max), cutouts are Fortran-ordered
 * (x, y, z, channel) with x fastest, as CloudVolume returns them.
 */

// ---------------------------------------------------------------------------
// What a format has to provide
// ---------------------------------------------------------------------------

/**
 * The format under test, through the contract in core: its FormatPlugin (whose driver the
 * chunk engine opens layers with) and the storage and codec plugins it needs. The suite
 * opens every layer as users do, `ChunkedVolume.open(new Context({ plugins }), url, opts)`,
 * so it checks the driver and the engine together. `open` options are CloudVolume's:
 * - `info`: a new layer's metadata (LayerInfo, built by layerInfoFor), persisted by commitInfo;
 * - `bounded` (default true): a read outside the bounds is OUT_OF_BOUNDS; false fills with background 0;
 * - `fillMissing` (default false): a missing chunk reads as background 0 instead of NOT_FOUND;
 * - `nonAlignedWrites` (default false): writes off the chunk grid are ALIGNMENT errors unless true.
 */
export interface FormatUnderTest {
  /** The format plugin first, then whatever storage, codec and compression plugins its layers need. */
  plugins: Plugin[];
  /** A fresh, empty layer location each call: a cloudpath naming the format (`name://mem://...`). */
  newLayerUrl(): string;
  /** Options under every open's own (e.g. `compress: false`). */
  options?: VolumeOptions;
  /** Scale key of the layers the suite creates (default "4_4_40", Precomputed's name for the resolution). */
  scaleKey?: string;
  /** For the suite's own tests only: open layers some other way (a planted bug must make a check fail). */
  open?: (url: string, opts: Record<string, unknown>) => Promise<ChunkedVolume>;
}

/** Called once per test, so tests never share storage. */
export type FormatSetup = () => Promise<FormatUnderTest>;

export interface FormatCreateInfoOptions {
  dtype: DataType;
  channels: number;
  size: Vec3;
  chunkSize: Vec3;
  voxelOffset: Vec3;
  /** The format's encoding name; undefined = "raw". */
  encoding?: string;
  /** Scale key (default "4_4_40"). */
  key?: string;
}

/** A one-scale image LayerInfo (core's metadata form, which every driver takes in open's `info`). */
export function layerInfoFor(o: FormatCreateInfoOptions): LayerInfo {
  return {
    type: "image", data_type: o.dtype, num_channels: o.channels,
    scales: [{ key: o.key ?? "4_4_40", size: [...o.size], voxel_offset: [...o.voxelOffset], resolution: [4, 4, 40], chunk_sizes: [[...o.chunkSize]], encoding: o.encoding ?? "raw" }],
  };
}

/** Open a layer of the format under test with the chunk engine. */
export async function openLayer(f: FormatUnderTest, url: string, opts: Record<string, unknown> = {}): Promise<ChunkedVolume> {
  const o = { ...(f.options ?? {}), ...opts };
  return f.open ? f.open(url, o) : ChunkedVolume.open(new Context({ plugins: f.plugins }), url, o);
}

export interface DescribeFormatOptions {
  /** Data types to run (default: all ten). */
  dtypes?: DataType[];
  /** Encodings to run (default: one run with the driver's default encoding). */
  encodings?: string[];
}

/** One layer geometry of the matrix. */
export interface FormatCase {
  dtype: DataType;
  encoding?: string;
  channels: number;
  size: Vec3;
  chunkSize: Vec3;
  voxelOffset: Vec3;
}

/** Shapes of the matrix: x, y, z, channels. Both sit at voxel offset (1, 2, 3) on a 4x4x4 grid. */
export const DEFAULT_FORMAT_SHAPES: readonly (readonly [number, number, number, number])[] = [
  [2, 2, 1, 1], // one ragged chunk
  [10, 11, 12, 4], // 3x3x3 chunks, ragged on every axis
];
export const DEFAULT_FORMAT_OFFSET: Vec3 = [1, 2, 3];
export const DEFAULT_FORMAT_CHUNK: Vec3 = [4, 4, 4];

// ---------------------------------------------------------------------------
// Helpers: data, brute-force expectations, comparisons
// ---------------------------------------------------------------------------

function seedOf(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function typed(dtype: DataType, bytes: Uint8Array): TypedArray {
  const ctor = dtypeInfo(dtype).ctor;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new ctor(copy.buffer, 0, bytes.byteLength / dtypeInfo(dtype).bytes);
}

const bytesOfArray = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A dense box of voxels held by the test: Fortran (x, y, z, c), absolute coordinates. */
export interface VoxelBox {
  box: Bbox;
  channels: number;
  dtype: DataType;
  data: TypedArray;
}

/** Seeded random voxels of `dtype` over `box` (64-bit integers over all bit patterns, floats finite). */
export function randomVoxelBox(dtype: DataType, box: Bbox, channels: number, label: string): VoxelBox {
  const s = box.size();
  const n = s[0] * s[1] * s[2] * channels;
  return { box, channels, dtype, data: typed(dtype, randomVoxelBytes(dtype, n, seedOf(label))) };
}

const index = (s: Vec3, x: number, y: number, z: number, c: number) => x + s[0] * (y + s[1] * (z + s[2] * c));

/** Value of `v` at absolute (x, y, z, c), or `background` outside its box. Brute force, no shared code with drivers. */
function valueAt(v: VoxelBox, x: number, y: number, z: number, c: number, background: number | bigint): number | bigint {
  const b = v.box;
  if (x < b.min[0] || y < b.min[1] || z < b.min[2] || x >= b.max[0] || y >= b.max[1] || z >= b.max[2]) return background;
  return v.data[index(b.size(), x - b.min[0], y - b.min[1], z - b.min[2], c)];
}

/**
 * The expected cutout of `region`: for each voxel the value of the last layer in
 * `layers` whose box holds it (later layers painted over earlier ones), else the
 * background (0, or 0n for 64-bit types).
 */
export function expectedCutout(dtype: DataType, channels: number, region: Bbox, layers: readonly VoxelBox[]): TypedArray {
  const info = dtypeInfo(dtype);
  const bg = info.bigint ? 0n : 0;
  const s = region.size();
  const out = new info.ctor(s[0] * s[1] * s[2] * channels);
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < s[2]; z++)
      for (let y = 0; y < s[1]; y++)
        for (let x = 0; x < s[0]; x++) {
          const ax = region.min[0] + x, ay = region.min[1] + y, az = region.min[2] + z;
          let v: number | bigint = bg;
          for (const l of layers) {
            const b = l.box;
            if (ax >= b.min[0] && ay >= b.min[1] && az >= b.min[2] && ax < b.max[0] && ay < b.max[1] && az < b.max[2]) v = valueAt(l, ax, ay, az, c, bg);
          }
          (out as unknown as (number | bigint)[])[index(s, x, y, z, c)] = v;
        }
  return out;
}

/** Compare a cutout with the expectation value by value (Object.is: -0 is not 0; 64-bit values compared as BigInt). */
export function expectCutout(actual: { data: TypedArray; shape: readonly number[] }, expected: TypedArray, region: Bbox, channels: number, dtype: DataType, what: string): void {
  const s = region.size();
  expect([...actual.shape].slice(0, 4), `${what}: shape`).toEqual([s[0], s[1], s[2], channels]);
  expect(actual.data instanceof dtypeInfo(dtype).ctor, `${what}: data is a ${actual.data?.constructor?.name}, not a ${dtype} array`).toBe(true);
  expect(actual.data.length, `${what}: length`).toBe(expected.length);
  let bad = 0;
  let first = "";
  for (let i = 0; i < expected.length; i++) {
    const a = actual.data[i];
    const e = expected[i];
    if (!Object.is(a, e)) {
      if (bad === 0) {
        const x = i % s[0], y = Math.floor(i / s[0]) % s[1], z = Math.floor(i / (s[0] * s[1])) % s[2], c = Math.floor(i / (s[0] * s[1] * s[2]));
        first = `at (${region.min[0] + x}, ${region.min[1] + y}, ${region.min[2] + z}) channel ${c}: got ${String(a)}, expected ${String(e)}`;
      }
      bad++;
    }
  }
  expect(bad, `${what}: ${bad} of ${expected.length} values differ; first ${first}`).toBe(0);
}

/**
 * A replacement for `base` over `box`: every value differs from `base`'s there (the
 * lowest byte is XORed with a random odd byte, which keeps floats finite), so a
 * write that was dropped or misplaced always shows.
 */
function differentBox(base: VoxelBox, box: Bbox, label: string): VoxelBox {
  const under = expectedCutout(base.dtype, base.channels, box, [base]);
  const bytes = bytesOfArray(under).slice();
  const width = dtypeInfo(base.dtype).bytes;
  const noise = randomTestBytes(bytes.byteLength / width, seedOf(label));
  for (let i = 0; i < noise.length; i++) bytes[i * width] ^= noise[i] | 1; // little-endian: byte 0 is the lowest
  return { box, channels: base.channels, dtype: base.dtype, data: typed(base.dtype, bytes) };
}

/** Await `fn` and require a CloudVolumeError of `code`; returns it. */
async function expectCode(fn: () => unknown, code: ErrorCode, what: string): Promise<{ code: string; message: string; key?: string }> {
  let error: unknown;
  let threw = false;
  try {
    await fn();
  } catch (e) {
    error = e;
    threw = true;
  }
  expect(threw, `${what}: expected a ${code} error, but it succeeded`).toBe(true);
  const got = isCloudVolumeError(error) ? `CloudVolumeError ${error.code}: ${error.message}` : String(error);
  expect(isCloudVolumeError(error, code), `${what}: expected CloudVolumeError ${code}, got ${got}`).toBe(true);
  return error as { code: string; message: string; key?: string };
}

// ---------------------------------------------------------------------------
// Geometry of a case
// ---------------------------------------------------------------------------

function boundsOf(c: FormatCase): Bbox {
  const o = c.voxelOffset;
  return new Bbox(o, [o[0] + c.size[0], o[1] + c.size[1], o[2] + c.size[2]]);
}

/** A box relative to the voxel offset. */
function rel(c: FormatCase, lo: readonly number[], hi: readonly number[]): Bbox {
  const o = c.voxelOffset;
  return new Bbox([o[0] + lo[0], o[1] + lo[1], o[2] + lo[2]], [o[0] + hi[0], o[1] + hi[1], o[2] + hi[2]]);
}

/** Interior box that crosses chunk boundaries where the volume has them and ends on the upper bound in y. */
function crossingBox(c: FormatCase): Bbox {
  const s = c.size;
  const lo = [Math.min(1, s[0] - 1), Math.min(2, s[1] - 1), Math.min(2, s[2] - 1)];
  const hi = [s[0] - (s[0] > 2 ? 1 : 0), s[1], s[2] - (s[2] > 2 ? 1 : 0)];
  return rel(c, lo, hi);
}

/** A box off the chunk grid (its min is not on a grid line on some axis), inside the bounds. */
function unalignedBox(c: FormatCase): Bbox {
  const s = c.size;
  const lo = s.map((n) => (n > 1 ? 1 : 0));
  const hi = s.map((n, i) => Math.max(lo[i] + 1, n - 2));
  return rel(c, lo, hi);
}

/** A second unaligned box reaching the upper bound (ragged edge chunks). */
function edgeBox(c: FormatCase): Bbox {
  const s = c.size;
  return rel(c, s.map((n) => Math.max(0, n - 3)), s);
}

/** Grid lines strictly inside the volume on axis `d` (absolute). */
function innerGridLines(c: FormatCase, d: number): number[] {
  const out: number[] = [];
  for (let g = c.voxelOffset[d] + c.chunkSize[d]; g < c.voxelOffset[d] + c.size[d]; g += c.chunkSize[d]) out.push(g);
  return out;
}

function caseLabel(c: FormatCase): string {
  return `${c.dtype} ${c.size.join("x")}x${c.channels} @${c.voxelOffset.join(",")} chunk ${c.chunkSize.join("x")}${c.encoding ? ` ${c.encoding}` : ""}`;
}

async function createLayer(driver: FormatUnderTest, c: FormatCase): Promise<{ url: string; vol: ChunkedVolume }> {
  const url = driver.newLayerUrl();
  const info = layerInfoFor({ dtype: c.dtype, channels: c.channels, size: c.size, chunkSize: c.chunkSize, voxelOffset: c.voxelOffset, encoding: c.encoding, key: driver.scaleKey });
  const vol = await openLayer(driver, url, { info });
  await vol.commitInfo();
  return { url, vol };
}

async function withVolume<T>(vol: ChunkedVolume, fn: (v: ChunkedVolume) => Promise<T>): Promise<T> {
  try {
    return await fn(vol);
  } finally {
    await vol.close?.();
  }
}

/** Create a layer and fill it completely with seeded random voxels (one aligned write). */
async function filledLayer(driver: FormatUnderTest, c: FormatCase, label: string): Promise<{ url: string; base: VoxelBox }> {
  const { url, vol } = await createLayer(driver, c);
  const base = randomVoxelBox(c.dtype, boundsOf(c), c.channels, `${caseLabel(c)} ${label}`);
  await withVolume(vol, (v) => v.upload(base.box, base.data));
  return { url, base };
}

async function readAll(driver: FormatUnderTest, url: string, c: FormatCase, layers: readonly VoxelBox[], what: string, opts?: Record<string, unknown>): Promise<void> {
  const b = boundsOf(c);
  await withVolume(await openLayer(driver, url, opts), async (v) => {
    expectCutout(await v.download(b), expectedCutout(c.dtype, c.channels, b, layers), b, c.channels, c.dtype, what);
  });
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

export const formatChecks = {
  /** Write the whole volume, reopen, read it and a chunk-crossing sub-box back exactly. */
  async roundTrip(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const { url, base } = await filledLayer(driver, c, "roundTrip");
    await withVolume(await openLayer(driver, url), async (v) => {
      expect(v.dtype, "dtype after reopening").toBe(c.dtype);
      expect(v.numChannels, "numChannels after reopening").toBe(c.channels);
      const b = v.bounds(0);
      expect([[...b.min], [...b.max]], "bounds after reopening").toEqual([[...boundsOf(c).min], [...boundsOf(c).max]]);
      const all = boundsOf(c);
      expectCutout(await v.download(all), base.data, all, c.channels, c.dtype, "whole volume");
      const sub = crossingBox(c);
      expectCutout(await v.download(sub), expectedCutout(c.dtype, c.channels, sub, [base]), sub, c.channels, c.dtype, `sub-box ${sub}`);
    });
  },

  /** Aligned writes of the pieces between grid lines assemble the volume; none clobbers a neighbour. */
  async alignedPieces(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const { url, vol } = await createLayer(driver, c);
    const bounds = boundsOf(c);
    const base = randomVoxelBox(c.dtype, bounds, c.channels, `${caseLabel(c)} pieces`);
    const cuts = [0, 1, 2].map((d) => [bounds.min[d], ...innerGridLines(c, d).slice(0, 1), bounds.max[d]]);
    const pieces: Bbox[] = [];
    for (let zi = 0; zi + 1 < cuts[2].length; zi++)
      for (let yi = 0; yi + 1 < cuts[1].length; yi++)
        for (let xi = 0; xi + 1 < cuts[0].length; xi++)
          pieces.push(new Bbox([cuts[0][xi], cuts[1][yi], cuts[2][zi]], [cuts[0][xi + 1], cuts[1][yi + 1], cuts[2][zi + 1]]));
    await withVolume(vol, async (v) => {
      // Last piece first, so a write that spills into its neighbours is overwritten late enough to show.
      for (const p of pieces.reverse()) await v.upload(p, expectedCutout(c.dtype, c.channels, p, [base]));
    });
    await readAll(driver, url, c, [base], `volume written in ${pieces.length} aligned pieces`);
  },

  /** A region with a missing chunk is NOT_FOUND naming that chunk's key, unless fillMissing. */
  async missingChunk(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const bounds = boundsOf(c);
    const oz = c.voxelOffset[2];
    // Write every chunk below the last z layer of chunks; the last layer stays missing.
    const lastLine = oz + c.chunkSize[2] * Math.floor((c.size[2] - 1) / c.chunkSize[2]);
    const { url, vol } = await createLayer(driver, c);
    const written = new Bbox(bounds.min, [bounds.max[0], bounds.max[1], lastLine]);
    const base = randomVoxelBox(c.dtype, written, c.channels, `${caseLabel(c)} missing`);
    await withVolume(vol, async (v) => {
      if (!written.isEmpty()) await v.upload(written, base.data);
    });
    const o = c.voxelOffset;
    const first = (d: number) => Math.min(o[d] + c.chunkSize[d], bounds.max[d]);
    const missing = new Bbox([o[0], o[1], lastLine], [first(0), first(1), Math.min(lastLine + c.chunkSize[2], bounds.max[2])]);
    const region = new Bbox([o[0], o[1], Math.max(oz, lastLine - 2)], [first(0), first(1), Math.min(lastLine + 1, bounds.max[2])]);
    await withVolume(await openLayer(driver, url), async (v) => {
      const err = await expectCode(() => v.download(region), "NOT_FOUND", `reading ${region} with chunk ${missing} missing`);
      expect(typeof err.key === "string" && err.key !== "", `NOT_FOUND must carry the missing key (error.key), got ${JSON.stringify(err.key)}`).toBe(true);
      expect(err.message, "NOT_FOUND message names the key").toContain(err.key);
      expect(err.key, "the key of the missing chunk").toBe(v.chunkKey(missing, 0));
    });
    const layers = written.isEmpty() ? [] : [base];
    await withVolume(await openLayer(driver, url, { fillMissing: true }), async (v) => {
      expectCutout(await v.download(region), expectedCutout(c.dtype, c.channels, region, layers), region, c.channels, c.dtype, `fillMissing read of ${region}`);
      expectCutout(await v.download(bounds), expectedCutout(c.dtype, c.channels, bounds, layers), bounds, c.channels, c.dtype, "fillMissing read of the whole volume");
    });
  },

  /** Reads past the bounds are OUT_OF_BOUNDS when bounded, background-filled when bounded: false. */
  async outOfBounds(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const { url, base } = await filledLayer(driver, c, "oob");
    const b = boundsOf(c);
    const over = new Bbox([b.min[0] - 2, b.min[1] - 1, b.min[2] - 3], [b.max[0] + 3, b.max[1] + 2, b.max[2] + 1]);
    const justPast = new Bbox(b.min, [b.max[0] + 1, b.max[1], b.max[2]]);
    const outside = b.translate([c.size[0] + 5, 0, 0]);
    await withVolume(await openLayer(driver, url), async (v) => {
      await expectCode(() => v.download(over), "OUT_OF_BOUNDS", `bounded read of ${over}`);
      await expectCode(() => v.download(justPast), "OUT_OF_BOUNDS", `bounded read of ${justPast} (one voxel past x)`);
      await expectCode(() => v.download(outside), "OUT_OF_BOUNDS", `bounded read of ${outside} (entirely outside)`);
    });
    await withVolume(await openLayer(driver, url, { bounded: false }), async (v) => {
      expectCutout(await v.download(over), expectedCutout(c.dtype, c.channels, over, [base]), over, c.channels, c.dtype, `unbounded read of ${over}`);
      expectCutout(await v.download(outside), expectedCutout(c.dtype, c.channels, outside, []), outside, c.channels, c.dtype, `unbounded read of ${outside}`);
    });
  },

  /** An unaligned write without nonAlignedWrites is ALIGNMENT and changes nothing. */
  async unalignedRejected(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const { url, base } = await filledLayer(driver, c, "unaligned-rejected");
    const box = unalignedBox(c);
    const other = differentBox(base, box, `${caseLabel(c)} rejected`);
    await withVolume(await openLayer(driver, url), async (v) => {
      await expectCode(() => v.upload(box, other.data), "ALIGNMENT", `write of ${box} off the ${c.chunkSize.join("x")} grid`);
    });
    await readAll(driver, url, c, [base], `after the refused write of ${box}, the stored data`);
  },

  /** With nonAlignedWrites, unaligned writes paint exactly their box over what is stored. */
  async nonAlignedWrites(driver: FormatUnderTest, c: FormatCase): Promise<void> {
    const { url, base } = await filledLayer(driver, c, "non-aligned");
    const box1 = unalignedBox(c);
    const box2 = edgeBox(c);
    const p1 = differentBox(base, box1, `${caseLabel(c)} paint 1`);
    const afterFirst = { ...base, data: expectedCutout(c.dtype, c.channels, base.box, [base, p1]) };
    const p2 = differentBox(afterFirst, box2, `${caseLabel(c)} paint 2`);
    await withVolume(await openLayer(driver, url, { nonAlignedWrites: true }), async (v) => {
      await v.upload(box1, p1.data);
      await v.upload(box2, p2.data);
    });
    await readAll(driver, url, c, [base, p1, p2], `after non-aligned writes of ${box1} and ${box2}`);
  },
} satisfies Record<string, (driver: FormatUnderTest, c: FormatCase) => Promise<void>>;

export type FormatCheckName = keyof typeof formatChecks;

/** The cases describeFormat runs for one dtype and encoding. */
export function formatCases(dtype: DataType, encoding?: string): FormatCase[] {
  return DEFAULT_FORMAT_SHAPES.map(([x, y, z, channels]) => ({
    dtype, encoding, channels, size: [x, y, z] as Vec3, chunkSize: DEFAULT_FORMAT_CHUNK, voxelOffset: DEFAULT_FORMAT_OFFSET,
  }));
}

const CHECK_TITLES: Record<FormatCheckName, string> = {
  roundTrip: "write then read back exactly (whole volume and a chunk-crossing sub-box)",
  alignedPieces: "aligned writes of pieces assemble the volume",
  missingChunk: "a missing chunk is NOT_FOUND naming its key, background with fillMissing",
  outOfBounds: "out-of-bounds reads: OUT_OF_BOUNDS when bounded, background when bounded: false",
  unalignedRejected: "an unaligned write is ALIGNMENT and leaves the stored data unchanged",
  nonAlignedWrites: "nonAlignedWrites paints exactly the written box",
};

/**
 * Register the conformance suite for one format driver: for each encoding, dtype
 * and shape (2x2x1x1 and 10x11x12x4 at voxel offset (1,2,3), chunk size 4x4x4), one
 * test per check. `setup` is called once per test.
 */
export function describeFormat(name: string, setup: FormatSetup, opts: DescribeFormatOptions = {}): void {
  const dtypes = opts.dtypes ?? DATA_TYPES;
  const encodings: (string | undefined)[] = opts.encodings && opts.encodings.length > 0 ? opts.encodings : [undefined];
  describe(`Format conformance: ${name}`, () => {
    for (const encoding of encodings) {
      describe(`encoding ${encoding ?? "(default)"}`, () => {
        for (const dtype of dtypes) {
          describe(dtype, () => {
            for (const c of formatCases(dtype, encoding)) {
              for (const check of Object.keys(formatChecks) as FormatCheckName[]) {
                it(`${c.size.join("x")}x${c.channels}: ${CHECK_TITLES[check]}`, async () => {
                  await formatChecks[check](await setup(), c);
                });
              }
            }
          });
        }
      });
    }
  });
}
