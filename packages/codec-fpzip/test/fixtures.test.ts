import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, copyBox, isCloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { fixturePath, readExpected, readGroundTruth } from "@cloudvolume/testing";
import { fpzipBackend, fpzipCodec, kempressedCodec, nativeFpzip } from "@cloudvolume/codec-fpzip";

/**
 * The fpzip and kempressed chunks CloudVolume 12.14.4 wrote (fpzip 1.2.5 over libfpzip
 * 1.3): each decodes to the ground truth (fpzip, lossless) or to the voxels CloudVolume's
 * own decoder gave (kempressed, whose -2.0 rounds), and our encoding of the ground truth
 * is the same bytes as CloudVolume's file.
 */
interface Chunk { name: string; box: Bbox; bytes: Uint8Array }

function chunksOf(fixture: string): Chunk[] {
  const info = JSON.parse(readFileSync(join(fixturePath(fixture), "info"), "utf8"));
  const dir = join(fixturePath(fixture), info.scales[0].key);
  return readdirSync(dir).sort().map((name) => {
    const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
    const buf = readFileSync(join(dir, name));
    return { name, box: new Bbox([x[0], y[0], z[0]], [x[1], y[1], z[1]]), bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  });
}

/** `box` of a whole-volume float32 array (Fortran order). */
function cut(volume: Uint8Array, shape: number[], box: Bbox): Uint8Array {
  const s = box.size();
  const out = new Uint8Array(s[0] * s[1] * s[2] * 4);
  copyBox({ src: volume, srcShape: shape as [number, number, number], srcOrigin: box.min, dst: out, dstShape: s, dstOrigin: [0, 0, 0], size: s, bytesPerVoxel: 4 });
  return out;
}

function decodedByReference(fixture: string): Uint8Array {
  const buf = readFileSync(join(fixturePath(fixture), "decoded_by_reference.bin"));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const spec = (c: Chunk): ChunkSpec => ({ shape: c.box.size(), channels: 1, dtype: "float32", key: c.name });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!nativeFpzip() && !process.env.CI)("fpzip and kempressed fixtures (written by CloudVolume 12.14.4)", () => {
  it("the native addon is built and loaded", () => {
    const b = fpzipBackend();
    expect(b.backend, b.why).toBe("native");
  });

  const gt = readGroundTruth("pc_float32_fpzip");
  for (const c of chunksOf("pc_float32_fpzip")) {
    it(`pc_float32_fpzip/${c.name}: decodes to the ground truth; our encoding is CloudVolume's bytes`, () => {
      const truth = cut(gt.bytes, gt.shape, c.box);
      expect(same(fpzipCodec.decode(c.bytes, spec(c)) as Uint8Array, truth), "decoded voxels").toBe(true);
      const ours = fpzipCodec.encode!(truth, spec(c)) as Uint8Array;
      expect(ours.byteLength, "size").toBe(c.bytes.byteLength);
      expect(same(ours, c.bytes), "bytes equal CloudVolume's").toBe(true);
    });
  }

  const kgt = readGroundTruth("pc_float32_kempressed");
  const kref = decodedByReference("pc_float32_kempressed");
  const tolerance = readExpected("pc_float32_kempressed").max_abs_error_vs_ground_truth as number;
  for (const c of chunksOf("pc_float32_kempressed")) {
    it(`pc_float32_kempressed/${c.name}: decodes to CloudVolume's voxels, within ${tolerance} of the truth; our encoding is its bytes`, () => {
      const out = new Uint8Array(c.box.volume() * 4);
      const decoded = kempressedCodec.decode(c.bytes, spec(c), out) as Uint8Array;
      expect(decoded).toBe(out);
      expect(same(decoded, cut(kref, kgt.shape, c.box)), "equals decoded_by_reference").toBe(true);
      const truth = cut(kgt.bytes, kgt.shape, c.box);
      const a = new Float32Array(decoded.buffer), t = new Float32Array(truth.buffer.slice(truth.byteOffset, truth.byteOffset + truth.byteLength));
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - t[i]));
      expect(worst).toBeLessThanOrEqual(tolerance);
      expect(same(kempressedCodec.encode!(truth, spec(c)) as Uint8Array, c.bytes), "bytes equal CloudVolume's").toBe(true);
    });
  }

  it("truncated, corrupted or mismatched chunks are DECODE_FAILED naming the chunk", () => {
    const c = chunksOf("pc_float32_fpzip")[0];
    const cases: [string, Uint8Array, ChunkSpec][] = [
      ...[0, 3, 10, 100, c.bytes.byteLength - 1].map((n): [string, Uint8Array, ChunkSpec] => [`cut at ${n}`, c.bytes.subarray(0, n), spec(c)]),
      ["wrong shape", c.bytes, { ...spec(c), shape: [32, 32, 8] }],
      ["two channels", c.bytes, { ...spec(c), channels: 2 }],
      ["float64 layer", c.bytes, { ...spec(c), dtype: "float64" }],
      ["uint8 layer", c.bytes, { ...spec(c), dtype: "uint8" }],
    ];
    for (const [what, bytes, chunk] of cases) {
      let err: unknown;
      try { fpzipCodec.decode(bytes, chunk); } catch (e) { err = e; }
      expect(isCloudVolumeError(err, "DECODE_FAILED"), `${what}: ${String(err)}`).toBe(true);
      expect(String(err)).toContain(c.name);
    }
  });
});
