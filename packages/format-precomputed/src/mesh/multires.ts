import { CloudVolumeError } from "@cloudvolume/core";
import { decodeDraco, encodeDraco } from "./draco.js";
import { Mesh } from "./mesh.js";

/** A multi-resolution mesh manifest (Neuroglancer meshes.md, `neuroglancer_multilod_draco`). */
export interface MultiresManifest {
  chunkShape: [number, number, number];
  gridOrigin: [number, number, number];
  lodScales: number[];
  /** [numLods][3] */
  vertexOffsets: Array<[number, number, number]>;
  /** Per lod: fragment grid positions ([n][3]) and byte sizes, in file (Morton) order. */
  fragments: Array<{ positions: Array<[number, number, number]>; sizes: number[] }>;
}

export function decodeManifest(bytes: Uint8Array, key = "manifest"): MultiresManifest {
  const fail = (m: string) => new CloudVolumeError("DECODE_FAILED", `multires mesh manifest ${key}: ${m}`, { key });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => { if (at + n > bytes.byteLength) throw fail(`truncated at byte ${at} (${bytes.byteLength} bytes)`); };
  const f32 = () => { need(4); const v = dv.getFloat32(at, true); at += 4; return v; };
  const u32 = () => { need(4); const v = dv.getUint32(at, true); at += 4; return v; };
  const chunkShape: [number, number, number] = [f32(), f32(), f32()];
  const gridOrigin: [number, number, number] = [f32(), f32(), f32()];
  const numLods = u32();
  if (numLods > 64) throw fail(`implausible number of lods ${numLods}`);
  const lodScales = Array.from({ length: numLods }, f32);
  const vertexOffsets = Array.from({ length: numLods }, () => [f32(), f32(), f32()] as [number, number, number]);
  const counts = Array.from({ length: numLods }, u32);
  const fragments = counts.map((n) => {
    need(n * 16);
    const xs = Array.from({ length: n }, u32);
    const ys = Array.from({ length: n }, u32);
    const zs = Array.from({ length: n }, u32);
    const sizes = Array.from({ length: n }, u32);
    return { positions: xs.map((x, i) => [x, ys[i], zs[i]] as [number, number, number]), sizes };
  });
  if (at !== bytes.byteLength) throw fail(`${bytes.byteLength - at} bytes after the manifest`);
  return { chunkShape, gridOrigin, lodScales, vertexOffsets, fragments };
}

export function encodeManifest(m: MultiresManifest): Uint8Array {
  const n = m.lodScales.length;
  const total = m.fragments.reduce((s, f) => s + f.sizes.length, 0);
  const out = new Uint8Array(4 * (7 + n * 5 + total * 4));
  const dv = new DataView(out.buffer);
  let at = 0;
  const f32 = (v: number) => { dv.setFloat32(at, v, true); at += 4; };
  const u32 = (v: number) => { dv.setUint32(at, v, true); at += 4; };
  m.chunkShape.forEach(f32);
  m.gridOrigin.forEach(f32);
  u32(n);
  m.lodScales.forEach(f32);
  m.vertexOffsets.forEach((o) => o.forEach(f32));
  m.fragments.forEach((f) => u32(f.sizes.length));
  for (const f of m.fragments) {
    for (let d = 0; d < 3; d++) f.positions.forEach((p) => u32(p[d]));
    f.sizes.forEach(u32);
  }
  return out;
}

/** Total fragment bytes of every lod (the data before the manifest in a sharded entry). */
export function manifestDataSize(m: MultiresManifest): number {
  return m.fragments.reduce((s, f) => s + f.sizes.reduce((a, b) => a + b, 0), 0);
}

/**
 * Decode the fragments of one lod from `data` (all fragments, lod 0 first) into one mesh in
 * stored model space: grid_origin + vertex_offsets[lod] + chunk_shape * 2^lod * (position + q / (2^bits - 1)).
 */
export async function decodeLod(m: MultiresManifest, data: Uint8Array, lod: number, bits: number, key: string, transform?: readonly number[]): Promise<Mesh> {
  let at = 0;
  for (let l = 0; l < lod; l++) at += m.fragments[l].sizes.reduce((a, b) => a + b, 0);
  const { positions, sizes } = m.fragments[lod];
  const scale = 2 ** lod;
  const qmax = 2 ** bits - 1;
  const meshes: Mesh[] = [];
  for (let i = 0; i < sizes.length; i++) {
    if (at + sizes[i] > data.byteLength) {
      throw new CloudVolumeError("DECODE_FAILED", `multires mesh ${key}: fragment ${i} of lod ${lod} ends at byte ${at + sizes[i]}, past the ${data.byteLength} bytes of data`, { key });
    }
    if (sizes[i] === 0) continue;
    const frag = await decodeDraco(data.subarray(at, at + sizes[i]), `${key} (lod ${lod}, fragment ${i})`);
    at += sizes[i];
    const v = frag.vertices;
    const out = new Float32Array(v.length);
    const f = Math.fround;
    // CloudVolume's arithmetic (numpy): q / qmax in float32, the rest in float64, the
    // transform applied in float64, float32 at the end; so results match it bit for bit.
    const p = [0, 0, 0];
    for (let j = 0; j < v.length; j += 3) {
      for (let d = 0; d < 3; d++) {
        const cs = f(m.chunkShape[d] * scale);
        p[d] = f(m.gridOrigin[d] + m.vertexOffsets[lod][d]) + cs * (positions[i][d] + f(v[j + d] / qmax));
      }
      if (transform) {
        for (let d = 0; d < 3; d++) out[j + d] = transform[4 * d] * p[0] + transform[4 * d + 1] * p[1] + transform[4 * d + 2] * p[2] + transform[4 * d + 3];
      } else {
        out.set(p, j);
      }
    }
    meshes.push(new Mesh(out, frag.faces));
  }
  return Mesh.concatenate(...meshes);
}

export interface MultiresEncodeOptions {
  /** vertex_quantization_bits of the mesh info (10 or 16). */
  bits: number;
  /** Fragment chunk shape at lod 0 (stored units); default: powers of two covering the mesh (one fragment). */
  chunkShape?: readonly number[];
  /** Grid origin (stored units); default: the floor of the meshes' minimum corner. */
  gridOrigin?: readonly number[];
}

/**
 * Encode one segment as a multires mesh: lods[i] is the mesh (stored model space) of lod i.
 * Each lod is split into fragment chunks (a face goes to the chunk holding its centroid; each
 * fragment keeps the vertices its faces use, quantized relative to that chunk; a face that
 * leaves its chunk is an INVALID_ARGUMENT: faces are not split at chunk boundaries).
 * Returns the manifest and the fragment data (lod 0 first, Morton order within a lod).
 */
export async function encodeMultires(lods: Mesh[], opts: MultiresEncodeOptions): Promise<{ manifest: MultiresManifest; data: Uint8Array }> {
  const bits = opts.bits;
  const qmax = 2 ** bits - 1;
  const all = Mesh.concatenate(...lods);
  const b = all.numVertices > 0 ? all.bounds() : { min: [0, 0, 0], max: [1, 1, 1] };
  const gridOrigin = (opts.gridOrigin ?? b.min.map(Math.floor)) as [number, number, number];
  // Power-of-two chunk shapes keep the grid the same when a decoded mesh is written again
  // (its bounds move by less than a quantization step), so rewrites reproduce it exactly.
  const chunkShape = (opts.chunkShape ?? b.max.map((hi, d) => 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(hi - gridOrigin[d]) + 1))))) as [number, number, number];
  const manifest: MultiresManifest = {
    chunkShape: [...chunkShape] as [number, number, number],
    gridOrigin: [...gridOrigin] as [number, number, number],
    lodScales: lods.map((_, i) => 2 ** i),
    vertexOffsets: lods.map(() => [0, 0, 0] as [number, number, number]),
    fragments: [],
  };
  const parts: Uint8Array[] = [];
  for (let lod = 0; lod < lods.length; lod++) {
    const mesh = lods[lod];
    const cs = chunkShape.map((c) => c * 2 ** lod);
    // Group faces by the chunk of their centroid.
    const groups = new Map<string, { pos: [number, number, number]; faces: number[] }>();
    for (let f = 0; f < mesh.faces.length; f += 3) {
      const pos = [0, 1, 2].map((d) => {
        let s = 0;
        for (let k = 0; k < 3; k++) s += mesh.vertices[3 * mesh.faces[f + k] + d];
        return Math.max(0, Math.floor((s / 3 - gridOrigin[d]) / cs[d]));
      }) as [number, number, number];
      const key = pos.join(",");
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { pos, faces: [] }));
      g.faces.push(mesh.faces[f], mesh.faces[f + 1], mesh.faces[f + 2]);
    }
    const ordered = [...groups.values()].sort((x, y) => morton(x.pos) < morton(y.pos) ? -1 : 1);
    const positions: Array<[number, number, number]> = [];
    const sizes: number[] = [];
    for (const g of ordered) {
      const remap = new Map<number, number>();
      const verts: number[] = [];
      const faces = new Uint32Array(g.faces.length);
      g.faces.forEach((vi, k) => {
        let j = remap.get(vi);
        if (j === undefined) {
          j = remap.size;
          remap.set(vi, j);
          for (let d = 0; d < 3; d++) {
            const q = Math.round(((mesh.vertices[3 * vi + d] - gridOrigin[d]) / cs[d] - g.pos[d]) * qmax);
            if (q < 0 || q > qmax) {
              throw new CloudVolumeError("INVALID_ARGUMENT", `multires mesh lod ${lod}: a face crosses the fragment chunk at grid position ${g.pos.join(",")} (chunk shape ${cs.join(",")}); use a larger chunkShape or leave it unset for one fragment`);
            }
            verts.push(q);
          }
        }
        faces[k] = j;
      });
      const bytes = await encodeDraco(new Mesh(Float32Array.from(verts), faces), bits);
      positions.push(g.pos);
      sizes.push(bytes.byteLength);
      parts.push(bytes);
    }
    manifest.fragments.push({ positions, sizes });
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.byteLength; }
  return { manifest, data };
}

function morton(p: readonly number[]): bigint {
  let code = 0n;
  let bit = 0n;
  for (let i = 0; i < 21; i++) {
    for (let d = 0; d < 3; d++) {
      if ((p[d] >> i) & 1) code |= 1n << bit;
      bit++;
    }
  }
  return code;
}
