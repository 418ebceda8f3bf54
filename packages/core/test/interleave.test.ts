import { describe, expect, it } from "vitest";
import type { ChunkSpec } from "../src/codec.js";
import { checkPictureSize, deinterleave, interleave, type PictureSamples } from "../src/interleave.js";
import { expectCode, rng } from "./helpers.js";

type Ctor = new (n: number) => PictureSamples;
const KINDS: [string, Ctor, number][] = [
  ["uint8", Uint8Array, 0xff],
  ["uint8 (clamped)", Uint8ClampedArray, 0xff],
  ["uint16", Uint16Array, 0xffff],
];

/** Brute force, straight from the spec: voxel (x, y, z, c) of the Fortran chunk is pixel (x, y + Y*z) of the picture, sample c. */
function pictureOf(planar: PictureSamples, [X, Y, Z]: number[], channels: number, stride: number, Out: Ctor): PictureSamples {
  const width = X;
  const pixels = new Out(X * Y * Z * stride);
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          const row = y + Y * z;
          pixels[(row * width + x) * stride + c] = planar[x + X * (y + Y * (z + Z * c))];
        }
  return pixels;
}

function random(Ctor: Ctor, n: number, max: number, seed: number): PictureSamples {
  const r = rng(seed);
  const a = new Ctor(n);
  for (let i = 0; i < n; i++) a[i] = r.int(0, max);
  return a;
}

describe("interleave / deinterleave", () => {
  const shapes = [
    [1, 1, 1],
    [3, 2, 1],
    [5, 4, 3],
    [16, 7, 2],
  ];
  for (const [name, Ctor, max] of KINDS) {
    for (let channels = 1; channels <= 4; channels++) {
      for (const stride of [channels, 4]) {
        it(`${name}, ${channels} channel(s), stride ${stride}: matches the brute-force picture both ways`, () => {
          for (const [i, shape] of shapes.entries()) {
            const n = shape[0] * shape[1] * shape[2];
            const planar = random(Ctor, n * channels, max, 1000 * channels + 10 * stride + i);
            const expected = pictureOf(planar, shape, channels, stride, Ctor);

            const pixels = new Ctor(n * stride);
            interleave(planar, channels, n, stride, pixels);
            expect(Array.from(pixels)).toEqual(Array.from(expected));

            const back = new Ctor(n * channels);
            deinterleave(expected, stride, channels, n, back);
            expect(Array.from(back)).toEqual(Array.from(planar));
          }
        });
      }
    }
  }

  it("leaves the extra samples of each pixel as they are (stride > channels)", () => {
    const n = 6;
    const pixels = new Uint8Array(n * 4).fill(255);
    interleave(Uint8Array.from({ length: n * 3 }, (_, i) => i), 3, n, 4, pixels);
    for (let p = 0; p < n; p++) {
      expect([pixels[4 * p], pixels[4 * p + 1], pixels[4 * p + 2], pixels[4 * p + 3]]).toEqual([p, n + p, 2 * n + p, 255]);
    }
  });

  it("drops the extra samples when reading (an RGBA decoder's alpha)", () => {
    const rgba = Uint8ClampedArray.from([1, 2, 3, 99, 4, 5, 6, 99]);
    const planar = new Uint8Array(6);
    deinterleave(rgba, 4, 3, 2, planar);
    expect(Array.from(planar)).toEqual([1, 4, 2, 5, 3, 6]);
    const grey = new Uint8Array(2);
    deinterleave(rgba, 4, 1, 2, grey);
    expect(Array.from(grey)).toEqual([1, 4]);
  });

  it("one channel at stride 1 copies exactly n samples between array kinds", () => {
    const src = Uint8ClampedArray.from([7, 8, 9, 10, 11]);
    const dst = new Uint8Array(4).fill(1);
    deinterleave(src, 1, 1, 3, dst);
    expect(Array.from(dst)).toEqual([7, 8, 9, 1]);
    const pic = new Uint16Array(4);
    interleave(Uint16Array.from([500, 600, 700, 800]), 1, 3, 1, pic);
    expect(Array.from(pic)).toEqual([500, 600, 700, 0]);
  });

  it("uint16 samples survive a round trip through interleaved pixels whole", () => {
    const n = 64 * 64 * 2;
    for (let channels = 1; channels <= 4; channels++) {
      const planar = random(Uint16Array, n * channels, 0xffff, channels);
      const pixels = new Uint16Array(n * channels);
      interleave(planar, channels, n, channels, pixels);
      const back = new Uint16Array(n * channels);
      deinterleave(pixels, channels, channels, n, back);
      expect(back).toEqual(planar);
    }
  });
});

describe("checkPictureSize", () => {
  const chunk: ChunkSpec = { shape: [4, 3, 2], channels: 1, dtype: "uint8", key: "1_1_1/0-4_0-3_0-2" };

  it("accepts a picture of width x and height y*z", () => {
    expect(() => checkPictureSize("png", chunk, 4, 6)).not.toThrow();
  });

  it("rejects any other size as DECODE_FAILED naming the codec, the chunk and both sizes", () => {
    for (const [w, h] of [
      [6, 4],
      [4, 3],
      [4, 7],
    ]) {
      const err = expectCode(() => checkPictureSize("jpeg", chunk, w, h), "DECODE_FAILED");
      expect(err.message).toBe(
        `jpeg chunk 1_1_1/0-4_0-3_0-2 (4x3x2 voxels, 1 channel(s) of uint8): the picture is ${w}x${h} pixels, the chunk needs 4x6 (width x, height y*z); ` +
          "the file belongs to another chunk or the scale's chunk size in info is wrong",
      );
      expect((err as { key?: string }).key).toBe(chunk.key);
    }
  });
});
