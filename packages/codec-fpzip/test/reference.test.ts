import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "@cloudvolume/core";
import { NO_REFERENCE, requireReference, runReference, seededRandom, tempDir } from "@cloudvolume/testing";
import { fpzipCodec, kempressedCodec } from "@cloudvolume/codec-fpzip";

/**
 * Against the real CloudVolume 12.14.4 (its chunks.encode / chunks.decode over fpzip
 * 1.2.5): for float32 and float64, one to three channels, lossless and reduced
 * precision, smooth and noisy arrays, our fpzip and kempressed encodings are the same
 * bytes as CloudVolume's, CloudVolume decodes ours to the voxels we decode, and we decode
 * its to the voxels it decodes.
 */
const ref = requireReference();

const SCRIPT = `
import sys, json, numpy as np
from cloudvolume import chunks
d = sys.argv[1]
cases = json.load(open(d + "/cases.json"))
for i, c in enumerate(cases):
    shape = c["shape"] + [c["channels"]]
    a = np.fromfile("%s/%d.raw" % (d, i), dtype=c["dtype"]).reshape(shape, order="F")
    params = {"level": c["precision"]} if c["precision"] else {}
    open("%s/%d.py" % (d, i), "wb").write(chunks.encode(a, c["encoding"], compression_params=params))
    ours = open("%s/%d.ours" % (d, i), "rb").read()
    b = chunks.decode(ours, c["encoding"], shape=shape, dtype=c["dtype"])
    assert b.dtype == a.dtype and b.shape == tuple(shape), (b.dtype, b.shape)
    open("%s/%d.py.raw" % (d, i), "wb").write(np.asfortranarray(b).tobytes(order="F"))
print("ok")
`;

interface Case { encoding: "fpzip" | "kempressed"; dtype: "float32" | "float64"; shape: [number, number, number]; channels: number; precision: number; noisy: boolean }

function values(c: Case, seed: number): Uint8Array {
  const n = c.shape[0] * c.shape[1] * c.shape[2] * c.channels;
  const v = c.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  const r = seededRandom(seed);
  for (let i = 0; i < n; i++) v[i] = c.noisy ? (r() - 0.5) * 10 ** Math.floor(r() * 12 - 6) : Math.sin(i / 13) * Math.cos(i / 101);
  return new Uint8Array(v.buffer);
}

describe.skipIf(!ref)(`fpzip and kempressed agree with the reference CloudVolume${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, () => {
  it("the same bytes both ways, and each decodes the other's", () => {
    const dir = tempDir("cv-fpzip-ref-");
    const cases: Case[] = [];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [shape, channels] of [[[32, 32, 16], 1], [[5, 7, 3], 3], [[1, 1, 1], 1], [[17, 9, 4], 2]] as [[number, number, number], number][]) {
        for (const noisy of [false, true]) {
          cases.push({ encoding: "fpzip", dtype, shape, channels, precision: 0, noisy });
          cases.push({ encoding: "fpzip", dtype, shape, channels, precision: dtype === "float32" ? 14 : 36, noisy });
          cases.push({ encoding: "kempressed", dtype, shape, channels, precision: 0, noisy });
        }
      }
    }
    const data = cases.map((c, i) => values(c, 500 + i));
    const spec = (c: Case): ChunkSpec => ({ shape: c.shape, channels: c.channels, dtype: c.dtype, key: `${c.encoding} ${c.dtype} ${c.shape.join("x")}x${c.channels}`, params: { fpzip_precision: c.precision } });
    const codec = (c: Case) => (c.encoding === "fpzip" ? fpzipCodec : kempressedCodec);
    cases.forEach((c, i) => {
      writeFileSync(join(dir, `${i}.raw`), data[i]);
      writeFileSync(join(dir, `${i}.ours`), codec(c).encode!(data[i], spec(c)) as Uint8Array);
    });
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
    expect(runReference(ref!, SCRIPT, [dir]).trim()).toBe("ok");
    cases.forEach((c, i) => {
      const what = spec(c).key;
      const theirs = new Uint8Array(readFileSync(join(dir, `${i}.py`)));
      const ours = new Uint8Array(readFileSync(join(dir, `${i}.ours`)));
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `${what}: our bytes equal CloudVolume's`).toBe(true);
      const weRead = codec(c).decode(theirs, spec(c)) as Uint8Array;
      const theyRead = new Uint8Array(readFileSync(join(dir, `${i}.py.raw`)));
      expect(Buffer.from(weRead).equals(Buffer.from(theyRead)), `${what}: we decode CloudVolume's stream to what it decodes ours to`).toBe(true);
      if (c.encoding === "fpzip" && c.precision === 0) expect(Buffer.from(weRead).equals(Buffer.from(data[i])), `${what}: lossless`).toBe(true);
    });
  }, 120_000);
});
