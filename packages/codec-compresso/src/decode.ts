import { dtypeInfo, type ChunkSpec } from "@cloudvolume/core";
import { decodeFailed, readHeader, sections, type CompressoHeader, type Sections } from "./format.js";

/*
 * Decoding (stream format in format.ts): the run-length coded windows give each voxel's
 * boundary bit; the non-boundary voxels' connected components (4-connected within each
 * z slice, or 6-connected in 3D), numbered in raster order of their first voxel, take
 * their labels from `ids`; boundary voxels copy the left or upper neighbour when it is
 * not a boundary, else follow the next `locations` instruction. Every offset read is
 * checked against the stream: bad input is DECODE_FAILED, never a wrong or partial read.
 *
 * Labels are handled as 32-bit words (two per voxel for 64-bit layers), so no BigInt is
 * touched per voxel.
 */

/*
 * Scratch arrays reused from call to call (decoding is synchronous, so one set serves a
 * thread): fresh multi-megabyte buffers per chunk cost as much in page faults as the
 * decoding itself.
 */
const scratch = { u8: new Uint8Array(0), comp: new Uint32Array(0), parent: new Uint32Array(0), final: new Uint32Array(0) };
function scratchU8(n: number): Uint8Array {
  if (scratch.u8.length < n) scratch.u8 = new Uint8Array(n);
  return scratch.u8.subarray(0, n);
}
function scratchU32(which: "comp" | "parent" | "final", n: number): Uint32Array {
  if (scratch[which].length < n) scratch[which] = new Uint32Array(Math.max(n, scratch[which].length * 2));
  return scratch[which].subarray(0, n);
}

/** A label table: lo words, and hi words for 64-bit labels. */
interface Labels { lo: Uint32Array; hi?: Uint32Array }

function readLabels(bytes: Uint8Array, at: number, n: number, width: number, wide: boolean): Labels {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = new Uint32Array(n);
  const hi = wide ? new Uint32Array(n) : undefined;
  for (let i = 0, p = at; i < n; i++, p += width) {
    if (width === 1) lo[i] = bytes[p];
    else if (width === 2) lo[i] = dv.getUint16(p, true);
    else {
      lo[i] = dv.getUint32(p, true);
      if (hi) hi[i] = dv.getUint32(p + 4, true); // width 8 only reaches here for 64-bit layers (wide)
    }
  }
  return { lo, hi };
}

/** The windows, run-length decoded: a value index per block. */
function decodeWindows(bytes: Uint8Array, s: Sections, h: CompressoHeader, nblocks: number, key?: string): Uint32Array {
  const out = new Uint32Array(nblocks);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ww = s.windowWidth;
  let index = 0;
  for (let p = s.windows; p < s.windowsEnd; p += ww) {
    let v: number;
    if (ww === 1) v = bytes[p];
    else if (ww === 2) v = dv.getUint16(p, true);
    else if (ww === 4) v = dv.getUint32(p, true);
    else v = dv.getUint32(p + 4, true) * 2 ** 32 + dv.getUint32(p, true);
    const n = Math.floor(v / 2);
    if (v % 2 === 1) {
      index += n;
      if (index > nblocks) throw decodeFailed(key, `a run of ${n} windows passes the ${nblocks} blocks`);
    } else {
      if (index >= nblocks) throw decodeFailed(key, `more windows than the ${nblocks} blocks`);
      if (n >= h.valueSize) throw decodeFailed(key, `window value index ${n} is past the ${h.valueSize} values`);
      out[index++] = n;
    }
  }
  // The encoder codes every block (a trailing run included): fewer means a cut stream.
  if (index !== nblocks) throw decodeFailed(key, `the windows cover ${index} of ${nblocks} blocks (truncated?)`);
  return out;
}

/** Boundary bit per voxel (x fastest). */
export function decodeBoundaries(bytes: Uint8Array, h: CompressoHeader, s: Sections, key?: string): Uint8Array {
  const { sx, sy, sz, xstep, ystep, zstep } = h;
  const boundaries = scratchU8(sx * sy * sz);
  if (h.valueSize === 0) return boundaries.fill(0);
  const nx = Math.ceil(sx / xstep), ny = Math.ceil(sy / ystep), nz = Math.ceil(sz / zstep);
  const windows = decodeWindows(bytes, s, h, nx * ny * nz, key);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ww = s.windowWidth;
  const vlo = new Uint32Array(h.valueSize);
  const vhi = new Uint32Array(h.valueSize);
  for (let i = 0, p = s.values; i < h.valueSize; i++, p += ww) {
    vlo[i] = ww === 1 ? bytes[p] : ww === 2 ? dv.getUint16(p, true) : dv.getUint32(p, true);
    if (ww === 8) vhi[i] = dv.getUint32(p + 4, true);
  }
  let iv = 0;
  for (let z = 0; z < sz; z++) {
    const zb = nx * ny * Math.floor(z / zstep), zo = xstep * ystep * (z % zstep);
    for (let y = 0; y < sy; y++) {
      const yb = zb + nx * Math.floor(y / ystep), yo = zo + xstep * (y % ystep);
      for (let xb = 0, x = 0; xb < nx; xb++) {
        const w = windows[yb + xb];
        const lo = vlo[w], hi = vhi[w];
        for (let xo = 0; xo < xstep && x < sx; xo++, x++, iv++) {
          const bit = yo + xo;
          boundaries[iv] = bit < 32 ? (lo >>> bit) & 1 : (hi >>> (bit - 32)) & 1;
        }
      }
    }
  }
  return boundaries;
}

/**
 * Connected components of the non-boundary voxels, numbered 1, 2, ... in raster order of
 * their first voxel (0 on boundaries). Returns the count.
 */
export function components(boundaries: Uint8Array, sx: number, sy: number, sz: number, connectivity: 4 | 6, out: Uint32Array): number {
  // Union-find over provisional labels, each set's root its smallest label (the one
  // given at the set's first voxel in raster order); a voxel takes its left neighbour's
  // label when there is one, so unions happen only where runs meet the row above.
  const parent = scratchU32("parent", boundaries.length + 2);
  const sxy = sx * sy;
  let next = 1;
  let i = 0;
  for (let z = 0; z < sz; z++) {
    for (let y = 0; y < sy; y++) {
      let left = 0; // label of the voxel to the left (0: boundary or row start)
      for (let x = 0; x < sx; x++, i++) {
        if (boundaries[i]) { out[i] = 0; left = 0; continue; }
        let l = left;
        for (let pass = 0; pass < 2; pass++) {
          let nb = 0;
          if (pass === 0) { if (y > 0 && !boundaries[i - sx]) nb = out[i - sx]; }
          else if (connectivity === 6 && z > 0 && !boundaries[i - sxy]) nb = out[i - sxy];
          if (!nb) continue;
          if (!l) { l = nb; continue; }
          if (nb === l) continue;
          // union(l, nb): roots by path halving; the smaller root wins
          let a = l, b = nb;
          while (parent[a] !== a) { parent[a] = parent[parent[a]]; a = parent[a]; }
          while (parent[b] !== b) { parent[b] = parent[parent[b]]; b = parent[b]; }
          if (a < b) parent[b] = a;
          else if (b < a) parent[a] = b;
        }
        if (!l) { parent[next] = next; l = next++; }
        out[i] = l;
        left = l;
      }
    }
  }
  // Final numbers in order of each set's smallest provisional label (cc3d's relabelling).
  const final = scratchU32("final", next);
  final[0] = 0; // boundary voxels stay 0
  let count = 0;
  for (let p = 1; p < next; p++) {
    let r = p;
    while (parent[r] !== r) r = parent[r];
    final[p] = r === p ? ++count : final[r];
  }
  for (let j = 0; j < out.length; j++) out[j] = final[out[j]];
  return count;
}

/** Decode a compresso stream into Fortran-order voxels of `chunk.dtype` (1 channel). */
export function decodeCompresso(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Uint8Array {
  const key = chunk.key;
  const h = readHeader(bytes, key);
  const bpv = dtypeInfo(chunk.dtype).bytes;
  if (chunk.channels !== 1) throw decodeFailed(key, `compresso holds one channel; the layer has ${chunk.channels}`);
  if (h.sx !== chunk.shape[0] || h.sy !== chunk.shape[1] || h.sz !== chunk.shape[2]) {
    throw decodeFailed(key, `the stream is ${h.sx}x${h.sy}x${h.sz}, the chunk ${chunk.shape.join("x")}`);
  }
  if (h.dataWidth > bpv) throw decodeFailed(key, `${h.dataWidth}-byte labels do not fit the layer's ${chunk.dtype}`);
  const s = sections(h, bytes.byteLength, key);
  const voxels = h.sx * h.sy * h.sz;
  const result = out ?? new Uint8Array(voxels * bpv);
  if (result.byteLength !== voxels * bpv) throw decodeFailed(key, `output buffer has ${result.byteLength} bytes, the chunk needs ${voxels * bpv}`);
  if (voxels === 0) return result;
  const wide = bpv === 8;
  const ids = readLabels(bytes, s.ids, h.idSize, h.dataWidth, wide);
  const locs = readLabels(bytes, s.locations, h.locationSize, h.dataWidth, wide);
  const max = bpv >= 4 ? 0xffffffff : 2 ** (8 * bpv) - 1;
  if (!wide) for (const t of [ids.lo, locs.lo]) for (let i = 0; i < t.length; i++) if (t[i] > max) throw decodeFailed(key, `label ${t[i]} does not fit ${chunk.dtype}`);

  const boundaries = decodeBoundaries(bytes, h, s, key);
  const comp = scratchU32("comp", voxels);
  const count = components(boundaries, h.sx, h.sy, h.sz, h.connectivity, comp);
  if (count !== h.idSize) throw decodeFailed(key, `the boundaries give ${count} connected components, the stream has ${h.idSize} ids`);

  // Words per voxel: 2 for 64-bit layers (lo, hi), else 1 of the dtype's width.
  const k = wide ? 2 : 1;
  const v = bpv === 1 ? result : bpv === 2 ? new Uint16Array(result.buffer, result.byteOffset, voxels) : new Uint32Array(result.buffer, result.byteOffset, voxels * k);
  if (result.byteOffset % Math.min(bpv, 4) !== 0) throw decodeFailed(key, "output buffer is not aligned to the label width");
  const idLo = ids.lo, idHi = ids.hi;
  if (k === 1) {
    for (let i = 0; i < voxels; i++) { const c = comp[i]; if (c) v[i] = idLo[c - 1]; }
  } else {
    for (let i = 0, w = 0; i < voxels; i++, w += 2) { const c = comp[i]; if (c) { v[w] = idLo[c - 1]; v[w + 1] = idHi![c - 1]; } }
  }

  // Boundary voxels: copy a neighbour, or follow the next location instruction.
  const { sx, sy, sz, connectivity } = h;
  const sxy = sx * sy;
  const locLo = locs.lo, locHi = locs.hi;
  const nloc = h.locationSize;
  let index = 0;
  const where = (i: number) => `(${i % sx},${Math.floor(i / sx) % sy},${Math.floor(i / sxy)})`;
  let i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    if (!boundaries[i]) continue;
    let from = -1; // voxel to copy, or -1 for a literal label (lo, hi)
    let lo = 0, hi = 0;
    if (x > 0 && !boundaries[i - 1]) from = i - 1;
    else if (y > 0 && !boundaries[i - sx]) from = i - sx;
    else if (connectivity === 6 && z > 0 && !boundaries[i - sxy]) from = i - sxy;
    else {
      if (index >= nloc) throw decodeFailed(key, `boundary voxel ${where(i)} needs location ${index}, the stream has ${nloc}`);
      lo = locLo[index]; hi = locHi ? locHi[index] : 0;
      const code = hi === 0 && lo < 7 ? lo : 7;
      let ok = true;
      switch (code) {
        case 0: ok = x > 0; from = i - 1; break;
        case 1: ok = x < sx - 1; from = i + 1; break;
        case 2: ok = y > 0; from = i - sx; break;
        case 3: ok = y < sy - 1; from = i + sx; break;
        case 4: ok = z > 0; from = i - sxy; break;
        case 5: ok = z < sz - 1; from = i + sxy; break;
        case 6:
          index++;
          if (index >= nloc) throw decodeFailed(key, `boundary voxel ${where(i)}: location code 6 is the last location, without its label`);
          lo = locLo[index]; hi = locHi ? locHi[index] : 0;
          break;
        default:
          // label = entry - 7 (with the borrow into the high word)
          if (lo >= 7) lo -= 7;
          else { lo = lo + 2 ** 32 - 7; hi -= 1; }
      }
      if (!ok) throw decodeFailed(key, `location ${index} (code ${code}) points outside the chunk at boundary voxel ${where(i)}`);
      index++;
    }
    if (k === 1) v[i] = from >= 0 ? v[from] : lo;
    else if (from >= 0) { v[2 * i] = v[2 * from]; v[2 * i + 1] = v[2 * from + 1]; }
    else { v[2 * i] = lo; v[2 * i + 1] = hi; }
  }
  if (index !== h.locationSize) throw decodeFailed(key, `${h.locationSize - index} of ${h.locationSize} locations are left over (corrupt)`);
  return result;
}

/** The header of a stream (compresso.header). */
export { readHeader };
