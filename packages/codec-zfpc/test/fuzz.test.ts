import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "@cloudvolume/core";
import { fixturePath, fuzzDecode, seededRandom } from "@cloudvolume/testing";
import { HEADER_BYTES, nativeZfp, zfpcCodec } from "@cloudvolume/codec-zfpc";

/**
 * 4,000 seeded mutations of zfpc chunks (CloudVolume's fixture chunks and our own in
 * every zfp mode, several correlated-dimension layouts, value types and channel counts):
 * bit flips and overwritten bytes anywhere (header, index, zfp streams), cuts, zeroed
 * tails and random payloads behind a valid header. Each decode gives a chunk of the right
 * size or DECODE_FAILED naming the chunk; never a crash or another error. libzfp reads
 * past the end of corrupt streams, which the addon's padded copy absorbs; the C++ fuzz
 * driver (`pnpm --filter @cloudvolume/codec-zfpc fuzz:asan`) proves that bound with guard pages.
 */
function seeds(): { bytes: Uint8Array; chunk: ChunkSpec }[] {
  const out: { bytes: Uint8Array; chunk: ChunkSpec }[] = [];
  for (const fixture of ["pc_float32_zfpc", "pc_float32_zfpc_reversible"]) {
    const dir = join(fixturePath(fixture), "4_4_40");
    for (const name of readdirSync(dir).slice(0, 2)) out.push({ bytes: new Uint8Array(readFileSync(join(dir, name))), chunk: { shape: [32, 32, 16], channels: 1, dtype: "float32", key: `${fixture}/${name}` } });
  }
  const r = seededRandom(11);
  const settings: Record<string, unknown>[] = [
    {}, { zfpc_tolerance: 0.001 }, { zfpc_rate: 6 }, { zfpc_precision: 10 },
    { zfpc_correlated_dims: [true, true, false, false] }, { zfpc_rate: 12, zfpc_correlated_dims: [false, true, true, true] },
  ];
  settings.forEach((params, k) => {
    for (const dtype of ["float32", "float64", "int32"] as const) {
      if (dtype === "int32" && params.zfpc_tolerance !== undefined) continue;
      const chunk: ChunkSpec = { shape: [9, 7, 5], channels: 2, dtype, key: `own/${dtype}/${k}`, params };
      const n = 9 * 7 * 5 * 2;
      const v = dtype === "float32" ? new Float32Array(n) : dtype === "float64" ? new Float64Array(n) : new Int32Array(n);
      for (let i = 0; i < n; i++) v[i] = Math.round((Math.sin(i / 9) * 100 + r()) * (dtype === "int32" ? 100 : 1) * 1000) / 1000;
      out.push({ bytes: zfpcCodec.encode!(new Uint8Array(v.buffer), chunk) as Uint8Array, chunk });
    }
  });
  return out;
}

describe.skipIf(!nativeZfp() && !process.env.CI)("zfpc decoder fuzz", () => {
  it("4,000 mutated chunks: a chunk or DECODE_FAILED, nothing else", async () => {
    const all = seeds().map(({ bytes, chunk }) => ({ bytes, chunk, decode: zfpcCodec.decode }));
    // Every other case keeps the header (and the index's first entry) for the payload.
    const { decoded, failed } = await fuzzDecode(all, { cases: 4000, seed: 20261204, keep: (i) => (i % 2 ? HEADER_BYTES + 8 * 2 + 4 : HEADER_BYTES) });
    expect(decoded + failed).toBe(4000);
    expect(failed).toBeGreaterThan(1000);
  });
});
