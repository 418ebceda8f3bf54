import { expect } from "vitest";
import { isCloudVolumeError, viewAs, type ArrayCodec, type DataType, type ErrorCode, type Plugin, type TypedArray } from "@cloudvolume/core";
import { compressedSegmentationCodec } from "@cloudvolume/codec-compressed-segmentation";
import { readExpected, readGroundTruth } from "@cloudvolume/testing";

import { seededRandom as rng } from "@cloudvolume/testing";
export { rng };

/** A fixture's ground truth, addressed in the volume's own voxel coordinates. */
export interface Truth {
  dtype: DataType;
  shape: [number, number, number, number];
  min: [number, number, number];
  max: [number, number, number];
  values: TypedArray;
  at(x: number, y: number, z: number, c?: number): number | bigint;
  /** The distinct values of [min, max) (all channels), ascending. */
  uniqueIn(min: readonly number[], max: readonly number[]): Array<number | bigint>;
  /** The values of [min, max) in Fortran order (x, y, z, channel). */
  cutout(min: readonly number[], max: readonly number[]): Array<number | bigint>;
}

export function truth(name: string, mip?: number): Truth {
  const gt = readGroundTruth(name, mip);
  const exp = readExpected(name);
  const dtype = gt.dtype as DataType;
  const shape: [number, number, number, number] = [gt.shape[0], gt.shape[1], gt.shape[2], gt.shape[3] ?? 1];
  const min: [number, number, number] = mip ? [0, 0, 0] : ((exp.bounds_xyz?.min ?? [0, 0, 0]) as [number, number, number]);
  const max: [number, number, number] = [min[0] + shape[0], min[1] + shape[1], min[2] + shape[2]];
  const values = viewAs(gt.bytes, dtype);
  const at = (x: number, y: number, z: number, c = 0) =>
    values[x - min[0] + shape[0] * (y - min[1] + shape[1] * (z - min[2] + shape[2] * c))];
  const cutout = (a: readonly number[], b: readonly number[]) => {
    const out: Array<number | bigint> = [];
    for (let c = 0; c < shape[3]; c++) for (let z = a[2]; z < b[2]; z++) for (let y = a[1]; y < b[1]; y++) for (let x = a[0]; x < b[0]; x++) out.push(at(x, y, z, c));
    return out;
  };
  const uniqueIn = (a: readonly number[], b: readonly number[]) => ascending([...new Set(cutout(a, b))]);
  return { dtype, shape, min, max, values, at, uniqueIn, cutout };
}

export function ascending<T extends number | bigint>(v: T[]): T[] {
  return v.sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
}

/** A random box inside [min, max) (at least one voxel). */
export function randomBox(r: () => number, min: readonly number[], max: readonly number[]): [number, number, number, number, number, number] {
  const lo = [0, 0, 0];
  const hi = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const a = min[i] + Math.floor(r() * (max[i] - min[i]));
    const b = min[i] + Math.floor(r() * (max[i] - min[i]));
    lo[i] = Math.min(a, b);
    hi[i] = Math.max(a, b) + 1;
  }
  return [lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]];
}

/** Calls of each method of a wrapped codec. */
export interface CodecCalls {
  decode: number;
  labels: number;
  contains: number;
  readVoxel: number;
}

/**
 * A compressed_segmentation codec plugin that counts how it is used: passed as an extra
 * plugin it wins over the default one, so tests can prove what was (not) decoded.
 */
export function countingCseg(): { plugin: Plugin; calls: CodecCalls; reset(): void } {
  const calls: CodecCalls = { decode: 0, labels: 0, contains: 0, readVoxel: 0 };
  const c = compressedSegmentationCodec;
  const codec: ArrayCodec = {
    name: c.name,
    decode: (b, s, o) => (calls.decode++, c.decode(b, s, o)),
    encode: (v, s) => c.encode!(v, s),
    labels: (b, s) => (calls.labels++, c.labels!(b, s)),
    contains: (b, s, v) => (calls.contains++, c.contains!(b, s, v)),
    readVoxel: (b, s, x, y, z, ch) => (calls.readVoxel++, c.readVoxel!(b, s, x, y, z, ch)),
  };
  const plugin: Plugin = { kind: "codec", names: [c.name], package: "test-counting-cseg", load: async () => codec };
  return { plugin, calls, reset: () => Object.assign(calls, { decode: 0, labels: 0, contains: 0, readVoxel: 0 }) };
}

export { expectRejects as rejects } from "@cloudvolume/testing";
