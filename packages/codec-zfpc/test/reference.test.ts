import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "@cloudvolume/core";
import { NO_REFERENCE, requireReference, runReference, seededRandom, tempDir } from "@cloudvolume/testing";
import { zfpcCodec } from "@cloudvolume/codec-zfpc";

/**
 * Against the real CloudVolume 12.14.4 (chunks.encode / chunks.decode over zfpc 0.1.2 and
 * Debian's zfpy 1.0): every zfp mode, correlated-dimension layouts, shapes with edge
 * blocks, one to three channels and all four value types. Our encoding is the same bytes
 * as CloudVolume's; for float32 (the only type zfpc.decompress returns: it reads
 * everything into float32), CloudVolume decodes ours to the voxels we decode its to.
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
    open("%s/%d.py" % (d, i), "wb").write(chunks.encode(a, "zfpc", compression_params=c["params"]))
    if c["dtype"] == "float32":
        b = chunks.decode(open("%s/%d.ours" % (d, i), "rb").read(), "zfpc", shape=shape, dtype=c["dtype"])
        open("%s/%d.py.raw" % (d, i), "wb").write(np.asfortranarray(b).tobytes(order="F"))
print("ok")
`;

interface Case { dtype: "float32" | "float64" | "int32" | "int64"; shape: [number, number, number]; channels: number; params: Record<string, unknown> }

function values(c: Case, seed: number): Uint8Array {
  const n = c.shape[0] * c.shape[1] * c.shape[2] * c.channels;
  const r = seededRandom(seed);
  const f = (i: number) => Math.sin(i / 11) * 50 + r();
  if (c.dtype === "float32" || c.dtype === "float64") {
    const v = c.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = f(i);
    return new Uint8Array(v.buffer);
  }
  if (c.dtype === "int32") return new Uint8Array(Int32Array.from({ length: n }, (_, i) => Math.round(f(i) * 1000)).buffer);
  return new Uint8Array(BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.round(f(i) * 1e6))).buffer);
}

describe.skipIf(!ref)(`zfpc agrees with the reference CloudVolume${ref ? "" : ` (skipped: ${NO_REFERENCE})`}`, () => {
  it("the same bytes, and CloudVolume reads ours as we read its", () => {
    const dir = tempDir("cv-zfpc-ref-");
    const modes: Record<string, unknown>[] = [{}, { tolerance: 0.01 }, { rate: 8 }, { rate: 3.5 }, { precision: 14 }];
    const layouts = [[true, true, true, true], [true, true, false, false], [false, true, true, true], [true, true, true, false]];
    const cases: Case[] = [];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [shape, channels] of [[[32, 32, 16], 1], [[5, 7, 3], 3], [[1, 1, 1], 1], [[17, 1, 4], 2]] as [[number, number, number], number][]) {
        for (const m of modes) for (const correlated_dims of layouts) cases.push({ dtype, shape, channels, params: { ...m, correlated_dims } });
      }
    }
    for (const dtype of ["int32", "int64"] as const) {
      for (const m of [{}, { precision: 20 }]) cases.push({ dtype, shape: [9, 6, 5], channels: 2, params: { ...m, correlated_dims: [true, true, true, true] } });
    }
    const spec = (c: Case): ChunkSpec => {
      const p = c.params;
      return {
        shape: c.shape, channels: c.channels, dtype: c.dtype, key: `${c.dtype} ${c.shape.join("x")}x${c.channels} ${JSON.stringify(p)}`,
        params: { zfpc_rate: p.rate, zfpc_precision: p.precision, zfpc_tolerance: p.tolerance, zfpc_correlated_dims: p.correlated_dims },
      };
    };
    const data = cases.map((c, i) => values(c, 900 + i));
    cases.forEach((c, i) => {
      writeFileSync(join(dir, `${i}.raw`), data[i]);
      writeFileSync(join(dir, `${i}.ours`), zfpcCodec.encode!(data[i], spec(c)) as Uint8Array);
    });
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
    expect(runReference(ref!, SCRIPT, [dir]).trim()).toBe("ok");
    cases.forEach((c, i) => {
      const what = spec(c).key;
      const theirs = new Uint8Array(readFileSync(join(dir, `${i}.py`)));
      const ours = new Uint8Array(readFileSync(join(dir, `${i}.ours`)));
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `${what}: our bytes equal CloudVolume's`).toBe(true);
      const weRead = zfpcCodec.decode(theirs, spec(c)) as Uint8Array;
      if (c.dtype === "float32") expect(Buffer.from(weRead).equals(readFileSync(join(dir, `${i}.py.raw`))), `${what}: CloudVolume reads ours as we read its`).toBe(true);
      if (Object.keys(c.params).length === 1) expect(Buffer.from(weRead).equals(Buffer.from(data[i])), `${what}: reversible is lossless`).toBe(true);
    });
  }, 120_000);
});
