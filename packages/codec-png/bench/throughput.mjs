// Decode throughput of the built codec (run `pnpm build` first): node bench/throughput.mjs
// Voxels: a 256x256x16 chunk of a smooth image with noise (roughly EM-like), and uniform
// random voxels (the worst case). MB/s counts decoded voxel bytes. Not part of the tests.
import { pngCodec } from "../dist/index.js";

const shape = [256, 256, 16];
function voxels(kind, channels, bytesPerVoxel = 1) {
  const [X, Y, Z] = shape;
  const n = X * Y * Z;
  const out = new Uint8Array(n * channels * bytesPerVoxel);
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          const i = c * n + x + X * (y + Y * z);
          const v = kind === "random" ? rnd() * 256 : 128 + 60 * Math.sin(x / 17 + c) * Math.cos(y / 23 + z / 7) + (rnd() - 0.5) * 24;
          if (bytesPerVoxel === 1) out[i] = Math.max(0, Math.min(255, Math.round(v)));
          else new DataView(out.buffer).setUint16(i * 2, Math.max(0, Math.min(65535, Math.round(v * 257))), true);
        }
  return out;
}

export async function measure(codec, chunk, data, label) {
  const encoded = await codec.encode(data, chunk);
  const out = new Uint8Array(data.byteLength);
  for (let i = 0; i < 3; i++) await codec.decode(encoded, chunk, out); // warm up
  let iters = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    await codec.decode(encoded, chunk, out);
    iters++;
  }
  const s = (performance.now() - t0) / 1000;
  const te = performance.now();
  await codec.encode(data, chunk);
  const encMs = performance.now() - te;
  console.log(`${label}: ${(encoded.byteLength / 1024).toFixed(0)} KiB (ratio ${(data.byteLength / encoded.byteLength).toFixed(2)}), decode ${((iters * data.byteLength) / 1e6 / s).toFixed(1)} MB/s (${((s / iters) * 1000).toFixed(1)} ms/chunk), encode ${encMs.toFixed(0)} ms/chunk`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [dtype, bpv] of [["uint8", 1], ["uint16", 2]])
    for (const kind of ["smooth+noise", "random"]) {
      const chunk = { shape, channels: 1, dtype, key: "bench" };
      await measure(pngCodec, chunk, voxels(kind, 1, bpv), `png ${dtype} 256x256x16x1 ${kind}`);
    }
  await measure(pngCodec, { shape, channels: 3, dtype: "uint8", key: "bench" }, voxels("smooth+noise", 3), "png uint8 256x256x16x3 smooth+noise");
}
export { voxels, shape };
