import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "@cloudvolume/core";
import { fixturePath, fuzzDecode, seededRandom } from "@cloudvolume/testing";
import { fpzipCodec, kempressedCodec, nativeFpzip } from "@cloudvolume/codec-fpzip";

/**
 * 4,000 seeded mutations (bit flips, overwritten bytes, cuts, zeroed tails, random bytes)
 * of fpzip streams (CloudVolume's fixture chunks and our own float64 / multi-channel /
 * reduced-precision encodings): each decode either gives a chunk of the right size or
 * DECODE_FAILED naming the chunk; never a crash, a hang or another error. The same cases
 * run under AddressSanitizer with `pnpm --filter @cloudvolume/codec-fpzip fuzz:asan`.
 */
function seeds(): { bytes: Uint8Array; chunk: ChunkSpec; codec: typeof fpzipCodec }[] {
  const out: { bytes: Uint8Array; chunk: ChunkSpec; codec: typeof fpzipCodec }[] = [];
  for (const [fixture, codec] of [["pc_float32_fpzip", fpzipCodec], ["pc_float32_kempressed", kempressedCodec]] as const) {
    const dir = join(fixturePath(fixture), "4_4_40");
    for (const name of readdirSync(dir).slice(0, 2)) {
      out.push({ bytes: new Uint8Array(readFileSync(join(dir, name))), chunk: { shape: [32, 32, 16], channels: 1, dtype: "float32", key: `${fixture}/${name}` }, codec });
    }
  }
  const r = seededRandom(7);
  for (const [dtype, channels, precision] of [["float64", 1, 0], ["float32", 3, 0], ["float32", 1, 12], ["float64", 2, 30], ["float32", 1, 6]] as const) {
    const chunk: ChunkSpec = { shape: [9, 7, 5], channels, dtype, key: `own/${dtype}x${channels}@${precision}`, params: { fpzip_precision: precision } };
    const n = 9 * 7 * 5 * channels;
    const values = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = Math.sin(i / 7) * 10 + r();
    out.push({ bytes: fpzipCodec.encode!(new Uint8Array(values.buffer), chunk) as Uint8Array, chunk, codec: fpzipCodec });
  }
  return out;
}

describe.skipIf(!nativeFpzip() && !process.env.CI)("fpzip decoder fuzz", () => {
  it("4,000 mutated streams: a chunk or DECODE_FAILED, nothing else", async () => {
    const all = seeds().map(({ bytes, chunk, codec }) => ({ bytes, chunk, decode: codec.decode }));
    const { decoded, failed } = await fuzzDecode(all, { cases: 4000, seed: 20261204 });
    expect(decoded + failed).toBe(4000);
    expect(failed).toBeGreaterThan(3000);
  });
});
