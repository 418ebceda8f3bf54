import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkSpec, DataType } from "@cloudvolume/core";
import { NO_REFERENCE, reference, runReference, tempDir } from "@cloudvolume/testing";
import { compressoCodec, decodeCompresso, encodeCompresso } from "@cloudvolume/codec-compresso";

/**
 * Against the real compresso 3.3.3 (CloudVolume 12.14.4's, from the reference install):
 * for every unsigned width and a spread of shapes and label patterns (blobs, stripes,
 * every voxel different, labels at the top of the range), our encoding is byte-identical
 * to compresso's, we decode compresso's to the voxels, and compresso decodes ours to them.
 * .ci/run installs the reference; without it (outside CI) this is skipped.
 */
const ref = reference();
if (!ref && process.env.CI) throw new Error(NO_REFERENCE);

const SCRIPT = `
import sys, json, numpy as np, compresso
d = sys.argv[1]
cases = json.load(open(d + "/cases.json"))
for i, c in enumerate(cases):
    a = np.fromfile("%s/%d.raw" % (d, i), dtype=c["dtype"]).reshape(c["shape"], order="F")
    open("%s/%d.py.cpso" % (d, i), "wb").write(compresso.compress(a))
    ours = open("%s/%d.ours.cpso" % (d, i), "rb").read()
    b = compresso.decompress(ours)
    assert b.dtype == a.dtype, (b.dtype, a.dtype)
    open("%s/%d.py.raw" % (d, i), "wb").write(b.tobytes(order="F"))
print("ok")
`;

interface Case { dtype: DataType; shape: [number, number, number]; pattern: string }
const WIDTH: Record<string, number> = { uint8: 1, uint16: 2, uint32: 4, uint64: 8 };

function voxels(c: Case, seed: number): Uint8Array {
  const [sx, sy, sz] = c.shape;
  const w = WIDTH[c.dtype];
  const out = new Uint8Array(sx * sy * sz * w);
  const dv = new DataView(out.buffer);
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const top = 2 ** (8 * Math.min(w, 4)) - 1;
  let i = 0;
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    let lo: number;
    switch (c.pattern) {
      case "blobs": lo = (Math.floor(x / 6) + 3 * Math.floor(y / 5) + 7 * Math.floor(z / 2) + seed) % 9; break;
      case "stripes": lo = (x + 2 * z) % 4; break;
      case "noise": lo = rnd() % Math.min(top + 1, 2 ** 31); break;
      default: lo = top - (rnd() % 9); // the top of the range: location code 6
    }
    if (w === 1) out[i] = lo;
    else if (w === 2) dv.setUint16(2 * i, lo, true);
    else if (w === 4) dv.setUint32(4 * i, lo >>> 0, true);
    else { dv.setUint32(8 * i, lo >>> 0, true); dv.setUint32(8 * i + 4, c.pattern === "top" ? 0xffffffff : (rnd() & 1) * 0x12345, true); }
  }
  return out;
}

describe.skipIf(!ref)(`compresso 3.3.3 (reference CloudVolume) agrees with us${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, () => {
  it("byte-identical encodings both ways, and each decodes the other's", () => {
    const dir = tempDir("cv-compresso-ref-");
    const cases: Case[] = [];
    for (const dtype of ["uint8", "uint16", "uint32", "uint64"] as DataType[]) {
      for (const shape of [[1, 1, 1], [5, 7, 3], [32, 32, 16], [64, 64, 8], [17, 33, 5]] as [number, number, number][]) {
        for (const pattern of ["blobs", "stripes", "noise", "top"]) cases.push({ dtype, shape, pattern });
      }
    }
    const data = cases.map((c, i) => voxels(c, 100 + i));
    const spec = (c: Case): ChunkSpec => ({ shape: c.shape, channels: 1, dtype: c.dtype, key: `${c.dtype} ${c.shape.join("x")} ${c.pattern}` });
    cases.forEach((c, i) => {
      writeFileSync(join(dir, `${i}.raw`), data[i]);
      writeFileSync(join(dir, `${i}.ours.cpso`), encodeCompresso(data[i], spec(c)));
    });
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
    expect(runReference(ref!, SCRIPT, [dir]).trim()).toBe("ok");
    cases.forEach((c, i) => {
      const what = spec(c).key;
      const theirs = new Uint8Array(readFileSync(join(dir, `${i}.py.cpso`)));
      const ours = new Uint8Array(readFileSync(join(dir, `${i}.ours.cpso`)));
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `${what}: our bytes are compresso's (${ours.length} vs ${theirs.length})`).toBe(true);
      expect(Buffer.from(decodeCompresso(theirs, spec(c))).equals(Buffer.from(data[i])), `${what}: we decode compresso's`).toBe(true);
      expect(Buffer.from(compressoCodec.encode!(data[i], spec(c)) as Uint8Array).equals(Buffer.from(theirs)), `${what}: the codec's (native) bytes are compresso's`).toBe(true);
      expect(Buffer.from(compressoCodec.decode(theirs, spec(c)) as Uint8Array).equals(Buffer.from(data[i])), `${what}: the codec (native) decodes compresso's`).toBe(true);
      expect(Buffer.from(readFileSync(join(dir, `${i}.py.raw`))).equals(Buffer.from(data[i])), `${what}: compresso decodes ours`).toBe(true);
    });
  }, 120_000);
});
