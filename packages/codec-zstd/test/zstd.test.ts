import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "@cloudvolume/core";
import { describeByteCodec, fixturePath, hasFixture, randomTestBytes, readGroundTruth, type ByteCodecGolden } from "@cloudvolume/testing";
import { zstd, zstdCodec, zstdCompress, zstdDecompress, ZSTD_SUFFIX } from "@cloudvolume/codec-zstd";

/**
 * Chunks numcodecs (Python, libzstd 1.5) wrote for zarr2_u16be_zstd: shape (8,24,40),
 * chunks (8,16,16), C order, big-endian uint16, so chunk (0,j,k) holds the ground
 * truth's [0:8, 16j:16j+16, 16k:16k+16] as big-endian words, zero-padded past the edges.
 */
function zarrGoldens(): ByteCodecGolden[] {
  if (!hasFixture("zarr2_u16be_zstd")) return [];
  const gt = readGroundTruth("zarr2_u16be_zstd");
  const [Z, Y, X] = gt.shape;
  const src = new DataView(gt.bytes.buffer, gt.bytes.byteOffset, gt.bytes.byteLength);
  const out: ByteCodecGolden[] = [];
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < 3; k++) {
      const decoded = new Uint8Array(8 * 16 * 16 * 2);
      const dv = new DataView(decoded.buffer);
      for (let z = 0; z < 8; z++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const gy = 16 * j + y, gx = 16 * k + x;
        if (gy >= Y || gx >= X || z >= Z) continue;
        dv.setUint16(2 * (x + 16 * (y + 16 * z)), src.getUint16(2 * (gx + X * (gy + Y * z)), true), false);
      }
      const name = `zarr2_u16be_zstd/data.zarr/0.${j}.${k}`;
      out.push({ name, encoded: new Uint8Array(readFileSync(join(fixturePath("zarr2_u16be_zstd"), "data.zarr", `0.${j}.${k}`))), decoded });
    }
  }
  const tp = join(fixturePath("thirdparty_zarr2_from_zarr_python"), "data.zarr", "1d.contiguous.zstd.i2", "0");
  out.push({ name: "thirdparty 1d.contiguous.zstd.i2/0", encoded: new Uint8Array(readFileSync(tp)), decoded: new Uint8Array(new Int16Array([1, 2, 3, 4]).buffer) });
  return out;
}
const golden = zarrGoldens();

describeByteCodec("zstd (numcodecs.js WebAssembly)", () => zstd().load(), { golden });

describe("zstd specifics", () => {
  it("found the 7 numcodecs-written chunks", () => {
    expect(golden.length).toBe(7);
  });

  it("plugin descriptor is metadata-only and loads the codec", async () => {
    const p = zstd();
    expect(p).toMatchObject({ kind: "compression", names: ["zstd"], package: "@cloudvolume/codec-zstd" });
    expect(await p.load()).toBe(zstdCodec);
    expect(zstdCodec).toMatchObject({ name: "zstd", suffix: ZSTD_SUFFIX });
  });

  it("levels come from `level`, else a codec configuration's params.level; higher levels shrink more", async () => {
    const data = new Uint8Array(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
    const l1 = await zstdCodec.encode(data, { level: 1 });
    const l19 = await zstdCodec.encode(data, { params: { id: "zstd", level: 19 } });
    expect(l19.byteLength).toBeLessThan(l1.byteLength);
    expect(await zstdCodec.decode(l19)).toEqual(data);
    await expect(Promise.resolve().then(() => zstdCodec.encode(data, { level: 23 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("concatenated frames decode to the concatenation", async () => {
    const a = randomTestBytes(3000, 3);
    const b = new TextEncoder().encode("second frame");
    const both = new Uint8Array([...(await zstdCompress(a)), ...(await zstdCompress(b))]);
    expect(await zstdDecompress(both)).toEqual(new Uint8Array([...a, ...b]));
  });

  it("trailing garbage after a frame is DECODE_FAILED, not silently dropped", async () => {
    const enc = await zstdCompress(randomTestBytes(1000, 4));
    const err = await zstdDecompress(new Uint8Array([...enc, 1, 2, 3, 4, 5, 6, 7, 8]), "k/x").catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect((err as { key?: string }).key).toBe("k/x");
  });
});
