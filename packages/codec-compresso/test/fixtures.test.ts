import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, copyBox, isCloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { fixturePath, readGroundTruth } from "@cloudvolume/testing";
import { compressoBackend, compressoCodec, compressoLabels, decodeCompresso, encodeCompresso, nativeCompresso } from "@cloudvolume/codec-compresso";

/**
 * The compresso chunks CloudVolume 12.14.4 wrote (compresso 3.3.3) in the fixtures: every
 * chunk decodes to the ground truth, its labels (without decoding) are the ground truth's,
 * and our encoding of the ground truth is the same bytes as CloudVolume's file; the native
 * addon (when built; under CI it must be) and the TypeScript codec give the same bytes.
 */
const FIXTURES = ["pc_seg_u64_compresso", "pc_seg_fib25_compresso"];

interface Chunk { name: string; file: string; box: Bbox; bytes: Uint8Array }

function chunksOf(fixture: string): Chunk[] {
  const info = JSON.parse(readFileSync(join(fixturePath(fixture), "info"), "utf8"));
  const dir = join(fixturePath(fixture), info.scales[0].key);
  return readdirSync(dir).map((name) => {
    const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
    const buf = readFileSync(join(dir, name));
    return { name, file: join(dir, name), box: new Bbox([x[0], y[0], z[0]], [x[1], y[1], z[1]]), bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  });
}

/** The ground truth's voxels of one chunk (Fortran, uint64). */
function truthOf(fixture: string, box: Bbox): Uint8Array {
  const gt = readGroundTruth(fixture);
  const s = box.size();
  const out = new Uint8Array(s[0] * s[1] * s[2] * 8);
  copyBox({ src: gt.bytes, srcShape: gt.shape as [number, number, number], srcOrigin: box.min, dst: out, dstShape: s, dstOrigin: [0, 0, 0], size: s, bytesPerVoxel: 8 });
  return out;
}

const spec = (c: Chunk): ChunkSpec => ({ shape: c.box.size(), channels: 1, dtype: "uint64", key: c.name });

describe("compresso fixtures (written by CloudVolume 12.14.4 / compresso 3.3.3)", () => {
  for (const fixture of FIXTURES) {
    for (const c of chunksOf(fixture)) {
      it(`${fixture}/${c.name}: decodes to the ground truth; labels; our encoding is CloudVolume's bytes`, () => {
        const truth = truthOf(fixture, c.box);
        const decoded = decodeCompresso(c.bytes, spec(c));
        expect(Buffer.from(decoded).equals(Buffer.from(truth)), "decoded voxels").toBe(true);
        const want = [...new Set(new BigUint64Array(truth.buffer))].sort((a, b) => (a < b ? -1 : 1));
        expect([...(compressoLabels(c.bytes, spec(c)) as BigUint64Array)]).toEqual(want);
        const ours = encodeCompresso(truth, spec(c));
        expect(ours.byteLength, "size").toBe(c.bytes.byteLength);
        expect(Buffer.from(ours).equals(Buffer.from(c.bytes)), "bytes equal CloudVolume's").toBe(true);
        if (nativeCompresso()) {
          expect(Buffer.from(compressoCodec.encode!(truth, spec(c)) as Uint8Array).equals(Buffer.from(c.bytes)), "native encoding").toBe(true);
          const out = new Uint8Array(truth.byteLength);
          expect(Buffer.from(compressoCodec.decode(c.bytes, spec(c), out) as Uint8Array).equals(Buffer.from(truth)), "native decoding").toBe(true);
        }
      });
    }
  }

  it("the native addon is built and loaded (under CI; elsewhere its absence is reported)", () => {
    const b = compressoBackend();
    if (process.env.CI) expect(b.backend, b.why).toBe("native");
    else expect(b.why.length).toBeGreaterThan(0);
  });

  it("a truncated or corrupted chunk is DECODE_FAILED naming it, never a crash", () => {
    const c = chunksOf(FIXTURES[1])[0];
    for (const cut of [0, 10, 36, 60, c.bytes.byteLength - 1]) {
      let err: unknown;
      for (const decode of [decodeCompresso, compressoCodec.decode]) {
        err = undefined;
        try { decode(c.bytes.subarray(0, cut), spec(c)); } catch (e) { err = e; }
        expect(isCloudVolumeError(err, "DECODE_FAILED"), `cut at ${cut}: ${String(err)}`).toBe(true);
        expect(String(err)).toContain(c.name);
      }
    }
  });
});
