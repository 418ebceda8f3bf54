import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, copyBox, type ChunkSpec } from "@cloudvolume/core";
import { describeArrayCodec, fixturePath, readGroundTruth } from "@cloudvolume/testing";
import { jpegBackend, jpegCodec, jpegWasmCodec } from "@cloudvolume/codec-jpeg";

/**
 * The Node entry's libturbojpeg codec (CloudVolume's own JPEG library, through its
 * simplejpeg defaults): on every chunk of the gray and RGB fixtures it decodes to the
 * WebAssembly codec's voxels (which are simplejpeg's), and its encoding of the ground
 * truth at the scale's quality is the same bytes as CloudVolume's file. Under CI the
 * addon must be built.
 */
const native = jpegBackend().backend === "libturbojpeg";
if (process.env.CI && !native) throw new Error(`libturbojpeg addon missing under CI: ${jpegBackend().why}`);

describe.skipIf(!native)("jpeg on libturbojpeg", () => {
  for (const fixture of ["pc_image_u8_jpeg", "pc_image_rgb_jpeg"]) {
    it(`${fixture}: every chunk decodes as the WebAssembly codec does; our encoding is CloudVolume's bytes`, async () => {
      const info = JSON.parse(readFileSync(join(fixturePath(fixture), "info"), "utf8"));
      const dir = join(fixturePath(fixture), info.scales[0].key);
      const gt = readGroundTruth(fixture);
      const C: number = info.num_channels;
      const names = readdirSync(dir);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
        const box = new Bbox([x[0], y[0], z[0]], [x[1], y[1], z[1]]);
        const s = box.size();
        const spec: ChunkSpec = { shape: s, channels: C, dtype: "uint8", key: name, params: info.scales[0] };
        const bytes = new Uint8Array(readFileSync(join(dir, name)));
        const ours = await jpegCodec.decode(bytes, spec), wasm = await jpegWasmCodec.decode(bytes, spec);
        expect(Buffer.from(ours).equals(Buffer.from(wasm)), `${name}: decoded voxels`).toBe(true);
        const n = s[0] * s[1] * s[2];
        const truth = new Uint8Array(n * C);
        const plane = gt.shape[0] * gt.shape[1] * gt.shape[2];
        for (let c = 0; c < C; c++) {
          copyBox({ src: gt.bytes.subarray(c * plane, (c + 1) * plane), srcShape: [gt.shape[0], gt.shape[1], gt.shape[2]], srcOrigin: box.min, dst: truth.subarray(c * n, (c + 1) * n), dstShape: s, dstOrigin: [0, 0, 0], size: s, bytesPerVoxel: 1 });
        }
        const encoded = await jpegCodec.encode!(truth, spec);
        expect(Buffer.from(encoded).equals(Buffer.from(bytes)), `${name}: bytes equal CloudVolume's`).toBe(true);
      }
    });
  }
});

// jpeg.test.ts runs the conformance suite on the Node entry's codec (this one, when
// built); the WebAssembly codec, its fallback, gets the same here.
describeArrayCodec("jpeg (WebAssembly fallback, random voxels, quality 95)", () => jpegWasmCodec, { dtypes: ["uint8"], channels: [1, 3], maxRmse: 40, params: { jpeg_quality: 95 } });
