/**
 * The README's demo: create a Precomputed layer under ./demo-data, write a
 * synthetic volume, read it back (whole and a non-aligned sub-box), print a
 * summary. Uses only the public API, as a user would.
 */
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { CloudVolume } from "./index.js";

const dir = resolve(process.argv[2] ?? "demo-data", "image");
await rm(dir, { recursive: true, force: true });

const [X, Y, Z] = [256, 256, 64];
const info = CloudVolume.createNewInfo({
  layerType: "image", dataType: "uint8", encoding: "raw",
  resolution: [4, 4, 40], volumeSize: [X, Y, Z], chunkSize: [64, 64, 32], voxelOffset: [0, 0, 0],
});
const vol = await CloudVolume.open(`precomputed://file://${dir}`, { info });
await vol.commitInfo();

// Deterministic test pattern, Fortran order (x fastest).
const data = new Uint8Array(X * Y * Z);
for (let z = 0, i = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++, i++) data[i] = (3 * x + 2 * y + 5 * z) & 0xff;

let t = performance.now();
await vol.upload([0, 0, 0, X, Y, Z], data);
const writeMs = performance.now() - t;

t = performance.now();
const whole = await vol.download([0, 0, 0, X, Y, Z]);
const readMs = performance.now() - t;
let mismatches = 0;
for (let i = 0; i < data.length; i++) if (whole.data[i] !== data[i]) mismatches++;

const sub = await vol.download([10, 20, 5, 100, 77, 40]);
let subMismatches = 0;
for (let z = 0; z < 35; z++) for (let y = 0; y < 57; y++) for (let x = 0; x < 90; x++) {
  if (sub.data[x + 90 * (y + 57 * z)] !== ((3 * (x + 10) + 2 * (y + 20) + 5 * (z + 5)) & 0xff)) subMismatches++;
}

const mb = data.byteLength / 1e6;
console.log(`layer      ${vol.url}`);
console.log(`volume     ${vol.shape.join("x")} ${vol.dtype}, chunks ${vol.chunkSize.join("x")}, encoding ${vol.encoding}, compression ${vol.writeCompression() ?? "none"}`);
console.log(`upload     ${mb.toFixed(1)} MB in ${writeMs.toFixed(0)} ms`);
console.log(`download   ${mb.toFixed(1)} MB in ${readMs.toFixed(0)} ms, ${mismatches} mismatched voxels`);
console.log(`sub-box    ${sub.bbox} shape ${sub.shape.join("x")}, ${subMismatches} mismatched voxels`);
await vol.close();
if (mismatches || subMismatches) {
  console.error("demo FAILED: read-back differs from what was written");
  process.exitCode = 1;
} else {
  console.log("demo OK");
}
