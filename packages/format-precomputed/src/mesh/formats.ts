import { CloudVolumeError } from "@cloudvolume/core";
import { Mesh } from "./mesh.js";

const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bytesOfLE(a: Float32Array | Uint32Array): Uint8Array {
  if (le) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(4 * i, a[i], true);
    else dv.setUint32(4 * i, a[i], true);
  }
  return out;
}

/**
 * Legacy precomputed fragment: uint32 LE vertex count, float32 LE [n][3] vertices, then
 * uint32 LE triangle indices to the end.
 */
export function encodeLegacyFragment(mesh: Mesh): Uint8Array {
  const out = new Uint8Array(4 + mesh.vertices.byteLength + mesh.faces.byteLength);
  new DataView(out.buffer).setUint32(0, mesh.numVertices, true);
  out.set(bytesOfLE(mesh.vertices), 4);
  out.set(bytesOfLE(mesh.faces), 4 + mesh.vertices.byteLength);
  return out;
}

export function decodeLegacyFragment(bytes: Uint8Array, key = "fragment"): Mesh {
  const fail = (m: string) => new CloudVolumeError("DECODE_FAILED", `legacy mesh fragment ${key}: ${m}`, { key });
  if (bytes.byteLength < 4) throw fail(`${bytes.byteLength} bytes, too short for a vertex count`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nv = dv.getUint32(0, true);
  const vEnd = 4 + nv * 12;
  if (vEnd > bytes.byteLength) throw fail(`${nv} vertices need ${vEnd} bytes, have ${bytes.byteLength}`);
  const rest = bytes.byteLength - vEnd;
  if (rest % 12 !== 0) throw fail(`${rest} bytes of face indices is not a whole number of triangles`);
  const vertices = new Float32Array(nv * 3);
  for (let i = 0; i < vertices.length; i++) vertices[i] = dv.getFloat32(4 + 4 * i, true);
  const faces = new Uint32Array(rest / 4);
  for (let i = 0; i < faces.length; i++) {
    const f = dv.getUint32(vEnd + 4 * i, true);
    if (f >= nv) throw fail(`face index ${f} out of range (${nv} vertices)`);
    faces[i] = f;
  }
  return new Mesh(vertices, faces);
}

/** Binary little-endian PLY (float x y z; uchar-counted uint vertex_indices). */
export function toPly(mesh: Mesh): Uint8Array {
  const header = "ply\nformat binary_little_endian 1.0\n"
    + `element vertex ${mesh.numVertices}\nproperty float x\nproperty float y\nproperty float z\n`
    + `element face ${mesh.numFaces}\nproperty list uchar uint vertex_indices\nend_header\n`;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(h.byteLength + mesh.vertices.byteLength + mesh.numFaces * 13);
  out.set(h, 0);
  out.set(bytesOfLE(mesh.vertices), h.byteLength);
  const dv = new DataView(out.buffer);
  let at = h.byteLength + mesh.vertices.byteLength;
  for (let f = 0; f < mesh.faces.length; f += 3) {
    out[at] = 3;
    dv.setUint32(at + 1, mesh.faces[f], true);
    dv.setUint32(at + 5, mesh.faces[f + 1], true);
    dv.setUint32(at + 9, mesh.faces[f + 2], true);
    at += 13;
  }
  return out;
}

/** Float32 printed with the shortest decimal that reads back to the same float32. */
export function formatFloat32(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** Wavefront OBJ: `v x y z` lines then `f a b c` lines with 1-based indices. */
export function toObj(mesh: Mesh): string {
  const lines: string[] = [];
  const v = mesh.vertices;
  for (let i = 0; i < v.length; i += 3) lines.push(`v ${formatFloat32(v[i])} ${formatFloat32(v[i + 1])} ${formatFloat32(v[i + 2])}`);
  const f = mesh.faces;
  for (let i = 0; i < f.length; i += 3) lines.push(`f ${f[i] + 1} ${f[i + 1] + 1} ${f[i + 2] + 1}`);
  return lines.join("\n") + "\n";
}

/** `{"vertices": [[x,y,z], ...], "faces": [[a,b,c], ...]}` (float32 values printed shortest). */
export function toJson(mesh: Mesh): string {
  const v = mesh.vertices;
  const f = mesh.faces;
  const vs: string[] = [];
  for (let i = 0; i < v.length; i += 3) vs.push(`[${formatFloat32(v[i])},${formatFloat32(v[i + 1])},${formatFloat32(v[i + 2])}]`);
  const fs: string[] = [];
  for (let i = 0; i < f.length; i += 3) fs.push(`[${f[i]},${f[i + 1]},${f[i + 2]}]`);
  return `{"vertices":[${vs.join(",")}],"faces":[${fs.join(",")}]}\n`;
}

export type MeshFileFormat = "ply" | "obj" | "json" | "precomputed";

export function encodeMeshFile(mesh: Mesh, format: MeshFileFormat): Uint8Array {
  switch (format) {
    case "ply": return toPly(mesh);
    case "obj": return new TextEncoder().encode(toObj(mesh));
    case "json": return new TextEncoder().encode(toJson(mesh));
    case "precomputed": return encodeLegacyFragment(mesh);
    default: throw new CloudVolumeError("INVALID_ARGUMENT", `unknown mesh file format ${JSON.stringify(format)}: use ply, obj, json or precomputed`);
  }
}
