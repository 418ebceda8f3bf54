import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, copyBox, isCloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { fixturePath, readExpected, readGroundTruth } from "@cloudvolume/testing";
import { nativeZfp, readHeader, zfpcBackend, zfpcCodec } from "@cloudvolume/codec-zfpc";

/**
 * The zfpc chunks CloudVolume 12.14.4 wrote (zfpc 0.1.2 over Debian's zfpy / libzfp 1.0):
 * fixed accuracy (zfpc_tolerance 0.01) and reversible. Each decodes to the voxels
 * CloudVolume's decoder gave (decoded_by_reference.bin), within the fixture's tolerance
 * of the ground truth (exactly, when reversible), and our encoding of the ground truth
 * with the scale's settings is the same bytes as CloudVolume's file.
 */
interface Chunk { name: string; box: Bbox; bytes: Uint8Array }

function layer(fixture: string): { scale: Record<string, unknown>; chunks: Chunk[] } {
  const info = JSON.parse(readFileSync(join(fixturePath(fixture), "info"), "utf8"));
  const dir = join(fixturePath(fixture), info.scales[0].key);
  const chunks = readdirSync(dir).sort().map((name) => {
    const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
    const buf = readFileSync(join(dir, name));
    return { name, box: new Bbox([x[0], y[0], z[0]], [x[1], y[1], z[1]]), bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  });
  return { scale: info.scales[0], chunks };
}

function cut(volume: Uint8Array, shape: number[], box: Bbox): Uint8Array {
  const s = box.size();
  const out = new Uint8Array(s[0] * s[1] * s[2] * 4);
  copyBox({ src: volume, srcShape: shape as [number, number, number], srcOrigin: box.min, dst: out, dstShape: s, dstOrigin: [0, 0, 0], size: s, bytesPerVoxel: 4 });
  return out;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!nativeZfp() && !process.env.CI)("zfpc fixtures (written by CloudVolume 12.14.4)", () => {
  it("the native addon is built and loaded", () => {
    const b = zfpcBackend();
    expect(b.backend, b.why).toBe("native");
  });

  for (const fixture of ["pc_float32_zfpc", "pc_float32_zfpc_reversible"]) {
    const { scale, chunks } = layer(fixture);
    const gt = readGroundTruth(fixture);
    const ref = new Uint8Array(readFileSync(join(fixturePath(fixture), "decoded_by_reference.bin")));
    const tolerance = readExpected(fixture).max_abs_error_vs_ground_truth as number;
    for (const c of chunks) {
      it(`${fixture}/${c.name}: decodes to CloudVolume's voxels, within ${tolerance} of the truth; our encoding is its bytes`, () => {
        const spec: ChunkSpec = { shape: c.box.size(), channels: 1, dtype: "float32", key: c.name, params: scale };
        const decoded = zfpcCodec.decode(c.bytes, spec) as Uint8Array;
        expect(same(decoded, cut(ref, gt.shape, c.box)), "equals decoded_by_reference").toBe(true);
        const truth = cut(gt.bytes, gt.shape, c.box);
        const a = new Float32Array(decoded.buffer, decoded.byteOffset, decoded.byteLength / 4);
        const t = new Float32Array(truth.buffer, truth.byteOffset, truth.byteLength / 4);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - t[i]));
        expect(worst).toBeLessThanOrEqual(tolerance);
        const ours = zfpcCodec.encode!(truth, spec) as Uint8Array;
        expect(readHeader(ours)).toEqual(readHeader(c.bytes));
        expect(ours.byteLength, "size").toBe(c.bytes.byteLength);
        expect(same(ours, c.bytes), "bytes equal CloudVolume's").toBe(true);
      });
    }
  }

  it("truncated, corrupted or mismatched chunks are DECODE_FAILED naming the chunk", () => {
    const { chunks } = layer("pc_float32_zfpc");
    const c = chunks[0];
    const spec: ChunkSpec = { shape: c.box.size(), channels: 1, dtype: "float32", key: c.name };
    const flipped = c.bytes.slice();
    flipped[4] = 9; // format version 9
    const cases: [string, Uint8Array, ChunkSpec][] = [
      ...[0, 4, 22, 30, 40, 100, c.bytes.byteLength - 1].map((n): [string, Uint8Array, ChunkSpec] => [`cut at ${n}`, c.bytes.subarray(0, n), spec]),
      ["format version 9", flipped, spec],
      ["wrong shape", c.bytes, { ...spec, shape: [32, 32, 8] }],
      ["float64 layer", c.bytes, { ...spec, dtype: "float64" }],
      ["uint8 layer", c.bytes, { ...spec, dtype: "uint8" }],
    ];
    for (const [what, bytes, chunk] of cases) {
      let err: unknown;
      try { zfpcCodec.decode(bytes, chunk); } catch (e) { err = e; }
      expect(isCloudVolumeError(err, "DECODE_FAILED"), `${what}: ${String(err)}`).toBe(true);
      expect(String(err)).toContain(c.name);
    }
  });
});
