/**
 * A triangle mesh: vertices (float32 [n][3], row-major), faces (uint32 [m][3]) and optional
 * per-vertex normals. Operations return new meshes and never modify their inputs.
 */
export class Mesh {
  constructor(
    readonly vertices: Float32Array,
    readonly faces: Uint32Array,
    readonly normals?: Float32Array,
    /** The segment id this mesh belongs to, when known. */
    public segid?: bigint,
  ) {}

  get numVertices(): number { return this.vertices.length / 3; }
  get numFaces(): number { return this.faces.length / 3; }

  static empty(): Mesh { return new Mesh(new Float32Array(0), new Uint32Array(0)); }

  /** Join meshes into one, renumbering each one's faces after the vertices before it. */
  static concatenate(...meshes: Mesh[]): Mesh {
    let nv = 0;
    let nf = 0;
    for (const m of meshes) { nv += m.vertices.length; nf += m.faces.length; }
    const vertices = new Float32Array(nv);
    const faces = new Uint32Array(nf);
    const withNormals = meshes.length > 0 && meshes.every((m) => m.normals && m.normals.length === m.vertices.length);
    const normals = withNormals ? new Float32Array(nv) : undefined;
    let vo = 0;
    let fo = 0;
    for (const m of meshes) {
      vertices.set(m.vertices, vo);
      if (normals) normals.set(m.normals!, vo);
      const base = vo / 3;
      for (let i = 0; i < m.faces.length; i++) faces[fo + i] = m.faces[i] + base;
      vo += m.vertices.length;
      fo += m.faces.length;
    }
    const segids = new Set(meshes.map((m) => m.segid));
    return new Mesh(vertices, faces, normals, segids.size === 1 ? meshes[0]?.segid : undefined);
  }

  /**
   * CloudVolume's Mesh.consolidate: merge identical vertices (the result's vertices are the
   * distinct ones in ascending lexicographic (x, y, z) order), renumber the faces, and keep
   * only distinct faces in ascending lexicographic order. Normals are dropped.
   */
  consolidate(): Mesh {
    if (this.faces.length === 0) return new Mesh(this.vertices.slice(), this.faces.slice(), this.normals?.slice(), this.segid);
    const { vertices, remap } = uniqueRows(this.vertices);
    const faces = new Uint32Array(this.faces.length);
    for (let i = 0; i < faces.length; i++) faces[i] = remap[this.faces[i]];
    return new Mesh(vertices, uniqueFaces(faces), undefined, this.segid);
  }

  /** Merge identical vertices (first occurrence order) and renumber the faces; face order kept. */
  deduplicate(): Mesh {
    const n = this.numVertices;
    const seen = new Map<string, number>();
    const remap = new Uint32Array(n);
    const keep: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = `${this.vertices[3 * i]},${this.vertices[3 * i + 1]},${this.vertices[3 * i + 2]}`;
      let j = seen.get(k);
      if (j === undefined) { j = keep.length; seen.set(k, j); keep.push(i); }
      remap[i] = j;
    }
    const vertices = new Float32Array(keep.length * 3);
    const normals = this.normals ? new Float32Array(keep.length * 3) : undefined;
    keep.forEach((src, dst) => {
      vertices.set(this.vertices.subarray(3 * src, 3 * src + 3), 3 * dst);
      normals?.set(this.normals!.subarray(3 * src, 3 * src + 3), 3 * dst);
    });
    const faces = new Uint32Array(this.faces.length);
    for (let i = 0; i < faces.length; i++) faces[i] = remap[this.faces[i]];
    return new Mesh(vertices, faces, normals, this.segid);
  }

  /**
   * Keep the faces whose three vertices all lie in [min, max) and the vertices they use
   * (in their original order).
   */
  crop(min: readonly number[], max: readonly number[]): Mesh {
    const n = this.numVertices;
    const inside = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let ok = 1;
      for (let d = 0; d < 3; d++) {
        const v = this.vertices[3 * i + d];
        if (!(v >= min[d] && v < max[d])) ok = 0;
      }
      inside[i] = ok;
    }
    const keptFaces: number[] = [];
    const used = new Uint8Array(n);
    for (let f = 0; f < this.faces.length; f += 3) {
      const a = this.faces[f], b = this.faces[f + 1], c = this.faces[f + 2];
      if (inside[a] && inside[b] && inside[c]) { keptFaces.push(a, b, c); used[a] = used[b] = used[c] = 1; }
    }
    const remap = new Int32Array(n).fill(-1);
    let k = 0;
    for (let i = 0; i < n; i++) if (used[i]) remap[i] = k++;
    const vertices = new Float32Array(k * 3);
    const normals = this.normals ? new Float32Array(k * 3) : undefined;
    for (let i = 0; i < n; i++) {
      if (remap[i] < 0) continue;
      vertices.set(this.vertices.subarray(3 * i, 3 * i + 3), 3 * remap[i]);
      normals?.set(this.normals!.subarray(3 * i, 3 * i + 3), 3 * remap[i]);
    }
    return new Mesh(vertices, Uint32Array.from(keptFaces, (i) => remap[i]), normals, this.segid);
  }

  /** Apply a 3x4 row-major affine transform (stored → physical) to the vertices. */
  transformed(t: readonly number[] | undefined): Mesh {
    if (!t || isIdentity(t)) return this;
    return new Mesh(applyTransform(this.vertices, t), this.faces, this.normals, this.segid);
  }

  /** Bounding box of the vertices: [min, max] (inclusive). */
  bounds(): { min: [number, number, number]; max: [number, number, number] } {
    const min: [number, number, number] = [Infinity, Infinity, Infinity];
    const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < this.vertices.length; i += 3) {
      for (let d = 0; d < 3; d++) {
        const v = this.vertices[i + d];
        if (v < min[d]) min[d] = v;
        if (v > max[d]) max[d] = v;
      }
    }
    return { min, max };
  }

  /** Same vertices, faces and normals (bitwise for the float arrays' values). */
  equals(other: Mesh): boolean {
    return arrEq(this.vertices, other.vertices) && arrEq(this.faces, other.faces)
      && (this.normals === undefined) === (other.normals === undefined)
      && (this.normals === undefined || arrEq(this.normals, other.normals!));
  }
}

function arrEq(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

export function isIdentity(t: readonly number[]): boolean {
  const id = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  return t.length === 12 && t.every((v, i) => v === id[i]);
}

/** Apply a 3x4 row-major affine to [n][3] float32 vertices (computed in float64, stored float32). */
export function applyTransform(v: Float32Array, t: readonly number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i += 3) {
    const x = v[i], y = v[i + 1], z = v[i + 2];
    out[i] = t[0] * x + t[1] * y + t[2] * z + t[3];
    out[i + 1] = t[4] * x + t[5] * y + t[6] * z + t[7];
    out[i + 2] = t[8] * x + t[9] * y + t[10] * z + t[11];
  }
  return out;
}

/** The inverse of a 3x4 row-major affine transform. */
export function invertTransform(t: readonly number[]): number[] {
  const [a, b, c, tx, d, e, f, ty, g, h, i, tz] = t;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (!det) throw new RangeError("mesh transform is singular");
  const m = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  return [
    m[0], m[1], m[2], -(m[0] * tx + m[1] * ty + m[2] * tz),
    m[3], m[4], m[5], -(m[3] * tx + m[4] * ty + m[5] * tz),
    m[6], m[7], m[8], -(m[6] * tx + m[7] * ty + m[8] * tz),
  ];
}

function cmpRow(a: ArrayLike<number>, i: number, j: number): number {
  for (let d = 0; d < 3; d++) {
    const x = a[3 * i + d], y = a[3 * j + d];
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** numpy.unique(rows, axis=0, return_inverse=True) for [n][3] float32. */
function uniqueRows(v: Float32Array): { vertices: Float32Array; remap: Uint32Array } {
  const n = v.length / 3;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => cmpRow(v, i, j) || i - j);
  const remap = new Uint32Array(n);
  const out: number[] = [];
  let k = -1;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    if (r === 0 || cmpRow(v, order[r - 1], i) !== 0) {
      k++;
      out.push(v[3 * i], v[3 * i + 1], v[3 * i + 2]);
    }
    remap[i] = k;
  }
  return { vertices: Float32Array.from(out), remap };
}

function uniqueFaces(f: Uint32Array): Uint32Array {
  const n = f.length / 3;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => cmpRow(f, i, j));
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    const i = order[r];
    if (r === 0 || cmpRow(f, order[r - 1], i) !== 0) out.push(f[3 * i], f[3 * i + 1], f[3 * i + 2]);
  }
  return Uint32Array.from(out);
}
