import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Context } from "@cloudvolume/core";
import { precomputed, PrecomputedVolume } from "@cloudvolume/format-precomputed";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { compressedSegmentation } from "@cloudvolume/codec-compressed-segmentation";
import { fixturePath, readExpected, readGroundTruth, startHttpTestServer, type HttpTestServer, seededRandom } from "@cloudvolume/testing";
import { httpStorage } from "@cloudvolume/storage-http";

/**
 * The foundation's precomputed read tests over http://: CloudVolume-written fixtures
 * served by a local web server two ways, and read bit for bit against the ground
 * truth. "cdn": `x` answered from `x.gz` with Content-Encoding: gzip, which fetch
 * decodes (as GCS/S3 public endpoints serve objects CloudFiles uploaded). "plain":
 * the files as they are on disk, so the store must find `x.gz` by name and the format
 * layer must gunzip it (a file://-written layer copied onto a plain web server).
 */

const servers: HttpTestServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

const ctx = () => new Context({ plugins: [httpStorage(), precomputed(), raw(), gzip(), compressedSegmentation()] });
const asBytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const rng = seededRandom;

const CASES: Array<[string, "cdn" | "plain"]> = [
  ["pc_image_u8_raw_gzip", "cdn"],
  ["pc_image_u8_raw_gzip", "plain"],
  ["pc_seg_u64_cseg", "plain"],
  ["pc_image_u8_multiscale", "cdn"],
  ["pc_image_u8_multiscale", "plain"],
  ["pc_seg_u32_raw_gzip", "plain"],
  ["pc_image_u8_sharded", "plain"],
  ["pc_image_u8_sharded", "cdn"],
];

describe.each(CASES)("reading %s over http (%s)", (name, mode) => {
  it("every mip whole, and 10 random sub-boxes of mip 0, bit for bit", async () => {
    const server = await startHttpTestServer(fixturePath(name), { encoding: mode, basePath: "/data/layer" });
    servers.push(server);
    const exp = readExpected(name);
    const mips = exp.ground_truth_by_mip ? Object.keys(exp.ground_truth_by_mip).map(Number) : [0];
    const vol = await PrecomputedVolume.open(ctx(), server.url);
    for (const mip of mips) {
      const gt = readGroundTruth(name, mip);
      const cut = await vol.download(vol.bounds(mip), { mip });
      expect(asBytes(cut.data).equals(Buffer.from(gt.bytes)), `mip ${mip}`).toBe(true);
    }
    const gt = readGroundTruth(name);
    const b = vol.bounds(0);
    const bpv = gt.bytes.byteLength / gt.shape.reduce((p, q) => p * q, 1);
    const rand = rng(name.length * 31 + mode.length);
    for (let i = 0; i < 10; i++) {
      const min = [0, 1, 2].map((d) => b.min[d] + Math.floor(rand() * (b.max[d] - b.min[d])));
      const max = [0, 1, 2].map((d) => min[d] + 1 + Math.floor(rand() * (b.max[d] - min[d])));
      const cut = await vol.download([...min, ...max]);
      const sx = max[0] - min[0], sy = max[1] - min[1];
      for (let z = min[2]; z < max[2]; z++) for (let y = min[1]; y < max[1]; y++) {
        const src = ((z - b.min[2]) * gt.shape[1] * gt.shape[0] + (y - b.min[1]) * gt.shape[0] + (min[0] - b.min[0])) * bpv;
        const dst = ((z - min[2]) * sy * sx + (y - min[1]) * sx) * bpv;
        const want = gt.bytes.subarray(src, src + sx * bpv);
        const got = asBytes(cut.data).subarray(dst, dst + sx * bpv);
        if (!Buffer.from(want).equals(got)) throw new Error(`box ${min}-${max}: row y=${y} z=${z} differs`);
      }
    }
    await vol.close();
    // Sharded scales are read with ranges of the shard files (index, then the chunk's bytes).
    if (name.includes("sharded")) expect(server.requests.filter((r) => r.headers.range && r.status === 206).length).toBeGreaterThan(1);
    // How the chunks travelled: with Content-Encoding in cdn mode, by their .gz names otherwise.
    const gzRequests = server.requests.filter((r) => r.path.endsWith(".gz") && r.status === 200).length;
    const encoded = server.requests.filter((r) => r.status === 200 && !r.path.endsWith(".gz") && !r.path.endsWith("/info")).length;
    if (readFileSync(join(fixturePath(name), "FIXTURE.json"), "utf8").includes('.gz"')) {
      if (mode === "cdn") expect([gzRequests, encoded > 0]).toEqual([0, true]);
      else expect(gzRequests).toBeGreaterThan(0);
    }
  });
});

describe("fillMissing over http", () => {
  it("a missing chunk (404, or 403 from a bucket without list permission) reads as background", async () => {
    const server = await startHttpTestServer(fixturePath("pc_image_u8_raw_gzip"), { encoding: "cdn" });
    servers.push(server);
    const chunk = "4_4_40/0-32_0-32_0-16";
    const vol = await PrecomputedVolume.open(ctx(), server.url, { fillMissing: true });
    // Three names are tried for a missing chunk: x, x.gz, x.br.
    server.failNext({ status: 403, pathIncludes: chunk, times: 3 });
    const cut = await vol.download([0, 0, 0, 32, 32, 16]);
    expect(cut.data.every((v) => v === 0)).toBe(true);
    const strict = await PrecomputedVolume.open(ctx(), server.url);
    server.failNext({ status: 404, pathIncludes: chunk, times: 3 });
    await expect(strict.download([0, 0, 0, 32, 32, 16])).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
