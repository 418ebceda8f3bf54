import { CloudVolumeError } from "@cloudvolume/core";

/**
 * A skeleton: float32 vertices [n][3] (flat), uint32 edges [m][2] (flat, undirected) and
 * per-vertex attributes (radius, vertex_types, or any `vertex_attributes` entry). The
 * operations follow the semantics of osteoid's Skeleton (the class CloudVolume returns);
 * every one returns a new Skeleton and leaves `this` alone.
 */

export type AttributeArray = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface VertexAttributeSpec {
  id: string;
  data_type: string;
  num_components: number;
}

export type Space = "voxel" | "physical";

/** 3x4 row-major identity affine. */
export const IDENTITY_TRANSFORM: readonly number[] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];

export interface SkeletonInit {
  vertices: Float32Array | ArrayLike<number>;
  edges?: Uint32Array | ArrayLike<number>;
  attributes?: Record<string, AttributeArray>;
  /** How the attributes are described in an info file; default: inferred from `attributes`. */
  vertexAttributes?: readonly VertexAttributeSpec[];
  id?: bigint;
  /** 3x4 row-major voxel -> physical affine (default identity). */
  transform?: readonly number[];
  /** Whether `vertices` are before (voxel) or after (physical) `transform`; default physical. */
  space?: Space;
}

const TYPE_NAMES: Array<[new (n: number) => AttributeArray, string]> = [
  [Float32Array, "float32"], [Float64Array, "float64"], [Uint8Array, "uint8"], [Int8Array, "int8"],
  [Uint16Array, "uint16"], [Int16Array, "int16"], [Uint32Array, "uint32"], [Int32Array, "int32"],
];

function typeName(a: AttributeArray): string {
  for (const [T, n] of TYPE_NAMES) if (a instanceof T) return n;
  return "float32";
}

function ctorOf(a: AttributeArray): new (n: number) => AttributeArray {
  return a.constructor as new (n: number) => AttributeArray;
}


export class Skeleton {
  vertices: Float32Array;
  edges: Uint32Array;
  attributes: Record<string, AttributeArray>;
  vertexAttributes: VertexAttributeSpec[];
  id?: bigint;
  transform: number[];
  space: Space;

  constructor(init: SkeletonInit) {
    this.vertices = init.vertices instanceof Float32Array ? init.vertices : Float32Array.from(init.vertices);
    this.edges = init.edges instanceof Uint32Array ? init.edges : Uint32Array.from(init.edges ?? []);
    if (this.vertices.length % 3 !== 0) throw new CloudVolumeError("INVALID_ARGUMENT", `skeleton vertices must be [n][3]; got ${this.vertices.length} numbers`);
    if (this.edges.length % 2 !== 0) throw new CloudVolumeError("INVALID_ARGUMENT", `skeleton edges must be [m][2]; got ${this.edges.length} numbers`);
    const nv = this.numVertices;
    for (let i = 0; i < this.edges.length; i++) {
      if (this.edges[i] >= nv) throw new CloudVolumeError("INVALID_ARGUMENT", `skeleton edge ${i >> 1} refers to vertex ${this.edges[i]}, but there are ${nv} vertices`);
    }
    this.attributes = { ...(init.attributes ?? {}) };
    this.vertexAttributes = init.vertexAttributes
      ? init.vertexAttributes.map((s) => ({ ...s }))
      : Object.entries(this.attributes).map(([id, a]) => ({ id, data_type: typeName(a), num_components: nv ? a.length / nv : 1 }));
    this.id = init.id;
    this.transform = [...(init.transform ?? IDENTITY_TRANSFORM)];
    if (this.transform.length !== 12) throw new CloudVolumeError("INVALID_ARGUMENT", `skeleton transform must have 12 numbers (3x4 row-major); got ${this.transform.length}`);
    this.space = init.space ?? "physical";
  }

  get numVertices(): number { return this.vertices.length / 3; }
  get numEdges(): number { return this.edges.length / 2; }
  get radius(): AttributeArray | undefined { return this.attributes.radius; }
  get vertexTypes(): AttributeArray | undefined { return this.attributes.vertex_types; }
  get empty(): boolean { return this.numVertices === 0; }

  /** Vertices as [[x, y, z], ...]. */
  vertexList(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.vertices.length; i += 3) out.push([this.vertices[i], this.vertices[i + 1], this.vertices[i + 2]]);
    return out;
  }

  edgeList(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.edges.length; i += 2) out.push([this.edges[i], this.edges[i + 1]]);
    return out;
  }

  /** `{vertices, edges, attributes}` plain JSON (the CLI's JSON form). */
  toJSON(): { vertices: number[][]; edges: number[][]; attributes: Record<string, number[]> } {
    const attributes: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(this.attributes)) attributes[k] = Array.from(v as ArrayLike<number>);
    return { vertices: this.vertexList(), edges: this.edgeList(), attributes };
  }

  clone(): Skeleton {
    const attributes: Record<string, AttributeArray> = {};
    for (const [k, v] of Object.entries(this.attributes)) attributes[k] = v.slice();
    return new Skeleton({
      vertices: this.vertices.slice(), edges: this.edges.slice(), attributes, vertexAttributes: this.vertexAttributes,
      id: this.id, transform: this.transform, space: this.space,
    });
  }

  /** A skeleton with the same metadata and the given vertices (by old index, in order) and edges (new indices). */
  private subset(keep: ArrayLike<number>, edges: ArrayLike<number>, vertices?: Float32Array): Skeleton {
    const n = keep.length;
    const v = vertices ?? new Float32Array(n * 3);
    if (!vertices) for (let i = 0; i < n; i++) v.set(this.vertices.subarray(keep[i] * 3, keep[i] * 3 + 3), i * 3);
    const attributes: Record<string, AttributeArray> = {};
    const nv = this.numVertices;
    for (const [k, a] of Object.entries(this.attributes)) {
      const c = nv ? a.length / nv : 1;
      const out = new (ctorOf(a))(n * c);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) out[i * c + j] = a[keep[i] * c + j];
      attributes[k] = out;
    }
    return new Skeleton({ vertices: v, edges: Uint32Array.from(edges), attributes, vertexAttributes: this.vertexAttributes, id: this.id, transform: this.transform, space: this.space });
  }

  // ---- spaces ------------------------------------------------------------------------

  /** The skeleton in physical space (transform applied), as CloudVolume's skeleton.get returns it. */
  physicalSpace(): Skeleton {
    const s = this.clone();
    if (this.space === "physical") return s;
    const t = this.transform;
    const v = s.vertices;
    for (let i = 0; i < v.length; i += 3) {
      const [x, y, z] = [v[i], v[i + 1], v[i + 2]];
      v[i] = t[0] * x + t[1] * y + t[2] * z + t[3];
      v[i + 1] = t[4] * x + t[5] * y + t[6] * z + t[7];
      v[i + 2] = t[8] * x + t[9] * y + t[10] * z + t[11];
    }
    s.space = "physical";
    return s;
  }

  /** The skeleton in voxel space (inverse transform applied), as it is stored. */
  voxelSpace(): Skeleton {
    const s = this.clone();
    if (this.space === "voxel") return s;
    const t = this.transform;
    const [a, b, c, d, e, f, g, h, k] = [t[0], t[1], t[2], t[4], t[5], t[6], t[8], t[9], t[10]];
    const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
    if (det === 0) throw new CloudVolumeError("INVALID_ARGUMENT", "the skeleton transform is singular; cannot convert to voxel space");
    const inv = [
      (e * k - f * h) / det, (c * h - b * k) / det, (b * f - c * e) / det,
      (f * g - d * k) / det, (a * k - c * g) / det, (c * d - a * f) / det,
      (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
    ];
    const v = s.vertices;
    for (let i = 0; i < v.length; i += 3) {
      const [x, y, z] = [v[i] - t[3], v[i + 1] - t[7], v[i + 2] - t[11]];
      v[i] = inv[0] * x + inv[1] * y + inv[2] * z;
      v[i + 1] = inv[3] * x + inv[4] * y + inv[5] * z;
      v[i + 2] = inv[6] * x + inv[7] * y + inv[8] * z;
    }
    s.space = "voxel";
    return s;
  }

  // ---- graph -------------------------------------------------------------------------

  /** Neighbour lists (duplicate edges and self-loops as they are). */
  adjacency(): number[][] {
    const adj: number[][] = Array.from({ length: this.numVertices }, () => []);
    for (let i = 0; i < this.edges.length; i += 2) {
      const a = this.edges[i];
      const b = this.edges[i + 1];
      adj[a].push(b);
      if (a !== b) adj[b].push(a);
    }
    return adj;
  }

  private degrees(): Uint32Array {
    const d = new Uint32Array(this.numVertices);
    for (let i = 0; i < this.edges.length; i++) d[this.edges[i]]++;
    return d;
  }

  /** Indices of vertices with exactly one edge. */
  terminals(): number[] {
    return [...this.degrees()].flatMap((d, i) => (d === 1 ? [i] : []));
  }

  /** Indices of branch points: vertices with three or more edges. */
  branches(): number[] {
    return [...this.degrees()].flatMap((d, i) => (d >= 3 ? [i] : []));
  }

  /** Sum of edge lengths in physical space (the transform is applied first when in voxel space), as osteoid. */
  cableLength(): number {
    let total = 0;
    const v = this.space === "voxel" ? this.physicalSpace().vertices : this.vertices;
    for (let i = 0; i < this.edges.length; i += 2) {
      const a = this.edges[i] * 3;
      const b = this.edges[i + 1] * 3;
      total += Math.hypot(v[a] - v[b], v[a + 1] - v[b + 1], v[a + 2] - v[b + 2]);
    }
    return total;
  }

  /** Vertex indices of each connected component (isolated vertices included), components by first vertex. */
  componentIndices(): number[][] {
    const adj = this.adjacency();
    const seen = new Uint8Array(this.numVertices);
    const out: number[][] = [];
    for (let s = 0; s < this.numVertices; s++) {
      if (seen[s]) continue;
      const comp: number[] = [];
      const stack = [s];
      seen[s] = 1;
      while (stack.length) {
        const n = stack.pop()!;
        comp.push(n);
        for (const m of adj[n]) if (!seen[m]) { seen[m] = 1; stack.push(m); }
      }
      out.push(comp.sort((a, b) => a - b));
    }
    return out;
  }

  /** The connected components as separate skeletons. */
  components(): Skeleton[] {
    const comps = this.componentIndices();
    const edgeOf = new Map<number, number>();
    comps.forEach((c, ci) => c.forEach((v) => edgeOf.set(v, ci)));
    return comps.map((c, ci) => {
      const remap = new Map(c.map((v, i) => [v, i]));
      const edges: number[] = [];
      for (let i = 0; i < this.edges.length; i += 2) {
        if (edgeOf.get(this.edges[i]) === ci) edges.push(remap.get(this.edges[i])!, remap.get(this.edges[i + 1])!);
      }
      return this.subset(c, edges);
    });
  }

  /**
   * Traversal paths (vertex indices), as osteoid's paths(): per component with edges, the
   * root is the vertex farthest (in hops) from its first vertex; every root-to-leaf path is
   * returned, listed leaf first (so paths share their root-side prefix).
   */
  pathIndices(): number[][] {
    const adj = this.adjacency();
    const out: number[][] = [];
    for (const comp of this.componentIndices()) {
      if (comp.length === 1 && adj[comp[0]].every((m) => m === comp[0])) continue;
      const root = farthest(adj, comp[0]);
      const seen = new Set<number>([root]);
      const queue: number[][] = [[root]];
      for (let q = 0; q < queue.length; q++) {
        const path = queue[q];
        const n = path[path.length - 1];
        const next = adj[n].filter((m) => !seen.has(m));
        if (next.length === 0) out.push([...path].reverse());
        for (const m of next) { seen.add(m); queue.push([...path, m]); }
      }
    }
    return out;
  }

  /** Traversal paths as vertex coordinates ([[x,y,z], ...] per path). */
  paths(): number[][][] {
    return this.pathIndices().map((p) => p.map((i) => [this.vertices[3 * i], this.vertices[3 * i + 1], this.vertices[3 * i + 2]]));
  }

  /** Paths between critical vertices (terminals and branch points), as osteoid's interjoint_paths. */
  interjointPathIndices(): number[][] {
    const adj = this.adjacency();
    const deg = adj.map((a) => a.length);
    const critical = (v: number) => deg[v] !== 2;
    const used = new Set<string>();
    const key = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);
    const out: number[][] = [];
    const walk = (start: number, first: number) => {
      const path = [start];
      let prev = start;
      let cur = first;
      used.add(key(prev, cur));
      while (true) {
        path.push(cur);
        if (critical(cur) || cur === start) break;
        const nxt = adj[cur].find((m) => !used.has(key(cur, m)));
        if (nxt === undefined) break;
        used.add(key(cur, nxt));
        prev = cur;
        cur = nxt;
      }
      void prev;
      out.push(path);
    };
    for (let v = 0; v < adj.length; v++) {
      if (!critical(v)) continue;
      if (deg[v] === 0) { out.push([v]); continue; }
      for (const m of adj[v]) if (!used.has(key(v, m)) && m !== v) walk(v, m);
    }
    for (let v = 0; v < adj.length; v++) {
      for (const m of adj[v]) if (!used.has(key(v, m)) && m !== v) walk(v, m); // pure cycles
    }
    return out;
  }

  // ---- transformations ---------------------------------------------------------------

  /**
   * As osteoid's consolidate: merge vertices at identical positions (the first one's
   * attributes win) and order vertices by position (x, then y, then z); edges become
   * [min, max], sorted, without duplicates or self-loops. By default vertices no edge
   * touches are dropped too (remove_disconnected_vertices), unless there are no edges.
   */
  consolidate(opts: { removeDisconnectedVertices?: boolean } = {}): Skeleton {
    const removeDisconnected = opts.removeDisconnectedVertices ?? true;
    const nv = this.numVertices;
    const v = this.vertices;
    const byPos = new Map<string, number>();
    const firsts: number[] = [];
    const group = new Uint32Array(nv);
    for (let i = 0; i < nv; i++) {
      const k = `${v[3 * i]},${v[3 * i + 1]},${v[3 * i + 2]}`;
      let g = byPos.get(k);
      if (g === undefined) { g = firsts.length; byPos.set(k, g); firsts.push(i); }
      group[i] = g;
    }
    const order = firsts.map((_, g) => g).sort((a, b) => {
      const ia = firsts[a] * 3;
      const ib = firsts[b] * 3;
      return v[ia] - v[ib] || v[ia + 1] - v[ib + 1] || v[ia + 2] - v[ib + 2];
    });
    const rankOf = new Uint32Array(firsts.length);
    order.forEach((g, r) => (rankOf[g] = r));
    const pairs = new Map<string, [number, number]>();
    for (let i = 0; i < this.edges.length; i += 2) {
      let a = rankOf[group[this.edges[i]]];
      let b = rankOf[group[this.edges[i + 1]]];
      if (a === b) continue;
      if (a > b) [a, b] = [b, a];
      pairs.set(`${a},${b}`, [a, b]);
    }
    const sorted = [...pairs.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let keep = order.map((g) => firsts[g]);
    let edges = sorted.flat();
    if (removeDisconnected && edges.length > 0) {
      const touched = new Uint8Array(keep.length);
      for (const e of edges) touched[e] = 1;
      const remap = new Int32Array(keep.length).fill(-1);
      const keep2: number[] = [];
      for (let i = 0; i < keep.length; i++) if (touched[i]) { remap[i] = keep2.length; keep2.push(keep[i]); }
      keep = keep2;
      edges = edges.map((e) => remap[e]);
    }
    return this.subset(keep, edges);
  }

  /** Keep the vertices inside [min, max] (inclusive, current space, as osteoid) and the edges between them, then consolidate. */
  crop(bbox: readonly number[] | { min: readonly number[]; max: readonly number[] }): Skeleton {
    const box = bbox as { min?: readonly number[]; max?: readonly number[] } & ArrayLike<number>;
    const [min, max] = box.min && box.max ? [box.min, box.max] : [[box[0], box[1], box[2]], [box[3], box[4], box[5]]];
    const inside = (i: number) => [0, 1, 2].every((d) => this.vertices[3 * i + d] >= min[d] && this.vertices[3 * i + d] <= max[d]);
    const keep: number[] = [];
    const remap = new Int32Array(this.numVertices).fill(-1);
    for (let i = 0; i < this.numVertices; i++) if (inside(i)) { remap[i] = keep.length; keep.push(i); }
    const edges: number[] = [];
    for (let i = 0; i < this.edges.length; i += 2) {
      const a = remap[this.edges[i]];
      const b = remap[this.edges[i + 1]];
      if (a >= 0 && b >= 0) edges.push(a, b);
    }
    return this.subset(keep, edges).consolidate();
  }

  /** Concatenate skeletons without consolidating (osteoid's simple_merge). Attributes one lacks are zero. */
  static simpleMerge(skels: readonly Skeleton[]): Skeleton {
    if (skels.length === 0) return new Skeleton({ vertices: [] });
    const first = skels[0];
    const specs = new Map<string, VertexAttributeSpec>();
    for (const s of skels) for (const a of s.vertexAttributes) if (!specs.has(a.id) && s.attributes[a.id]) specs.set(a.id, a);
    for (const s of skels) for (const [id, a] of Object.entries(s.attributes)) if (!specs.has(id)) specs.set(id, { id, data_type: typeName(a), num_components: s.numVertices ? a.length / s.numVertices : 1 });
    const nv = skels.reduce((n, s) => n + s.numVertices, 0);
    const ne = skels.reduce((n, s) => n + s.numEdges, 0);
    const vertices = new Float32Array(nv * 3);
    const edges = new Uint32Array(ne * 2);
    const attributes: Record<string, AttributeArray> = {};
    for (const spec of specs.values()) {
      const proto = skels.find((s) => s.attributes[spec.id])!.attributes[spec.id];
      attributes[spec.id] = new (ctorOf(proto))(nv * spec.num_components);
    }
    let vo = 0;
    let eo = 0;
    for (const s of skels) {
      const src = s.space === first.space ? s : first.space === "physical" ? s.physicalSpace() : s.voxelSpace();
      vertices.set(src.vertices, vo * 3);
      for (let i = 0; i < s.edges.length; i++) edges[eo * 2 + i] = s.edges[i] + vo;
      for (const spec of specs.values()) {
        const a = s.attributes[spec.id];
        if (a) attributes[spec.id].set(a as ArrayLike<number> as never, vo * spec.num_components);
      }
      vo += s.numVertices;
      eo += s.numEdges;
    }
    return new Skeleton({ vertices, edges, attributes, vertexAttributes: [...specs.values()], id: first.id, transform: first.transform, space: first.space });
  }

  /** Merge skeletons into one and consolidate (osteoid's Skeleton.merge). */
  static merge(skels: readonly Skeleton[]): Skeleton {
    return Skeleton.simpleMerge(skels).consolidate();
  }

  merge(other: Skeleton): Skeleton {
    return Skeleton.merge([this, other]);
  }

  /**
   * Keep every `factor`-th vertex of each interjoint path plus both of its ends (so
   * terminals and branch points always survive), reconnect them along the path, consolidate.
   */
  downsample(factor: number): Skeleton {
    if (!Number.isInteger(factor) || factor < 1) throw new CloudVolumeError("INVALID_ARGUMENT", `downsample factor must be an integer >= 1; got ${factor}`);
    if (factor === 1) return this.clone();
    const keepSet = new Map<number, number>();
    const keep: number[] = [];
    const edges: number[] = [];
    const idx = (v: number) => {
      let r = keepSet.get(v);
      if (r === undefined) { r = keep.length; keepSet.set(v, r); keep.push(v); }
      return r;
    };
    for (const path of this.interjointPathIndices()) {
      const picked = path.filter((_, i) => i % factor === 0);
      if (picked[picked.length - 1] !== path[path.length - 1]) picked.push(path[path.length - 1]);
      if (picked.length === 1) idx(picked[0]);
      for (let i = 1; i < picked.length; i++) edges.push(idx(picked[i - 1]), idx(picked[i]));
    }
    return this.subset(keep, edges).consolidate();
  }

  /**
   * Moving-average smoothing along each interjoint path, as osteoid's average_smoothing:
   * a window of `n` vertices (symmetric padding at the path's ends) run forwards and then
   * backwards (no group delay); path ends (terminals, branch points) stay fixed. n <= 1 is a
   * copy. `checkBoundary` refuses (INVALID_ARGUMENT) a vertex moved further than its radius.
   */
  averageSmoothing(n: number, opts: { checkBoundary?: boolean } = {}): Skeleton {
    if (!Number.isInteger(n) || n < 1) throw new CloudVolumeError("INVALID_ARGUMENT", `smoothing window must be an integer >= 1; got ${n}`);
    const out = this.clone();
    if (n <= 1) return out;
    const v = this.vertices;
    const radius = this.attributes.radius;
    for (const path of this.interjointPathIndices()) {
      const pts = path.map((i) => [v[3 * i], v[3 * i + 1], v[3 * i + 2]]);
      const smooth = movingAverage(movingAverage(pts, n).reverse(), n).reverse();
      for (let k = 1; k < path.length - 1; k++) {
        const i = path[k];
        if (opts.checkBoundary && radius) {
          const dist = Math.hypot(smooth[k][0] - pts[k][0], smooth[k][1] - pts[k][1], smooth[k][2] - pts[k][2]);
          if (dist > radius[i]) throw new CloudVolumeError("INVALID_ARGUMENT", `smoothing moved vertex ${i} by ${dist}, more than its radius ${radius[i]}`);
        }
        out.vertices.set(smooth[k], 3 * i);
      }
    }
    return out;
  }

  /**
   * Whether two skeletons describe the same graph: after consolidation, the same set of
   * vertex positions, the same edges between positions, and equal attributes per position.
   */
  static equivalent(a: Skeleton, b: Skeleton): boolean {
    const ca = a.consolidate({ removeDisconnectedVertices: false });
    const cb = (b.space === a.space ? b : a.space === "physical" ? b.physicalSpace() : b.voxelSpace()).consolidate({ removeDisconnectedVertices: false });
    if (ca.numVertices !== cb.numVertices || ca.numEdges !== cb.numEdges) return false;
    const pos = (s: Skeleton, i: number) => `${s.vertices[3 * i]},${s.vertices[3 * i + 1]},${s.vertices[3 * i + 2]}`;
    const mapB = new Map<string, number>();
    for (let i = 0; i < cb.numVertices; i++) mapB.set(pos(cb, i), i);
    const toB = new Int32Array(ca.numVertices);
    for (let i = 0; i < ca.numVertices; i++) {
      const j = mapB.get(pos(ca, i));
      if (j === undefined) return false;
      toB[i] = j;
    }
    const edgesB = new Set<string>();
    for (let i = 0; i < cb.edges.length; i += 2) edgesB.add(`${Math.min(cb.edges[i], cb.edges[i + 1])},${Math.max(cb.edges[i], cb.edges[i + 1])}`);
    for (let i = 0; i < ca.edges.length; i += 2) {
      const x = toB[ca.edges[i]];
      const y = toB[ca.edges[i + 1]];
      if (!edgesB.has(`${Math.min(x, y)},${Math.max(x, y)}`)) return false;
    }
    const ids = new Set([...Object.keys(ca.attributes), ...Object.keys(cb.attributes)]);
    for (const id of ids) {
      const x = ca.attributes[id];
      const y = cb.attributes[id];
      if (!x || !y || x.length !== y.length) return false;
      const c = ca.numVertices ? x.length / ca.numVertices : 1;
      for (let i = 0; i < ca.numVertices; i++) for (let k = 0; k < c; k++) if (x[i * c + k] !== y[toB[i] * c + k]) return false;
    }
    return true;
  }

  equivalent(other: Skeleton): boolean {
    return Skeleton.equivalent(this, other);
  }

  // ---- SWC ---------------------------------------------------------------------------

  /**
   * SWC text as osteoid writes it: `id type x y z radius parent` per vertex with x, y, z and
   * radius to 6 decimals, ids from 1 in depth-first order from each component's root (the
   * first vertex of its first edge), parent -1 for roots; vertices without edges are left
   * out. type is vertex_types (0 when absent), radius the radius attribute (-1 when absent).
   */
  toSwc(opts: { header?: string } = {}): string {
    const lines: string[] = [];
    lines.push(`# ${opts.header ?? `skeleton${this.id !== undefined ? ` ${this.id}` : ""} written by cloudvolume-ts`}`);
    lines.push("# id type x y z radius parent");
    const adj = this.adjacency();
    const swcId = new Int32Array(this.numVertices).fill(0);
    const compOf = new Int32Array(this.numVertices);
    const comps = this.componentIndices();
    comps.forEach((c, ci) => c.forEach((v) => (compOf[v] = ci)));
    const roots = new Map<number, number>();
    for (let i = 0; i < this.edges.length; i += 2) if (!roots.has(compOf[this.edges[i]])) roots.set(compOf[this.edges[i]], this.edges[i]);
    let next = 1;
    const radius = this.attributes.radius;
    const types = this.attributes.vertex_types;
    const fixed = (x: number) => x.toFixed(6);
    for (let ci = 0; ci < comps.length; ci++) {
      const root = roots.get(ci);
      if (root === undefined) continue;
      const stack: Array<[number, number]> = [[root, -1]];
      while (stack.length) {
        const [n, parent] = stack.pop()!;
        if (swcId[n]) continue;
        swcId[n] = next++;
        const v = this.vertices;
        lines.push([swcId[n], types ? types[n] : 0, fixed(v[3 * n]), fixed(v[3 * n + 1]), fixed(v[3 * n + 2]), fixed(radius ? radius[n] : -1), parent].join(" "));
        for (let k = adj[n].length - 1; k >= 0; k--) if (!swcId[adj[n][k]]) stack.push([adj[n][k], swcId[n]]);
      }
    }
    return lines.join("\n") + "\n";
  }

  /** Parse SWC text (comments `#`, blank lines ignored); vertices in file order, physical space. */
  static fromSwc(text: string, opts: { id?: bigint } = {}): Skeleton {
    const rows: number[][] = [];
    text.split(/\r?\n/).forEach((line, ln) => {
      const t = line.trim();
      if (!t || t.startsWith("#")) return;
      const f = t.split(/\s+/).map((x, i) => (i === 5 && !Number.isFinite(Number(x)) ? -1 : Number(x))); // radius NA -> -1, as osteoid
      if (f.length < 7 || f.slice(0, 7).some((x) => !Number.isFinite(x))) {
        throw new CloudVolumeError("DECODE_FAILED", `SWC line ${ln + 1}: expected "id type x y z radius parent", got ${JSON.stringify(t)}`);
      }
      rows.push(f);
    });
    const index = new Map<number, number>();
    rows.forEach((r, i) => {
      if (index.has(r[0])) throw new CloudVolumeError("DECODE_FAILED", `SWC: node id ${r[0]} appears twice`);
      index.set(r[0], i);
    });
    const vertices = new Float32Array(rows.length * 3);
    const radius = new Float32Array(rows.length);
    const types = new Uint8Array(rows.length);
    const edges: number[] = [];
    rows.forEach((r, i) => {
      vertices.set(r.slice(2, 5), 3 * i);
      radius[i] = r[5];
      types[i] = r[1];
      if (r[6] >= 0) {
        const p = index.get(r[6]);
        if (p === undefined) throw new CloudVolumeError("DECODE_FAILED", `SWC: node ${r[0]} has parent ${r[6]}, which is not in the file`);
        if (r[0] < r[6]) edges.push(i, p); // [smaller id, larger id], as osteoid
        else edges.push(p, i);
      }
    });
    return new Skeleton({
      vertices, edges, attributes: { radius, vertex_types: types },
      vertexAttributes: [{ id: "radius", data_type: "float32", num_components: 1 }, { id: "vertex_types", data_type: "uint8", num_components: 1 }],
      id: opts.id, space: "physical",
    });
  }
}

function farthest(adj: number[][], start: number): number {
  const dist = new Map<number, number>([[start, 0]]);
  const queue = [start];
  let last = start;
  for (let q = 0; q < queue.length; q++) {
    const n = queue[q];
    last = n;
    for (const m of adj[n]) if (!dist.has(m)) { dist.set(m, dist.get(n)! + 1); queue.push(m); }
  }
  return last;
}

/** Trailing moving average of window n with numpy "symmetric" padding (osteoid's lib.moving_average). */
function movingAverage(a: number[][], n: number): number[][] {
  const L = a.length;
  if (n <= 1 || L === 0) return a.map((p) => [...p]);
  const at = (k: number) => {
    const m = ((k % (2 * L)) + 2 * L) % (2 * L);
    return a[m < L ? m : 2 * L - 1 - m];
  };
  const out: number[][] = [];
  for (let i = 0; i < L; i++) {
    const acc = [0, 0, 0];
    for (let j = i - n + 1; j <= i; j++) {
      const p = at(j);
      acc[0] += p[0]; acc[1] += p[1]; acc[2] += p[2];
    }
    out.push(acc.map((x) => x / n));
  }
  return out;
}
