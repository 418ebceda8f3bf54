import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { dtypeInfo, type ChunkSpec, type DataType, type Vec3 } from "@cloudvolume/core";
import { fixturePath, hasFixture, readGroundTruth, type ArrayCodecGolden } from "@cloudvolume/testing";

/** The CloudVolume-written compressed_segmentation fixtures (shared/fixtures/MANIFEST.md). */
export const CSEG_FIXTURES = [
  "pc_seg_u32_cseg",
  "pc_seg_u64_cseg",
  "pc_seg_u64_cseg_gzip_ragged",
  "pc_seg_fib25_cseg",
  "pc_seg_fib25_u32_cseg",
] as const;

export interface CsegChunk extends ArrayCodecGolden {
  fixture: string;
  chunk: ChunkSpec;
}

/**
 * Every chunk file of a fixture (gunzipped when stored as .gz) with the same box cut
 * out of the fixture's ground truth (Fortran order; chunk names are voxel coordinates
 * including the scale's voxel_offset, the ground truth starts at voxel_offset).
 */
export function csegChunks(name: string): CsegChunk[] {
  if (!hasFixture(name)) return [];
  const info = JSON.parse(readFileSync(join(fixturePath(name), "info"), "utf8"));
  const scale = info.scales[0];
  const dtype = info.data_type as DataType;
  const channels = info.num_channels as number;
  const width = dtypeInfo(dtype).bytes;
  const gt = readGroundTruth(name);
  const [X, Y, Z] = gt.shape;
  const [ox, oy, oz] = scale.voxel_offset as number[];
  const dir = join(fixturePath(name), scale.key);
  const out: CsegChunk[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)(\.gz)?$/.exec(file);
    if (!m) continue;
    const [x0, x1, y0, y1, z0, z1] = m.slice(1, 7).map(Number);
    const shape: Vec3 = [x1 - x0, y1 - y0, z1 - z0];
    const expected = new Uint8Array(shape[0] * shape[1] * shape[2] * channels * width);
    let o = 0;
    for (let c = 0; c < channels; c++)
      for (let z = z0; z < z1; z++)
        for (let y = y0; y < y1; y++) {
          const start = (((c * Z + (z - oz)) * Y + (y - oy)) * X + (x0 - ox)) * width;
          expected.set(gt.bytes.subarray(start, start + shape[0] * width), o);
          o += shape[0] * width;
        }
    const raw = readFileSync(join(dir, file));
    const encoded = new Uint8Array(m[7] ? gunzipSync(raw) : raw);
    const key = `${scale.key}/${file.replace(/\.gz$/, "")}`;
    out.push({
      fixture: name,
      name: `${name}/${file}`,
      encoded,
      expected,
      chunk: { shape, channels, dtype, key, params: { compressed_segmentation_block_size: scale.compressed_segmentation_block_size } },
    });
  }
  return out;
}

export function allCsegChunks(): CsegChunk[] {
  return CSEG_FIXTURES.flatMap((f) => csegChunks(f));
}
