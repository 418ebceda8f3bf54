import { readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bytesOf, viewAs, type ByteCodec, type Plugin } from "@cloudvolume/core";
import { copyFixture, fixturePath, readExpected, readGroundTruth, tempDir, seededRandom } from "@cloudvolume/testing";
import { gzipCodec } from "@cloudvolume/codec-gzip";
import { compressedMortonCode, createNewInfo, decodeShardFile, encodeShard, parseShardingSpec } from "@cloudvolume/format-precomputed";
import { storedEdgeExtent } from "@cloudvolume/chunks";
import { CloudVolume, isCloudVolumeError } from "../src/index.js";

/**
 * The sharded fixtures written by CloudVolume 12.14.4 (CloudVolume.__setitem__ ->
 * image.make_shard), read through the public API bit for bit, and written again by us
 * from the same ground truth with the same sharding spec.
 */
const FIXTURES = ["pc_image_u8_sharded", "pc_seg_u64_cseg_sharded"];

const rng = seededRandom;

function expectedCutout(gt: Uint8Array, shape: number[], bpv: number, min: number[], max: number[]): Uint8Array {
  const sx = max[0] - min[0], sy = max[1] - min[1], sz = max[2] - min[2];
  const out = new Uint8Array(sx * sy * sz * bpv);
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) {
    const src = (min[0] + shape[0] * (min[1] + y + shape[1] * (min[2] + z))) * bpv;
    out.set(gt.subarray(src, src + sx * bpv), (sx * (y + sy * z)) * bpv);
  }
  return out;
}

const info = (name: string) => JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
const shardFiles = (dir: string) => readdirSync(join(dir, "4_4_40")).filter((f) => f.endsWith(".shard")).sort();

describe.each(FIXTURES)("fixture %s", (name) => {
  it("reads the whole volume and 20 random sub-boxes bit for bit", async () => {
    const gt = readGroundTruth(name);
    const vol = await CloudVolume.open(`precomputed://file://${fixturePath(name)}`);
    expect(vol.isSharded()).toBe(true);
    expect(vol.shardShape()).toEqual(readExpected(name).shard_shape_voxels);
    const whole = await vol.download(vol.bounds);
    expect(Buffer.from(bytesOf(whole.data)).equals(Buffer.from(gt.bytes))).toBe(true);
    const bpv = gt.bytes.length / gt.shape.reduce((p, q) => p * q, 1);
    const rand = rng(name.length * 104729);
    const b = vol.bounds;
    for (let i = 0; i < 20; i++) {
      const min = [0, 1, 2].map((d) => b.min[d] + Math.floor(rand() * (b.max[d] - b.min[d])));
      const max = [0, 1, 2].map((d) => min[d] + 1 + Math.floor(rand() * (b.max[d] - min[d])));
      const cut = await vol.download([...min, ...max]);
      expect(Buffer.from(bytesOf(cut.data)).equals(Buffer.from(expectedCutout(gt.bytes, gt.shape, bpv, min, max))), `box ${min}-${max}`).toBe(true);
    }
    await vol.close();
  });

  it("every stored chunk is a full chunk: these volumes are whole multiples of the chunk size (no edge chunks to learn from)", async () => {
    const i = info(name);
    const s = i.scales[0];
    const spec = parseShardingSpec(s.sharding);
    expect(s.size.every((n: number, d: number) => n % s.chunk_sizes[0][d] === 0)).toBe(true);
    const grid = s.size.map((n: number, d: number) => n / s.chunk_sizes[0][d]);
    let total = 0;
    for (const f of shardFiles(fixturePath(name))) {
      const chunks = await decodeShardFile(spec, readFileSync(join(fixturePath(name), "4_4_40", f)), { gzip: gzipCodec });
      total += chunks.size;
      if (s.encoding === "raw") for (const data of chunks.values()) expect(data.byteLength).toBe(16 * 16 * 16);
      // CloudVolume's cseg encoder puts block 0's values right after the block headers, which
      // is what storedEdgeExtent reads the block count from: a full 32x32x16 chunk (32 blocks)
      // seen as a would-be 24x32x8 edge chunk (12 blocks) is recognised as stored at the full size.
      if (s.encoding === "compressed_segmentation") {
        for (const data of chunks.values()) expect(storedEdgeExtent(s.encoding, data, [24, 32, 8], s.chunk_sizes[0], 1, 8, s.compressed_segmentation_block_size)).toBe("padded");
      }
    }
    expect(total).toBe(grid[0] * grid[1] * grid[2]);
  });
});

/**
 * A gzip codec that, for an input CloudVolume compressed when writing the fixture,
 * returns CloudVolume's own gzip bytes (Python's gzip module over Debian's zlib: header
 * mtime 0, OS byte 255), and decodes like ours. With it, a byte difference left in our
 * shard files could only come from the layout.
 */
function cloudFilesGzip(fixture: string): Plugin {
  const table = new Map<string, Uint8Array>();
  const spec = parseShardingSpec(info(fixture).scales[0].sharding);
  const len = 16 * 2 ** spec.minishardBits;
  for (const f of shardFiles(fixturePath(fixture))) {
    const file = readFileSync(join(fixturePath(fixture), "4_4_40", f));
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    for (let m = 0; m < len / 16; m++) {
      const start = len + Number(dv.getBigUint64(16 * m, true));
      const end = len + Number(dv.getBigUint64(16 * m + 8, true));
      if (start === end) continue;
      const gz = file.subarray(start, end);
      const index = gunzipSync(gz);
      table.set(index.toString("hex"), new Uint8Array(gz));
      const n = index.byteLength / 24;
      const iv = new DataView(index.buffer, index.byteOffset, index.byteLength);
      let off = len;
      for (let i = 0; i < n; i++) {
        off += Number(iv.getBigUint64(8 * (n + i), true));
        const size = Number(iv.getBigUint64(8 * (2 * n + i), true));
        const member = file.subarray(off, off + size);
        table.set(gunzipSync(member).toString("hex"), new Uint8Array(member));
        off += size;
      }
    }
  }
  const codec: ByteCodec = {
    name: "gzip",
    suffix: ".gz",
    decode: (b, o) => gzipCodec.decode(b, o),
    encode: (b) => {
      const hit = table.get(Buffer.from(b).toString("hex"));
      if (!hit) throw new Error("CloudVolume never compressed this input");
      return hit;
    },
  };
  return { kind: "compression", names: ["gzip"], package: "test-cloudfiles-gzip", load: async () => codec };
}

describe("writing the fixtures' ground truth with their sharding specs", () => {
  async function write(name: string, plugins: Plugin[] = []): Promise<string> {
    const gt = readGroundTruth(name);
    const dir = tempDir("cv-sharded-");
    const vol = await CloudVolume.open(dir, { info: info(name), plugins });
    await vol.commitInfo();
    await vol.upload(vol.bounds, viewAs(gt.bytes, vol.dtype));
    await vol.close();
    return dir;
  }

  it("pc_seg_u64_cseg_sharded (raw index, raw data): byte-identical shard files", async () => {
    const dir = await write("pc_seg_u64_cseg_sharded");
    expect(shardFiles(dir)).toEqual(shardFiles(fixturePath("pc_seg_u64_cseg_sharded")));
    for (const f of shardFiles(dir)) {
      expect(readFileSync(join(dir, "4_4_40", f)).equals(readFileSync(join(fixturePath("pc_seg_u64_cseg_sharded"), "4_4_40", f))), f).toBe(true);
    }
  });

  it("pc_image_u8_sharded (gzip index, gzip data): same chunks and order; bytes differ only inside the gzip members", async () => {
    const name = "pc_image_u8_sharded";
    const dir = await write(name);
    const spec = parseShardingSpec(info(name).scales[0].sharding);
    expect(shardFiles(dir)).toEqual(shardFiles(fixturePath(name)));
    let differing = 0;
    for (const f of shardFiles(dir)) {
      const ours = readFileSync(join(dir, "4_4_40", f));
      const theirs = readFileSync(join(fixturePath(name), "4_4_40", f));
      if (!ours.equals(theirs)) differing++;
      const a = await decodeShardFile(spec, ours, { gzip: gzipCodec });
      const b = await decodeShardFile(spec, theirs, { gzip: gzipCodec });
      expect([...a.keys()], f).toEqual([...b.keys()]); // same ids in the same file order
      for (const [id, data] of b) expect(Buffer.from(a.get(id)!).equals(Buffer.from(data)), `${f} chunk ${id}`).toBe(true);
      // The gzip members: Python writes OS byte 255, zlib (node) writes 3 (Unix); both mtime 0, XFL 2 (level 9).
      expect([...theirs.subarray(32, 42)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
      expect([...ours.subarray(32, 42)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    }
    expect(differing).toBe(4);
  });

  it("pc_image_u8_sharded with CloudVolume's own gzip output substituted: byte-identical, so the layout matches exactly", async () => {
    const name = "pc_image_u8_sharded";
    const dir = await write(name, [cloudFilesGzip(name)]);
    for (const f of shardFiles(dir)) {
      expect(readFileSync(join(dir, "4_4_40", f)).equals(readFileSync(join(fixturePath(name), "4_4_40", f))), f).toBe(true);
    }
  });

  it("transfer out of the sharded fixture and back with its spec gives the same shard files", async () => {
    const name = "pc_seg_u64_cseg_sharded";
    const src = await CloudVolume.open(fixturePath(name));
    const plainInfo = info(name);
    const flatDir = tempDir("cv-flat-");
    const flat = await CloudVolume.open(flatDir, { info: plainInfo });
    await flat.commitInfo();
    await src.transferTo(flat, { sharded: false });
    expect(readdirSync(join(flatDir, "4_4_40")).sort()).toEqual(["0-32_0-32_0-16.gz", "0-32_0-32_16-32.gz", "0-32_32-64_0-16.gz", "0-32_32-64_16-32.gz", "32-64_0-32_0-16.gz", "32-64_0-32_16-32.gz", "32-64_32-64_0-16.gz", "32-64_32-64_16-32.gz"]);
    const againDir = tempDir("cv-again-");
    const again = await CloudVolume.open(againDir, { info: { ...plainInfo, scales: [{ ...plainInfo.scales[0], sharding: undefined }] } });
    await again.commitInfo();
    const reflat = await CloudVolume.open(flatDir);
    await reflat.transferTo(again, { sharded: info(name).scales[0].sharding });
    for (const f of shardFiles(fixturePath(name))) {
      expect(readFileSync(join(againDir, "4_4_40", f)).equals(readFileSync(join(fixturePath(name), "4_4_40", f))), f).toBe(true);
    }
  });
});

describe("edge chunks of other encodings", () => {
  it.each([["compressed_segmentation", [2, 2, 2]], ["compressed_segmentation", [4, 4, 4]], ["raw", undefined]] as const)(
    "%s (block %j): written truncated, read back truncated or padded",
    async (encoding, block) => {
      const size = [6, 5, 7] as const;
      const info = createNewInfo({
        layerType: "segmentation", dataType: "uint64", encoding, resolution: [1, 1, 1], voxelOffset: [1, 2, 3],
        volumeSize: [...size], chunkSize: [4, 4, 4], compressedSegmentationBlockSize: block ? [...block] : undefined,
      });
      info.scales[0].sharding = { "@type": "neuroglancer_uint64_sharded_v1", hash: "identity", preshift_bits: 0, minishard_bits: 1, shard_bits: 0 };
      const n = size[0] * size[1] * size[2];
      const data = new BigUint64Array(n).map((_, i) => BigInt((i * 7919) % 13) * 0x100000001n);
      const dir = tempDir("cv-edge-");
      const vol = await CloudVolume.open(dir, { info });
      await vol.commitInfo();
      await vol.upload(vol.bounds, data);
      expect((await vol.download(vol.bounds)).data).toEqual(data);
      // Stored truncated: the (1,1,1) chunk decodes at 2x1x3.
      const codec = await vol.context.codec(encoding);
      const spec = parseShardingSpec(info.scales[0].sharding);
      const chunks = await decodeShardFile(spec, readFileSync(join(dir, "1_1_1", "0.shard")));
      const edgeId = compressedMortonCode([1, 1, 1], [2, 2, 2]);
      const edge = await codec.decode(chunks.get(edgeId)!, { shape: [2, 1, 3], channels: 1, dtype: "uint64", params: info.scales[0] });
      expect(edge.byteLength).toBe(2 * 1 * 3 * 8);

      // Now the same volume with every edge chunk encoded padded to 4x4x4 (padding = label 99).
      const entries: Array<[bigint, Uint8Array]> = [];
      for (let gz = 0; gz < 2; gz++) for (let gy = 0; gy < 2; gy++) for (let gx = 0; gx < 2; gx++) {
        const full = new BigUint64Array(64).fill(99n);
        for (let z = 0; z < 4; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
          const X = 4 * gx + x, Y = 4 * gy + y, Z = 4 * gz + z;
          if (X < size[0] && Y < size[1] && Z < size[2]) full[x + 4 * (y + 4 * z)] = data[X + size[0] * (Y + size[1] * Z)];
        }
        const bytes = await codec.encode!(new Uint8Array(full.buffer), { shape: [4, 4, 4], channels: 1, dtype: "uint64", params: info.scales[0] });
        entries.push([compressedMortonCode([gx, gy, gz], [2, 2, 2]), bytes]);
      }
      writeFileSync(join(dir, "1_1_1", "0.shard"), (await encodeShard(spec, entries)).data);
      const padded = await CloudVolume.open(dir);
      expect((await padded.download(padded.bounds)).data).toEqual(data);
      // The corner box [5,7) x [6,7) x [7,10): 2x1x3 voxels, all in the padded edge chunk (1,1,1).
      const want = new BigUint64Array(6);
      for (let z = 0; z < 3; z++) for (let x = 0; x < 2; x++) want[x + 2 * z] = data[(4 + x) + size[0] * (4 + size[1] * (4 + z))];
      expect((await padded.download([5, 6, 7, 7, 7, 10])).data).toEqual(want);
    },
  );
});

describe("malformed and missing shard files", () => {
  it("a truncated shard index is DECODE_FAILED naming the shard file", async () => {
    const dir = copyFixture("pc_image_u8_sharded");
    const path = join(dir, "4_4_40", "2.shard");
    writeFileSync(path, readFileSync(path).subarray(0, 20));
    const vol = await CloudVolume.open(dir);
    const err = await vol.download(vol.bounds).catch((e) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED")).toBe(true);
    expect(err.key).toBe("4_4_40/2.shard");
    expect(err.message).toMatch(/shard file 4_4_40\/2\.shard: the file is 20 bytes, shorter than its 32-byte shard index/);
    // The other shards still read.
    const gt = readGroundTruth("pc_image_u8_sharded");
    const cut = await vol.download([0, 0, 0, 32, 32, 32]);
    expect(Buffer.from(bytesOf(cut.data)).equals(Buffer.from(expectedCutout(gt.bytes, gt.shape, 1, [0, 0, 0], [32, 32, 32])))).toBe(true);
  });

  it("bad offsets (a minishard index or chunk past the end of the file) are DECODE_FAILED naming the shard file", async () => {
    const dir = copyFixture("pc_seg_u64_cseg_sharded");
    const path = join(dir, "4_4_40", "1.shard");
    const bytes = new Uint8Array(readFileSync(path));
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(8, 1n << 40n, true); // minishard 0's index "ends" a terabyte in
    writeFileSync(path, bytes);
    const vol = await CloudVolume.open(dir);
    const err = await vol.download(vol.bounds).catch((e) => e);
    expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
    expect(err.message).toMatch(/shard file 4_4_40\/1\.shard: minishard index 0 .* lies past the end of the file/);

    const dir2 = copyFixture("pc_seg_u64_cseg_sharded");
    const path2 = join(dir2, "4_4_40", "0.shard");
    const file = new Uint8Array(readFileSync(path2));
    writeFileSync(path2, file.subarray(0, 32 + 100)); // index intact, data and minishard indices cut
    const vol2 = await CloudVolume.open(dir2);
    const err2 = await vol2.download([0, 0, 0, 64, 64, 16]).catch((e) => e);
    expect(isCloudVolumeError(err2, "DECODE_FAILED")).toBe(true);
    expect(err2.key).toBe("4_4_40/0.shard");
  });

  it("a missing shard file is NOT_FOUND, or background with fillMissing", async () => {
    const dir = copyFixture("pc_image_u8_sharded");
    rmSync(join(dir, "4_4_40", "3.shard"));
    const vol = await CloudVolume.open(dir);
    const err = await vol.download(vol.bounds).catch((e) => e);
    expect(isCloudVolumeError(err, "NOT_FOUND")).toBe(true);
    expect(err.key).toBe("4_4_40/3.shard");
    const filled = await CloudVolume.open(dir, { fillMissing: true, backgroundColor: 7 });
    const cut = await filled.download(filled.bounds);
    const gt = readGroundTruth("pc_image_u8_sharded");
    // Shard 3 holds chunk ids 24..31 = the brick x 32-64, y 32-64 (Morton bits x1 y1 above the 3 low bits).
    for (let z = 0; z < 32; z++) for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      const i = x + 64 * (y + 64 * z);
      const missing = x >= 32 && y >= 32;
      if (cut.data[i] !== (missing ? 7 : gt.bytes[i])) throw new Error(`voxel ${x},${y},${z}`);
    }
  });
});
