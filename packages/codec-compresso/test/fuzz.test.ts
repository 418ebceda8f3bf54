import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ChunkSpec } from "@cloudvolume/core";
import { compressoCodec, compressoLabels, decodeCompresso, encodeCompresso } from "@cloudvolume/codec-compresso";

/**
 * Fuzzing the decoders (TypeScript and native) and the label query: 4000 streams made from valid ones by flipping
 * bytes, overwriting header fields with extreme values, truncating, extending and
 * splicing. Each must decode to a chunk-sized result or fail with DECODE_FAILED; any
 * other exception (a RangeError from reading past the buffer, a TypeError) or a hang is a
 * bug. Seeded, so a failure repeats.
 */
const SPEC: ChunkSpec = { shape: [19, 13, 4], channels: 1, dtype: "uint64", key: "fuzz" };
const N = SPEC.shape[0] * SPEC.shape[1] * SPEC.shape[2];

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const pattern of [0, 1, 2]) {
    const v = new BigUint64Array(N);
    for (let i = 0; i < N; i++) {
      const x = i % 19, y = Math.floor(i / 19) % 13;
      v[i] = pattern === 0 ? BigInt(Math.floor(x / 4) + 5 * Math.floor(y / 3)) : pattern === 1 ? 0xfffffffffffffff0n + BigInt((x * y) % 9) : BigInt((i * 2654435761) % 1000);
    }
    out.push(encodeCompresso(new Uint8Array(v.buffer), SPEC));
  }
  return out;
}

describe("compresso decoder fuzzing", () => {
  it("4000 mutated streams: a result of the right size or DECODE_FAILED, nothing else", () => {
    const base = seeds();
    let s = 12345;
    const rnd = (k: number) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % k; };
    let failed = 0, decoded = 0;
    for (let t = 0; t < 4000; t++) {
      const src = base[t % base.length];
      let b = src.slice();
      switch (t % 5) {
        case 0: for (let k = 0; k < 1 + rnd(4); k++) b[rnd(b.length)] ^= 1 << rnd(8); break;
        case 1: { const at = 5 + rnd(31); b[at] = [0, 1, 0xff, 0x7f, 0x80][rnd(5)]; break; }
        case 2: b = b.subarray(0, rnd(b.length)); break;
        case 3: { const extra = new Uint8Array(b.length + 1 + rnd(64)); extra.set(b); for (let k = b.length; k < extra.length; k++) extra[k] = rnd(256); b = extra; break; }
        default: { const other = base[rnd(base.length)]; const cut = 36 + rnd(Math.max(1, Math.min(b.length, other.length) - 36)); const c = new Uint8Array(other.length); c.set(b.subarray(0, cut)); c.set(other.subarray(cut), cut); b = c; }
      }
      // The TypeScript decoder, the codec (the native addon when built) and the label query.
      for (const run of [() => decodeCompresso(b, SPEC), () => compressoCodec.decode(b, SPEC) as Uint8Array, () => compressoLabels(b, SPEC)]) {
        try {
          const r = run();
          if (r instanceof Uint8Array) expect(r.byteLength).toBe(N * 8);
          decoded++;
        } catch (e) {
          if (!isCloudVolumeError(e, "DECODE_FAILED")) throw new Error(`case ${t}: ${String(e)}`);
          failed++;
        }
      }
    }
    expect(failed).toBeGreaterThan(1000); // the mutations do break streams
    expect(decoded).toBeGreaterThan(100);
  }, 60_000);
});
