import { CloudVolumeError } from "@cloudvolume/core";
import { Skeleton, type AttributeArray, type VertexAttributeSpec } from "./skeleton.js";

/**
 * The Precomputed skeleton binary (neuroglancer skeletons.md, shared/spec/precomputed.md):
 * u32 num_vertices, u32 num_edges, f32 [nv][3] vertices, u32 [ne][2] edges, then for each
 * `vertex_attributes` entry nv * num_components values of its data_type, all little-endian.
 * A buffer that ends right after the edges has no attributes.
 */

const ATTRIBUTE_TYPES = {
  float32: Float32Array, float64: Float64Array,
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
} as const;
export type AttributeDataType = keyof typeof ATTRIBUTE_TYPES;

/** CloudVolume's default vertex_attributes (radius float32, vertex_types uint8). */
export const DEFAULT_VERTEX_ATTRIBUTES: VertexAttributeSpec[] = [
  { id: "radius", data_type: "float32", num_components: 1 },
  { id: "vertex_types", data_type: "uint8", num_components: 1 },
];

export function attributeArrayType(dataType: string, where = "vertex_attributes"): (typeof ATTRIBUTE_TYPES)[AttributeDataType] {
  const T = (ATTRIBUTE_TYPES as Record<string, (typeof ATTRIBUTE_TYPES)[AttributeDataType]>)[dataType];
  if (!T) throw new CloudVolumeError("INVALID_METADATA", `${where}: data_type ${JSON.stringify(dataType)} is not one of ${Object.keys(ATTRIBUTE_TYPES).join(", ")}`);
  return T;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copy `count` little-endian values of type T from `bytes` at `offset` into a fresh, aligned array. */
function readLE<A extends AttributeArray | Float32Array | Uint32Array>(T: new (n: number) => A, bytes: Uint8Array, offset: number, count: number): A {
  const out = new T(count);
  const esz = (out as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const dst = new Uint8Array(out.buffer);
  dst.set(bytes.subarray(offset, offset + count * esz));
  if (!LE && esz > 1) for (let i = 0; i < dst.length; i += esz) dst.subarray(i, i + esz).reverse();
  return out;
}

function fail(message: string, key?: string): CloudVolumeError {
  return new CloudVolumeError("DECODE_FAILED", `skeleton${key ? ` ${key}` : ""}: ${message}`, { key });
}

/**
 * Decode a skeleton binary. The result is in voxel space (as stored, before `transform`);
 * `id` and `transform` are recorded on it. Malformed input throws DECODE_FAILED.
 */
export function decodeSkeleton(
  bytes: Uint8Array,
  opts: { id?: bigint; vertexAttributes?: readonly VertexAttributeSpec[]; transform?: readonly number[]; key?: string } = {},
): Skeleton {
  const key = opts.key;
  if (bytes.byteLength < 8) throw fail(`${bytes.byteLength} bytes is shorter than the 8-byte header`, key);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nv = dv.getUint32(0, true);
  const ne = dv.getUint32(4, true);
  const edgesEnd = 8 + nv * 12 + ne * 8;
  if (bytes.byteLength < edgesEnd) {
    throw fail(`header says ${nv} vertices and ${ne} edges (${edgesEnd} bytes) but the buffer has ${bytes.byteLength} bytes`, key);
  }
  const vertices = readLE(Float32Array, bytes, 8, nv * 3);
  const edges = readLE(Uint32Array, bytes, 8 + nv * 12, ne * 2);
  for (let i = 0; i < edges.length; i++) {
    if (edges[i] >= nv) throw fail(`edge ${i >> 1} refers to vertex ${edges[i]}, but there are ${nv} vertices`, key);
  }
  const specs = opts.vertexAttributes ?? DEFAULT_VERTEX_ATTRIBUTES;
  const attributes: Record<string, AttributeArray> = {};
  let used: VertexAttributeSpec[] = [...specs];
  if (bytes.byteLength === edgesEnd) {
    used = [];
  } else {
    let at = edgesEnd;
    for (const s of specs) {
      const T = attributeArrayType(s.data_type);
      const count = nv * s.num_components;
      const size = count * T.BYTES_PER_ELEMENT;
      if (at + size > bytes.byteLength) throw fail(`attribute ${s.id} (${count} x ${s.data_type}) runs past the end of the buffer (${bytes.byteLength} bytes)`, key);
      attributes[s.id] = readLE(T as unknown as new (n: number) => AttributeArray, bytes, at, count);
      at += size;
    }
    if (at !== bytes.byteLength) throw fail(`${bytes.byteLength - at} trailing bytes after the vertex attributes (${specs.map((s) => s.id).join(", ")})`, key);
  }
  return new Skeleton({ vertices, edges, attributes, vertexAttributes: used, id: opts.id, transform: opts.transform, space: "voxel" });
}

/**
 * Encode a skeleton as stored (its vertices as they are: convert to voxel space first).
 * Attributes are written in `vertexAttributes` order (default: the skeleton's own);
 * an attribute the skeleton lacks is written as zeros.
 */
export function encodeSkeleton(skel: Skeleton, vertexAttributes: readonly VertexAttributeSpec[] = skel.vertexAttributes): Uint8Array {
  const nv = skel.numVertices;
  const ne = skel.numEdges;
  let size = 8 + nv * 12 + ne * 8;
  const parts: Uint8Array[] = [];
  for (const s of vertexAttributes) {
    const T = attributeArrayType(s.data_type);
    const count = nv * s.num_components;
    const have = skel.attributes[s.id];
    let arr: AttributeArray;
    if (!have) arr = new T(count);
    else {
      if (have.length !== count) throw new CloudVolumeError("ENCODE_FAILED", `skeleton ${skel.id ?? ""}: attribute ${s.id} has ${have.length} values, expected ${count} (${nv} vertices x ${s.num_components})`);
      arr = have instanceof T ? have : (T as unknown as { from(a: ArrayLike<number>): AttributeArray }).from(have as ArrayLike<number>);
    }
    const b = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
    if (!LE && arr.BYTES_PER_ELEMENT > 1) for (let i = 0; i < b.length; i += arr.BYTES_PER_ELEMENT) b.subarray(i, i + arr.BYTES_PER_ELEMENT).reverse();
    parts.push(b);
    size += b.byteLength;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nv, true);
  dv.setUint32(4, ne, true);
  let at = 8;
  for (let i = 0; i < nv * 3; i++, at += 4) dv.setFloat32(at, skel.vertices[i], true);
  for (let i = 0; i < ne * 2; i++, at += 4) dv.setUint32(at, skel.edges[i], true);
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
