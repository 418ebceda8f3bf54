import { readFileSync } from "node:fs";
import { join } from "node:path";
import zlibNode from "node:zlib";
import { describe, expect, it } from "vitest";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, readGroundTruth, type ByteCodecGolden } from "@cloudvolume/testing";
import { gzip, zlib, zlibCodec, ZLIB_SUFFIX } from "@cloudvolume/codec-gzip";
import { zlib as webZlib, zlibCodec as webZlibCodec } from "../src/index.js";

/**
 * The chunks numcodecs' Zlib (level 6) wrote for zarr2_f32_zlib_ragged_fill: float32
 * (30,50,45), chunks (16,16,16), C order, fill_value -1.5; only [0:16, 0:32, 0:45] was
 * written, so chunks 0.{0,1}.{0,1,2} exist, the x edge padded with the fill value.
 */
function zlibGoldens(): ByteCodecGolden[] {
  if (!hasFixture("zarr2_f32_zlib_ragged_fill")) return [];
  const gt = readGroundTruth("zarr2_f32_zlib_ragged_fill");
  const [, Y, X] = gt.shape;
  const src = new Float32Array(gt.bytes.slice().buffer);
  const out: ByteCodecGolden[] = [];
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < 3; k++) {
      const chunk = new Float32Array(16 * 16 * 16).fill(-1.5);
      for (let z = 0; z < 16; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const gy = 16 * j + y, gx = 16 * k + x;
        if (gy < Y && gx < X) chunk[x + 16 * (y + 16 * z)] = src[gx + X * (gy + Y * z)];
      }
      const name = `zarr2_f32_zlib_ragged_fill/data.zarr/0.${j}.${k}`;
      out.push({ name, encoded: new Uint8Array(readFileSync(join(fixturePath("zarr2_f32_zlib_ragged_fill"), "data.zarr", `0.${j}.${k}`))), decoded: new Uint8Array(chunk.buffer) });
    }
  }
  out.push({
    name: "thirdparty 1d.contiguous.zlib.i2/0",
    encoded: new Uint8Array(readFileSync(join(fixturePath("thirdparty_zarr2_from_zarr_python"), "data.zarr", "1d.contiguous.zlib.i2", "0"))),
    decoded: new Uint8Array(new Int16Array([1, 2, 3, 4]).buffer),
  });
  return out;
}
const golden = zlibGoldens();

describeByteCodec("zlib (node:zlib)", () => zlib().load(), { golden });
describeByteCodec("zlib (Compression Streams)", () => webZlib().load(), { golden });

describe("zlib specifics", () => {
  it("found the 7 numcodecs-written zlib chunks", () => expect(golden.length).toBe(7));

  it("plugin descriptors are metadata-only, load their codec, and gzip() is unchanged", async () => {
    for (const [p, codec] of [[zlib(), zlibCodec], [webZlib(), webZlibCodec]] as const) {
      expect(p).toMatchObject({ kind: "compression", names: ["zlib"], package: "@cloudvolume/codec-gzip" });
      expect(await p.load()).toBe(codec);
      expect(codec).toMatchObject({ name: "zlib", suffix: ZLIB_SUFFIX });
    }
    expect(gzip().names).toEqual(["gzip"]);
  });

  it("writes RFC 1950 streams any zlib inflates, at the configured level", async () => {
    const data = randomTestBytes(40_000, 8).map((b) => b & 0x07);
    for (const codec of [zlibCodec, webZlibCodec]) {
      const enc = await codec.encode(data, { params: { id: "zlib", level: 1 } });
      expect(new Uint8Array(zlibNode.inflateSync(enc))).toEqual(data);
    }
    expect(await zlibCodec.encode(data, { params: { id: "zlib", level: 1 } })).toEqual(new Uint8Array(zlibNode.deflateSync(data, { level: 1 })));
    expect(await zlibCodec.encode(data, { level: 9 })).toEqual(new Uint8Array(zlibNode.deflateSync(data, { level: 9 })));
  });

  it("a gzip stream is not a zlib stream", async () => {
    await expect(zlibCodec.decode(new Uint8Array(zlibNode.gzipSync(Uint8Array.of(1, 2, 3))), { key: "k" })).rejects.toMatchObject({ code: "DECODE_FAILED", key: "k" });
  });
});
