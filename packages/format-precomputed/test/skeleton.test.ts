import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { MemoryStore } from "@cloudvolume/storage-memory";
import { Skeleton, SkeletonSource, decodeSkeleton, encodeSkeleton } from "../src/index.js";

/** Skeleton binary and operations on small hand-checked cases. */

/** A path 0-1-2-3 along x (unit steps) with a branch 1-4-5 along y. */
function branched(): Skeleton {
  return new Skeleton({
    vertices: [0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 1, 1, 0, 1, 2, 0],
    edges: [0, 1, 1, 2, 2, 3, 1, 4, 4, 5],
    attributes: { radius: new Float32Array([1, 2, 3, 4, 5, 6]), vertex_types: new Uint8Array([1, 2, 3, 3, 3, 3]) },
    id: 7n,
  });
}

function line(n: number): Skeleton {
  const v: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < n; i++) v.push(i, 0, 0);
  for (let i = 1; i < n; i++) e.push(i - 1, i);
  return new Skeleton({ vertices: v, edges: e, attributes: { radius: Float32Array.from({ length: n }, (_, i) => i) } });
}

describe("skeleton binary", () => {
  it("encodes the documented layout and decodes it back, with arbitrary vertex_attributes", () => {
    const attrs = [
      { id: "radius", data_type: "float32", num_components: 1 },
      { id: "color", data_type: "uint16", num_components: 3 },
      { id: "labels", data_type: "int32", num_components: 1 },
    ];
    const s = new Skeleton({
      vertices: [1, 2, 3, 4, 5, 6], edges: [0, 1],
      attributes: { radius: new Float32Array([0.5, 1.5]), color: new Uint16Array([1, 2, 3, 65535, 5, 6]), labels: new Int32Array([-1, 7]) },
      vertexAttributes: attrs,
    });
    const bytes = encodeSkeleton(s);
    const dv = new DataView(bytes.buffer);
    expect(bytes.byteLength).toBe(8 + 2 * 12 + 8 + 2 * 4 + 2 * 6 + 2 * 4);
    expect([dv.getUint32(0, true), dv.getUint32(4, true)]).toEqual([2, 1]);
    expect(dv.getFloat32(8 + 12, true)).toBe(4);
    expect(dv.getUint32(8 + 24 + 4, true)).toBe(1);
    const back = decodeSkeleton(bytes, { vertexAttributes: attrs });
    expect(Array.from(back.vertices)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(back.edges)).toEqual([0, 1]);
    expect(back.attributes.color).toEqual(new Uint16Array([1, 2, 3, 65535, 5, 6]));
    expect(back.attributes.labels).toEqual(new Int32Array([-1, 7]));
    expect(back.attributes.radius).toEqual(new Float32Array([0.5, 1.5]));
  });

  it("a buffer ending after the edges has no attributes", () => {
    const bytes = encodeSkeleton(new Skeleton({ vertices: [0, 0, 0, 1, 1, 1], edges: [0, 1] }), []);
    const s = decodeSkeleton(bytes);
    expect(Object.keys(s.attributes)).toEqual([]);
    expect(s.numEdges).toBe(1);
  });

  it("malformed buffers are DECODE_FAILED", () => {
    const good = encodeSkeleton(branched());
    const cases = [
      new Uint8Array(3),
      good.subarray(0, 20),
      good.subarray(0, good.byteLength - 1),
      new Uint8Array([...good, 0]),
    ];
    const badEdge = good.slice();
    new DataView(badEdge.buffer).setUint32(8 + 6 * 12, 99, true);
    cases.push(badEdge);
    for (const c of cases) {
      let err: unknown;
      try { decodeSkeleton(c); } catch (e) { err = e; }
      expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    }
  });
});

describe("skeleton operations", () => {
  it("cableLength of a known path", () => {
    expect(line(5).cableLength()).toBe(4);
    expect(branched().cableLength()).toBe(5);
    const diag = new Skeleton({ vertices: [0, 0, 0, 3, 4, 0, 3, 4, 12], edges: [0, 1, 1, 2] });
    expect(diag.cableLength()).toBe(5 + 12);
  });

  it("terminals, branches, components, paths", () => {
    const s = branched();
    expect(s.terminals()).toEqual([0, 3, 5]);
    expect(s.branches()).toEqual([1]);
    const two = Skeleton.simpleMerge([line(3), branched()]);
    const comps = two.components();
    expect(comps.map((c) => c.numVertices)).toEqual([3, 6]);
    expect(comps[1].cableLength()).toBe(5);
    expect(comps[1].attributes.radius).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
    // paths: from the root (farthest from vertex 0 by hops: vertex 5) to each leaf, listed leaf first
    const paths = s.pathIndices();
    expect(paths).toEqual([[0, 1, 4, 5], [3, 2, 1, 4, 5]]);
    expect(s.paths()[0]).toEqual([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 2, 0]]);
    expect(s.interjointPathIndices().map((p) => p.length).sort()).toEqual([2, 3, 3]);
  });

  it("consolidate removes duplicate vertices, duplicate edges and self-loops", () => {
    const s = new Skeleton({
      vertices: [0, 0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0],
      edges: [0, 1, 1, 0, 2, 3, 3, 3, 0, 2],
      attributes: { radius: new Float32Array([1, 2, 9, 3]) },
    });
    const c = s.consolidate();
    expect(c.numVertices).toBe(3);
    expect(c.vertexList()).toEqual([[0, 0, 0], [1, 0, 0], [2, 0, 0]]);
    expect(c.edgeList()).toEqual([[0, 1], [1, 2]]);
    expect(Array.from(c.attributes.radius)).toEqual([1, 2, 3]);
    expect(c.cableLength()).toBe(2);
    // disconnected vertices go unless asked to stay
    const unsorted = new Skeleton({ vertices: [5, 0, 0, 1, 9, 9, 1, 2, 0], edges: [2, 0, 1, 2, 0, 2] });
    expect(unsorted.consolidate().vertexList()).toEqual([[1, 2, 0], [1, 9, 9], [5, 0, 0]]);
    expect(unsorted.consolidate().edgeList()).toEqual([[0, 1], [0, 2]]);
    const lone = new Skeleton({ vertices: [0, 0, 0, 1, 0, 0, 5, 5, 5], edges: [0, 1] });
    expect(lone.consolidate().numVertices).toBe(2);
    expect(lone.consolidate({ removeDisconnectedVertices: false }).numVertices).toBe(3);
  });

  it("merge, clone, equivalent", () => {
    const a = line(3);
    const b = new Skeleton({ vertices: [2, 0, 0, 3, 0, 0], edges: [0, 1], attributes: { radius: new Float32Array([2, 3]) } });
    const m = Skeleton.merge([a, b]);
    expect(m.numVertices).toBe(4);
    expect(m.cableLength()).toBe(3);
    expect(m.equivalent(line(4))).toBe(true);
    expect(Skeleton.simpleMerge([a, b]).numVertices).toBe(5);
    const c = a.clone();
    c.vertices[0] = 42;
    expect(a.vertices[0]).toBe(0);
    expect(a.equivalent(c)).toBe(false);
    // same graph, different vertex order and edge direction
    const shuffled = new Skeleton({ vertices: [2, 0, 0, 0, 0, 0, 1, 0, 0], edges: [2, 0, 1, 2], attributes: { radius: new Float32Array([2, 0, 1]) } });
    expect(Skeleton.equivalent(a, shuffled)).toBe(true);
  });

  it("crop keeps vertices inside [min, max] and the edges between them", () => {
    const c = branched().crop([0, 0, 0, 2, 1, 0]); // inclusive bounds, as osteoid
    expect(c.vertexList()).toEqual([[0, 0, 0], [1, 0, 0], [1, 1, 0], [2, 0, 0]]); // consolidated: ordered by position
    expect(c.edgeList()).toEqual([[0, 1], [1, 2], [1, 3]]);
    expect(c.cableLength()).toBe(3);
    expect(Array.from(c.attributes.radius)).toEqual([1, 2, 5, 3]);
    expect(branched().crop({ min: [10, 10, 10], max: [11, 11, 11] }).numVertices).toBe(0);
  });

  it("downsample keeps endpoints and branch points", () => {
    const d = line(10).downsample(4);
    expect(d.vertexList().map((v) => v[0])).toEqual([0, 4, 8, 9]);
    expect(d.cableLength()).toBe(9);
    expect(Array.from(d.attributes.radius)).toEqual([0, 4, 8, 9]);
    const b = branched().downsample(5);
    expect(b.terminals().length).toBe(3);
    expect(b.branches().length).toBe(1);
    expect(b.vertexList()).toEqual(expect.arrayContaining([[0, 0, 0], [1, 0, 0], [3, 0, 0], [1, 2, 0]]));
    expect(line(4).downsample(1).equivalent(line(4))).toBe(true);
  });

  it("averageSmoothing: window n forwards then backwards, ends fixed", () => {
    // a zigzag y = 0,3,0,3,... along x = 0..8: forward window-3 means alternate 1,2; backward gives 4/3, 5/3
    const v: number[] = [];
    const e: number[] = [];
    for (let i = 0; i < 9; i++) v.push(i, i % 2 ? 3 : 0, 0);
    for (let i = 1; i < 9; i++) e.push(i - 1, i);
    const zig = new Skeleton({ vertices: v, edges: e, attributes: { radius: new Float32Array(9).fill(1) } });
    const s = zig.averageSmoothing(3);
    const list = s.vertexList();
    expect(list[0]).toEqual([0, 0, 0]);
    expect(list[8]).toEqual([8, 0, 0]);
    for (let i = 2; i <= 6; i++) {
      expect(list[i][0]).toBeCloseTo(i, 5);
      expect(list[i][1]).toBeCloseTo(i % 2 ? 5 / 3 : 4 / 3, 5);
    }
    expect(zig.vertices[4]).toBe(3);
    expect(zig.averageSmoothing(1).vertexList()).toEqual(zig.vertexList());
    expect(() => zig.averageSmoothing(3, { checkBoundary: true })).toThrow(/radius/);
  });

  it("SWC round trip", () => {
    const s = branched();
    const text = s.toSwc();
    const rows = text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toBe("1 1 0.000000 0.000000 0.000000 1.000000 -1");
    expect(rows[1]).toBe("2 2 1.000000 0.000000 0.000000 2.000000 1");
    expect(Skeleton.fromSwc("1 0 1 2 3 NA -1\n2 0 1 2 4 0.5 1\n").attributes.radius).toEqual(new Float32Array([-1, 0.5]));
    const back = Skeleton.fromSwc(text);
    expect(back.equivalent(s)).toBe(true);
    expect(back.attributes.vertex_types).toBeInstanceOf(Uint8Array);
    expect(Skeleton.fromSwc(back.toSwc()).toSwc()).toBe(back.toSwc());
    expect(() => Skeleton.fromSwc("1 0 0 0\n")).toThrow(/SWC line 1/);
    expect(() => Skeleton.fromSwc("1 0 0 0 0 1 5\n")).toThrow(/parent 5/);
  });

  it("physical and voxel space", () => {
    const s = new Skeleton({ vertices: [1, 1, 1], transform: [2, 0, 0, 1, 0, 3, 0, 0, 0, 0, 4, 0], space: "voxel" });
    const p = s.physicalSpace();
    expect(p.vertexList()).toEqual([[3, 3, 4]]);
    expect(p.space).toBe("physical");
    expect(p.voxelSpace().vertexList()).toEqual([[1, 1, 1]]);
  });
});

describe("SkeletonSource on a memory store", () => {
  it("missing info gives CloudVolume's defaults; upload/get round trip", async () => {
    const store = new MemoryStore();
    const { Context } = await import("@cloudvolume/core");
    const { gzip } = await import("@cloudvolume/codec-gzip");
    const ctx = new Context({ plugins: [gzip()] });
    const src = new SkeletonSource({ ctx, store, url: "mem://x", info: {} });
    await src.load();
    expect(src.info.vertex_attributes.map((a) => a.id)).toEqual(["radius", "vertex_types"]);
    await src.upload(branched());
    expect((await src.get(7n)).equivalent(branched())).toBe(true);
    await expect(src.get(8n)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
