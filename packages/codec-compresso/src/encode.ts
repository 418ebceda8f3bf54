import { CloudVolumeError, dtypeInfo, type ChunkSpec } from "@cloudvolume/core";
import { components } from "./decode.js";
import { FORMAT_VERSION, HEADER_BYTES, windowWidth, zindexWidth } from "./format.js";

/*
 * Encoding, the inverse of decode.ts, making the same choices as compresso 3.x does for
 * CloudVolume (4x4x1 windows, 4-connectivity, labels at the layer's width, format
 * version 1 with its z index), so that our streams are byte-identical to its.
 */

const STEPS: [number, number, number] = [4, 4, 1];
const CONNECTIVITY = 4;

function encodeFailed(chunk: ChunkSpec, what: string): CloudVolumeError {
  return new CloudVolumeError("ENCODE_FAILED", `compresso encode of chunk${chunk.key ? ` ${chunk.key}` : ""}: ${what}`, { key: chunk.key });
}

export function encodeCompresso(voxels: Uint8Array, chunk: ChunkSpec): Uint8Array {
  const [sx, sy, sz] = chunk.shape;
  if (chunk.channels !== 1) throw encodeFailed(chunk, `compresso holds one channel; the layer has ${chunk.channels}`);
  const info = dtypeInfo(chunk.dtype);
  if (info.float || info.signed) throw encodeFailed(chunk, `compresso encodes unsigned integer labels, not ${chunk.dtype}`);
  if (sx > 0xffff || sy > 0xffff || sz > 0xffff) throw encodeFailed(chunk, `chunk ${sx}x${sy}x${sz} exceeds compresso's 65535 per axis`);
  const bpv = info.bytes;
  const n = sx * sy * sz;
  if (voxels.byteLength !== n * bpv) throw encodeFailed(chunk, `${voxels.byteLength} bytes for a ${sx}x${sy}x${sz} chunk of ${chunk.dtype}`);
  const src = voxels.byteOffset % Math.min(bpv, 4) === 0 ? voxels : voxels.slice();
  const k = bpv === 8 ? 2 : 1;
  const v = bpv === 1 ? src : bpv === 2 ? new Uint16Array(src.buffer, src.byteOffset, n) : new Uint32Array(src.buffer, src.byteOffset, n * k);
  const eq = k === 1 ? (a: number, b: number) => v[a] === v[b] : (a: number, b: number) => v[2 * a] === v[2 * b] && v[2 * a + 1] === v[2 * b + 1];
  const sxy = sx * sy;

  // Boundaries: a voxel differing from its +x (else +y) neighbour.
  const boundaries = new Uint8Array(n);
  let i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    if ((x < sx - 1 && !eq(i, i + 1)) || (y < sy - 1 && !eq(i, i + sx))) boundaries[i] = 1;
  }

  // Components and their labels; the z index counts them per slice.
  const comp = new Uint32Array(n);
  const count = components(boundaries, sx, sy, sz, CONNECTIVITY, comp);
  const idsLo = new Uint32Array(count), idsHi = new Uint32Array(count);
  const idsPerSlice = new Array<number>(sz).fill(0);
  let seen = 0;
  for (let j = 0; j < n; j++) {
    const c = comp[j];
    if (c > seen) { // components are numbered in order of first voxel
      seen = c;
      idsLo[c - 1] = k === 1 ? v[j] : v[2 * j];
      if (k === 2) idsHi[c - 1] = v[2 * j + 1];
      idsPerSlice[Math.floor(j / sxy)]++;
    }
  }

  // Windows: one boundary bitfield per block.
  const [xstep, ystep, zstep] = STEPS;
  const ww = windowWidth(xstep, ystep, zstep);
  const nx = Math.ceil(sx / xstep), ny = Math.ceil(sy / ystep), nz = Math.ceil(sz / zstep);
  const windows = new Array<number>(nx * ny * nz).fill(0);
  i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    if (!boundaries[i]) continue;
    const block = Math.floor(x / xstep) + nx * (Math.floor(y / ystep) + ny * Math.floor(z / zstep));
    const offset = (x % xstep) + xstep * ((y % ystep) + ystep * (z % zstep));
    windows[block] += 2 ** offset;
  }
  const values = [...new Set(windows)].sort((a, b) => a - b);
  const indexOf = new Map(values.map((val, j) => [val, j]));
  // Run-length code the value indices; a run ends at max/2, as compresso's encoder does
  // (which then also writes the block that ended it).
  const maxRun = Math.floor((2 ** (8 * ww) - 1) / 2);
  const rle: number[] = [];
  let run = 0;
  for (const w of windows) {
    const idx = indexOf.get(w)!;
    if (idx === 0) {
      run++;
      if (run < maxRun) continue;
    }
    if (run) { rle.push(run * 2 + 1); run = 0; }
    rle.push(idx * 2);
  }
  if (run) rle.push(run * 2 + 1);

  // Indeterminate locations, and their count per slice.
  const locs: number[] = []; // pairs (lo, hi)
  const locsPerSlice = new Array<number>(sz).fill(0);
  const push = (lo: number, hi: number, z: number) => { locs.push(lo, hi); locsPerSlice[z]++; };
  const maxLo = bpv >= 4 ? 0xffffffff : 2 ** (8 * bpv) - 1;
  i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    if (!boundaries[i]) continue;
    if (x > 0 && !boundaries[i - 1]) continue;
    if (y > 0 && !boundaries[i - sx]) continue;
    const same = (j: number) => !boundaries[j] && eq(j, i);
    if (x > 0 && same(i - 1)) push(0, 0, z);
    else if (x < sx - 1 && same(i + 1)) push(1, 0, z);
    else if (y > 0 && same(i - sx)) push(2, 0, z);
    else if (y < sy - 1 && same(i + sx)) push(3, 0, z);
    // No copies across z slices (codes 4 and 5): format version 1 decodes each slice alone.
    else {
      const lo = k === 1 ? v[i] : v[2 * i], hi = k === 2 ? v[2 * i + 1] : 0;
      const top = k === 2 ? hi === 0xffffffff && lo > 0xffffffff - 7 : lo > maxLo - 7;
      if (top) { push(6, 0, z); push(lo, hi, z); }
      else if (lo + 7 > 0xffffffff) push(lo + 7 - 2 ** 32, hi + 1, z);
      else push(lo + 7, hi, z);
    }
  }

  // Assemble: header, ids, values, locations, windows, z index.
  const zw = zindexWidth(sx, sy);
  const nlocs = locs.length / 2;
  const size = HEADER_BYTES + count * bpv + values.length * ww + nlocs * bpv + rle.length * ww + 2 * sz * zw;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set([0x63, 0x70, 0x73, 0x6f, FORMAT_VERSION, bpv]);
  dv.setUint16(6, sx, true); dv.setUint16(8, sy, true); dv.setUint16(10, sz, true);
  out[12] = xstep; out[13] = ystep; out[14] = zstep;
  dv.setBigUint64(15, BigInt(count), true);
  dv.setUint32(23, values.length, true);
  dv.setBigUint64(27, BigInt(nlocs), true);
  out[35] = CONNECTIVITY;
  let p = HEADER_BYTES;
  const put = (width: number, lo: number, hi = 0) => {
    if (width === 1) out[p] = lo;
    else if (width === 2) dv.setUint16(p, lo, true);
    else if (width === 4) dv.setUint32(p, lo, true);
    else { dv.setUint32(p, lo, true); dv.setUint32(p + 4, hi, true); }
    p += width;
  };
  const putWide = (width: number, value: number) => (width === 8 ? put(8, value % 2 ** 32, Math.floor(value / 2 ** 32)) : put(width, value));
  for (let c = 0; c < count; c++) put(bpv, idsLo[c], idsHi[c]);
  for (const val of values) putWide(ww, val);
  for (let j = 0; j < locs.length; j += 2) put(bpv, locs[j], locs[j + 1]);
  for (const r of rle) putWide(ww, r);
  for (const c of idsPerSlice) putWide(zw, c);
  // compresso 3.x records the location counts one slice late (entry z holds slice z-1's
  // count, entry 0 is 0, the last slice's is not stored); written so for identical bytes.
  for (let z = 0; z < sz; z++) putWide(zw, z === 0 ? 0 : locsPerSlice[z - 1]);
  return out;
}
