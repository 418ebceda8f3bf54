import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Bbox, copyBox, type ChunkSpec, type DataType } from "@cloudvolume/core";
import { fixturePath, readGroundTruth, requireReference, runReference, seededRandom, tempDir } from "@cloudvolume/testing";
import { fastPngCodec, pngBackend, pngCodec } from "@cloudvolume/codec-png";

/**
 * The Node entry's libspng codec (CloudVolume's own PNG library): on every chunk of the
 * png fixture it decodes to the ground truth and to fast-png's voxels; pyspng (in the
 * reference CloudVolume) decodes what it writes, for 8- and 16-bit samples and 1-4
 * channels; pictures that are not the chunk's still get fast-png's explanation. Under CI
 * the addon must be built.
 */
const native = pngBackend().backend === "libspng";
if (process.env.CI && !native) throw new Error(`libspng addon missing under CI: ${pngBackend().why}`);
const ref = requireReference();

describe.skipIf(!native)("png on libspng", () => {
  it("pc_image_u8_png: every chunk decodes to the ground truth, as fast-png does", async () => {
    const f = "pc_image_u8_png";
    const info = JSON.parse(readFileSync(join(fixturePath(f), "info"), "utf8"));
    const dir = join(fixturePath(f), info.scales[0].key);
    const gt = readGroundTruth(f);
    const names = readdirSync(dir);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const [x, y, z] = name.split("_").map((r) => r.split("-").map(Number));
      const box = new Bbox([x[0], y[0], z[0]], [x[1], y[1], z[1]]);
      const s = box.size();
      const spec: ChunkSpec = { shape: s, channels: 1, dtype: "uint8", key: name };
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      const truth = new Uint8Array(s[0] * s[1] * s[2]);
      copyBox({ src: gt.bytes, srcShape: [gt.shape[0], gt.shape[1], gt.shape[2]], srcOrigin: box.min, dst: truth, dstShape: s, dstOrigin: [0, 0, 0], size: s, bytesPerVoxel: 1 });
      expect(Buffer.from(await pngCodec.decode(bytes, spec)).equals(Buffer.from(truth)), name).toBe(true);
      expect(Buffer.from(await fastPngCodec.decode(bytes, spec)).equals(Buffer.from(truth)), name).toBe(true);
    }
  });

  it("a picture that is not the chunk's (16-bit for a uint8 layer) gets fast-png's error", async () => {
    const spec16: ChunkSpec = { shape: [4, 3, 2], channels: 1, dtype: "uint16", key: "k" };
    const file = await pngCodec.encode!(new Uint8Array(4 * 3 * 2 * 2).fill(3), spec16);
    await expect(Promise.resolve().then(() => pngCodec.decode(file, { ...spec16, dtype: "uint8" }))).rejects.toMatchObject({ code: "DECODE_FAILED", message: expect.stringMatching(/16-bit/) });
  });

  it.skipIf(!ref)("pyspng (the reference CloudVolume's) decodes what we write: 8/16-bit, 1-4 channels", () => {
    const dir = tempDir("cv-spng-ref-");
    const cases: { dtype: DataType; shape: [number, number, number]; channels: number }[] = [];
    for (const dtype of ["uint8", "uint16"] as DataType[]) for (const channels of [1, 2, 3, 4]) cases.push({ dtype, shape: [13, 7, 3], channels });
    const r = seededRandom(5);
    const data = cases.map((c) => {
      const n = c.shape[0] * c.shape[1] * c.shape[2] * c.channels * (c.dtype === "uint16" ? 2 : 1);
      return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    });
    cases.forEach((c, i) => {
      writeFileSync(join(dir, `${i}.png`), pngCodec.encode!(data[i], { shape: c.shape, channels: c.channels, dtype: c.dtype, key: String(i) }) as Uint8Array);
    });
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
    runReference(ref!, `
import sys, json, numpy as np, pyspng
d = sys.argv[1]
for i, c in enumerate(json.load(open(d + "/cases.json"))):
    a = pyspng.load(open("%s/%d.png" % (d, i), "rb").read())  # (height, width[, channels]), interleaved
    # pyspng 1.1.3 loads 16-bit RGB as RGBA (alpha 65535), and 16-bit gray shaped as if it
    # had an alpha channel with the samples in the first half (CloudVolume's decode_png
    # flattens it): undo both.
    h, w, k = c["shape"][1] * c["shape"][2], c["shape"][0], c["channels"]
    if c["dtype"] == "uint16" and k == 3:
        a = a[:, :, :3]
    a = a.reshape(-1)[: h * w * k].reshape(h, w, k)
    planar = np.stack([a[:, :, k] for k in range(c["channels"])])  # channel, y*z, x
    open("%s/%d.raw" % (d, i), "wb").write(planar.astype(c["dtype"]).tobytes())
print("ok")
`, [dir]);
    cases.forEach((c, i) => {
      expect(Buffer.from(readFileSync(join(dir, `${i}.raw`))).equals(Buffer.from(data[i])), `${c.dtype} ${c.channels} channel(s)`).toBe(true);
    });
  });
});
