import { CloudVolumeError } from "@cloudvolume/core";
import type { NgffAxis } from "./metadata.js";

/*
 * How a zarr array's index axes become the engine's x, y, z and channel.
 *
 * Without names, they are the zarr axes reversed: the last zarr axis is x, then y, z, and
 * the fourth from the end is the channel, so a cutout's Fortran-order bytes (x fastest)
 * are the array's C-order bytes; 1-D and 2-D arrays get size-1 axes. Axes before those
 * four are "fixed": read at one index (a time axis at the `t` option, default 0; others at
 * 0). OME-NGFF axis names (multiscales[0].axes) win over positions: "x", "y", "z", the
 * axis of type "channel" (or named "c"), the axis of type "time" (or named "t").
 * The `channel` option fixes the channel axis too (one channel, at that index), which is
 * how arrays chunked along channels are read (the engine's chunks hold every channel).
 */

export interface FixedAxis {
  /** The zarr axis. */
  axis: number;
  index: number;
  name: string;
}

export interface AxisMap {
  ndim: number;
  /** The zarr axis of x, y, z and channel; -1 when the array has none (size 1). */
  x: number;
  y: number;
  z: number;
  c: number;
  fixed: FixedAxis[];
  /** Axis names, when OME-NGFF gave them. */
  names?: string[];
}

export interface AxisOptions {
  /** Index of the time axis to read (default 0). */
  t?: number;
  /** Read this one channel (required when chunks split the channel axis). */
  channel?: number;
}

export function axisMap(shape: readonly number[], axes: readonly NgffAxis[] | undefined, opts: AxisOptions, where: { key: string; url: string }): AxisMap {
  const ndim = shape.length;
  let x = -1, y = -1, z = -1, c = -1, t = -1;
  const named = axes !== undefined && axes.length === ndim && axes.some((a) => a.name === "x");
  if (named) {
    axes!.forEach((a, i) => {
      const n = a.name.toLowerCase();
      const type = a.type?.toLowerCase();
      if (n === "x") x = i;
      else if (n === "y") y = i;
      else if (n === "z") z = i;
      else if (type === "channel" || (type === undefined && n === "c")) c = c < 0 ? i : c;
      else if (type === "time" || (type === undefined && n === "t")) t = t < 0 ? i : t;
    });
  } else {
    x = ndim - 1;
    y = ndim >= 2 ? ndim - 2 : -1;
    z = ndim >= 3 ? ndim - 3 : -1;
    c = ndim >= 4 ? ndim - 4 : -1;
    t = ndim >= 5 ? ndim - 5 : -1;
  }
  const names = named ? axes!.map((a) => a.name) : undefined;
  const label = (i: number) => names?.[i] ?? `axis ${i}`;
  const fixed: FixedAxis[] = [];
  const fix = (axis: number, index: number, what: string) => {
    if (!Number.isInteger(index) || index < 0 || index >= shape[axis]) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `${what} ${index} is outside ${label(axis)} of ${where.url} (0..${shape[axis] - 1})`, { url: where.url, key: where.key });
    }
    fixed.push({ axis, index, name: label(axis) });
  };
  if (opts.channel !== undefined) {
    if (c < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `option channel=${opts.channel}: ${where.url} has no channel axis`, { url: where.url, key: where.key });
    fix(c, opts.channel, "channel");
    c = -1;
  }
  const used = new Set([x, y, z, c]);
  for (let i = 0; i < ndim; i++) {
    if (used.has(i) || fixed.some((f) => f.axis === i)) continue;
    if (i === t) fix(i, opts.t ?? 0, "t");
    else fix(i, 0, "index");
  }
  if (opts.t !== undefined && t < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `option t=${opts.t}: ${where.url} has no time axis`, { url: where.url, key: where.key });
  fixed.sort((a, b) => a.axis - b.axis);
  return { ndim, x, y, z, c, fixed, names };
}

/** Element strides of a zarr chunk of `chunks` in `order`. */
export function chunkStrides(chunks: readonly number[], order: "C" | "F"): number[] {
  const n = chunks.length;
  const st = new Array<number>(n);
  let s = 1;
  if (order === "C") for (let i = n - 1; i >= 0; i--) { st[i] = s; s *= chunks[i]; }
  else for (let i = 0; i < n; i++) { st[i] = s; s *= chunks[i]; }
  return st;
}

/**
 * How the engine's voxels (Fortran x, y, z, c over `shape` x `channels`) sit in a zarr
 * chunk: element strides per engine axis and the offset of the fixed axes' slice.
 * `identity`: the chunk's element order is exactly the engine's (C order, reversed axes,
 * nothing else in the chunk), so no element moves.
 */
export interface ChunkLayout {
  strides: [number, number, number, number];
  offset: number;
  /** Elements in the zarr chunk. */
  elements: number;
  identity: boolean;
}

/**
 * Element strides of a chunk stored with its axes permuted: stored axis i is array axis
 * `perm[i]`, in C order (zarr v3's transpose codec; v2's "F" order is the reversed
 * permutation).
 */
export function permutedStrides(chunks: readonly number[], perm: readonly number[]): number[] {
  const st = new Array<number>(chunks.length);
  let s = 1;
  for (let i = perm.length - 1; i >= 0; i--) { st[perm[i]] = s; s *= chunks[perm[i]]; }
  return st;
}

/** `st`: element strides of the stored chunk per zarr axis (chunkStrides / permutedStrides). */
export function chunkLayout(map: AxisMap, chunks: readonly number[], st: readonly number[], shape: readonly [number, number, number], channels: number): ChunkLayout {
  const pick = (a: number) => (a < 0 ? 0 : st[a]);
  const strides: [number, number, number, number] = [pick(map.x), pick(map.y), pick(map.z), pick(map.c)];
  let offset = 0;
  for (const f of map.fixed) offset += (f.index % chunks[f.axis]) * st[f.axis];
  const elements = chunks.reduce((a, b) => a * b, 1);
  const ext = [shape[0], shape[1], shape[2], channels];
  const want = [1, ext[0], ext[0] * ext[1], ext[0] * ext[1] * ext[2]];
  const identity = offset === 0 && ext[0] * ext[1] * ext[2] * ext[3] === elements && strides.every((s, d) => ext[d] === 1 || s === want[d]);
  return { strides, offset, elements, identity };
}

type Words = Uint8Array | Uint16Array | Uint32Array;
function words(b: Uint8Array, bpv: number): { w: Words; k: number } {
  if (bpv === 1) return { w: b, k: 1 };
  if (bpv === 2) return { w: new Uint16Array(b.buffer, b.byteOffset, b.byteLength >> 1), k: 1 };
  return { w: new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2), k: bpv >> 2 };
}

/** An aligned view of `b` for `bpv`-byte elements (a copy when it is not aligned). */
export function aligned(b: Uint8Array, bpv: number): Uint8Array {
  const a = bpv >= 4 ? 4 : bpv;
  return b.byteOffset % a === 0 ? b : b.slice();
}

/**
 * Copy between a zarr chunk (`zarr`, C or F order over its chunk shape) and engine voxels
 * (`vox`, Fortran x, y, z, c). `toEngine`: zarr -> vox, else vox -> zarr.
 */
export function moveElements(zarr: Uint8Array, vox: Uint8Array, layout: ChunkLayout, shape: readonly [number, number, number], channels: number, bpv: number, toEngine: boolean): void {
  const { w: zw, k } = words(aligned(zarr, bpv), bpv);
  const { w: vw } = words(vox, bpv);
  const [sx, sy, sz, sc] = layout.strides.map((s) => s * k);
  const [nx, ny, nz] = shape;
  let v = 0;
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        let p = layout.offset * k + c * sc + z * sz + y * sy;
        if (k === 1) {
          if (toEngine) for (let x = 0; x < nx; x++, p += sx) vw[v++] = zw[p];
          else for (let x = 0; x < nx; x++, p += sx) zw[p] = vw[v++];
        } else {
          for (let x = 0; x < nx; x++, p += sx) {
            for (let j = 0; j < k; j++) {
              if (toEngine) vw[v * k + j] = zw[p + j];
              else zw[p + j] = vw[v * k + j];
            }
            v++;
          }
        }
      }
    }
  }
  if (!toEngine && zw.buffer !== zarr.buffer) zarr.set(new Uint8Array(zw.buffer, zw.byteOffset, zw.byteLength));
}

/** Reverse the byte order of every `width`-byte element, in place (big-endian zarr dtypes). */
export function swapBytes(b: Uint8Array, width: number): void {
  if (width <= 1) return;
  if (b.byteOffset % width === 0 && width === 2) {
    const w = new Uint16Array(b.buffer, b.byteOffset, b.byteLength >> 1);
    for (let i = 0; i < w.length; i++) { const v = w[i]; w[i] = (v >>> 8) | ((v & 0xff) << 8); }
    return;
  }
  if (b.byteOffset % 4 === 0 && (width === 4 || width === 8)) {
    const w = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
    const bs = (v: number) => ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) >>> 0;
    if (width === 4) for (let i = 0; i < w.length; i++) w[i] = bs(w[i]);
    else for (let i = 0; i < w.length; i += 2) { const a = w[i]; w[i] = bs(w[i + 1]); w[i + 1] = bs(a); }
    return;
  }
  for (let i = 0; i < b.byteLength; i += width) {
    for (let a = i, z = i + width - 1; a < z; a++, z--) { const t = b[a]; b[a] = b[z]; b[z] = t; }
  }
}
