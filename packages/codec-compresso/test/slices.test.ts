import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { viewAs, type ChunkSpec, type DataType } from "@cloudvolume/core";
import { fixturePath, seededRandom } from "@cloudvolume/testing";
import { compressoCodec, decodeCompresso, encodeCompresso, nativeCompresso } from "@cloudvolume/codec-compresso";

/**
 * z-slice random access: the native decoder's single-slice decode (through the version-1
 * z index) gives, for every slice of every fixture chunk and of random chunks of each
 * width, the same voxels as decoding the whole chunk; readVoxel agrees with the full
 * decode everywhere; streams a slice cannot be read from alone still answer readVoxel.
 */
const native = nativeCompresso();

function fixtureChunks(): { key: string; bytes: Uint8Array; spec: ChunkSpec }[] {
  const out: { key: string; bytes: Uint8Array; spec: ChunkSpec }[] = [];
  for (const f of ["pc_seg_u64_compresso", "pc_seg_fib25_compresso"]) {
    const dir = join(fixturePath(f), "4_4_40");
    for (const name of readdirSync(dir)) {
      const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
      out.push({ key: `${f}/${name}`, bytes: new Uint8Array(readFileSync(join(dir, name))), spec: { shape: [x[1] - x[0], y[1] - y[0], z[1] - z[0]], channels: 1, dtype: "uint64", key: name } });
    }
  }
  return out;
}

function randomChunks(): { key: string; bytes: Uint8Array; spec: ChunkSpec }[] {
  const r = seededRandom(3);
  const out: { key: string; bytes: Uint8Array; spec: ChunkSpec }[] = [];
  for (const dtype of ["uint8", "uint16", "uint32", "uint64"] as DataType[]) {
    for (const shape of [[17, 9, 6], [64, 3, 5], [1, 1, 4]] as [number, number, number][]) {
      const spec: ChunkSpec = { shape, channels: 1, dtype, key: `${dtype} ${shape.join("x")}` };
      const n = shape[0] * shape[1] * shape[2];
      const values = viewAs(new Uint8Array(n * (dtype === "uint8" ? 1 : dtype === "uint16" ? 2 : dtype === "uint32" ? 4 : 8)), dtype);
      for (let i = 0; i < n; i++) {
        const v = Math.floor(i / 7 + r() * 3) % 250; // runs with ragged edges: components, copies, new labels
        values[i] = (dtype === "uint64" ? BigInt(v) + 0xfffffffffff0n : v) as never;
      }
      out.push({ key: spec.key!, bytes: encodeCompresso(new Uint8Array(values.buffer), spec), spec });
    }
  }
  return out;
}

describe.skipIf(!native && !process.env.CI)("compresso z-slice random access (native)", () => {
  it("every slice of every fixture and random chunk decodes alone to the full decode's slice", () => {
    let slices = 0;
    for (const { key, bytes, spec } of [...fixtureChunks(), ...randomChunks()]) {
      const [sx, sy, sz] = spec.shape;
      const bpv = spec.dtype === "uint8" ? 1 : spec.dtype === "uint16" ? 2 : spec.dtype === "uint32" ? 4 : 8;
      const full = decodeCompresso(bytes, spec);
      for (let z = 0; z < sz; z++) {
        const out = new Uint8Array(sx * sy * bpv);
        native!.decodeSlice(bytes, out, sx, sy, sz, bpv, z);
        expect(Buffer.from(out).equals(Buffer.from(full.subarray(z * sx * sy * bpv, (z + 1) * sx * sy * bpv))), `${key} slice ${z}`).toBe(true);
        slices++;
      }
    }
    expect(slices).toBeGreaterThan(200);
  });

  it("readVoxel equals the full decode at every voxel", () => {
    for (const { key, bytes, spec } of [...fixtureChunks().slice(0, 3), ...randomChunks()]) {
      const [sx, sy, sz] = spec.shape;
      const full = viewAs(decodeCompresso(bytes, spec), spec.dtype);
      for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
        if (compressoCodec.readVoxel!(bytes, spec, x, y, z) !== full[x + sx * (y + sy * z)]) throw new Error(`${key} (${x}, ${y}, ${z})`);
      }
    }
  });

  it("a stream without a usable z index (version 0, or a corrupt index) still answers readVoxel from the whole chunk", () => {
    const { bytes, spec } = fixtureChunks()[0];
    const full = viewAs(decodeCompresso(bytes, spec), spec.dtype);
    const [sx, sy, sz] = spec.shape;
    const out = new Uint8Array(sx * sy * 8);
    // Move one slice's count to its neighbour in the z index: the totals still add up,
    // the whole-chunk decode ignores the index, but slice 0 alone has the wrong ids.
    const zw = 2; // 32x32: 2 * 32 * 32 = 2048 needs two bytes per entry
    const bad = bytes.slice();
    const at = bad.length - 2 * sz * zw;
    const dv = new DataView(bad.buffer);
    const c0 = dv.getUint16(at, true);
    if (c0 > 0) {
      dv.setUint16(at, c0 - 1, true);
      dv.setUint16(at + zw, dv.getUint16(at + zw, true) + 1, true);
      expect(() => native!.decodeSlice(bad, out, sx, sy, sz, 8, 0)).toThrow();
      expect(compressoCodec.readVoxel!(bad, spec, 5, 6, 0)).toBe(full[5 + sx * 6]);
    }
    expect(() => compressoCodec.readVoxel!(bytes, spec, sx, 0, 0)).toThrow(/outside/);
  });
});
