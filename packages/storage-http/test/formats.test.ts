import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bbox, Context, isCloudVolumeError, type DataType, type Plugin, type TypedArray } from "@cloudvolume/core";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { blosc } from "@cloudvolume/codec-blosc";
import { gzip } from "@cloudvolume/codec-gzip";
import { raw } from "@cloudvolume/codec-raw";
import { n5 } from "@cloudvolume/format-n5";
import { zarr } from "@cloudvolume/format-zarr";
import { fileStorage } from "@cloudvolume/storage-file";
import { httpStorage } from "@cloudvolume/storage-http";
import {
  expectedCutout, layerInfoFor, randomVoxelBox, seededRandom, startHttpTestServer, tempDir, type HttpTestServer, type VoxelBox,
} from "@cloudvolume/testing";

/**
 * The non-Precomputed formats over http://, which is read-only, so the format conformance
 * suite's write checks cannot run here. Instead: a zarr v3 sharded layer and an N5 layer are
 * written with file:// into a directory, that directory is served by the repo's static
 * test server, and the layers are opened through http:// with the chunk engine. Checked:
 * the whole volume and random sub-boxes read back byte-identical to what was uploaded
 * (sharded reads are ranged GETs of the shard files); a missing chunk is NOT_FOUND and
 * background with fillMissing (a 404 from a web server means "missing", not an error);
 * and every write is refused with READ_ONLY before any request leaves the client.
 */

// Ragged on every axis, off the origin, 2 channels; chunk 8 -> 5x4x3 chunks; 16^3 shards -> 3x2x2 shards.
const SIZE: [number, number, number] = [37, 29, 23];
const OFFSET: [number, number, number] = [3, 5, 7];
const CHUNK: [number, number, number] = [8, 8, 8];
const CHANNELS = 2;
const DTYPES: DataType[] = ["uint8", "uint64", "float32"];
const BOUNDS = new Bbox(OFFSET, [OFFSET[0] + SIZE[0], OFFSET[1] + SIZE[1], OFFSET[2] + SIZE[2]]);

interface FormatCase {
  name: string;
  /** The format's cloudpath prefix ("zarr3://"), before the storage URL. */
  scheme: string;
  plugins: () => Plugin[];
  /** Driver options at creation (the shards of the zarr layer). */
  create: Record<string, unknown>;
}

const FORMATS: FormatCase[] = [
  { name: "zarr v3 sharded (16x16x16 shards)", scheme: "zarr3://", plugins: () => [zarr(), blosc(), gzip()], create: { shards: [16, 16, 16] } },
  { name: "n5 (gzip blocks)", scheme: "n5://", plugins: () => [n5(), gzip(), raw()], create: {} },
];

const dir = tempDir("cv-http-formats-");
let server: HttpTestServer;
beforeAll(async () => {
  server = await startHttpTestServer(dir);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (a: TypedArray) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Write `box` of a new layer `name` under the served directory through file://; the voxels written. */
async function writeLayer(f: FormatCase, name: string, dtype: DataType, box: Bbox): Promise<VoxelBox> {
  const ctx = new Context({ plugins: [...f.plugins(), fileStorage()] });
  const info = layerInfoFor({ dtype, channels: CHANNELS, size: SIZE, chunkSize: CHUNK, voxelOffset: OFFSET });
  const vol = await ChunkedVolume.open(ctx, `${f.scheme}file://${dir}/${name}`, { info, ...f.create });
  await vol.commitInfo();
  const data = randomVoxelBox(dtype, box, CHANNELS, `${f.name} ${name}`);
  await vol.upload(box, data.data);
  await vol.close();
  return data;
}

function openHttp(f: FormatCase, name: string, opts: Record<string, unknown> = {}): Promise<ChunkedVolume> {
  return ChunkedVolume.open(new Context({ plugins: [...f.plugins(), httpStorage()] }), `${f.scheme}${server.url}/${name}`, opts);
}

/** A non-empty random box inside BOUNDS. */
function randomBox(rand: () => number): Bbox {
  const min = [0, 1, 2].map((d) => BOUNDS.min[d] + Math.floor(rand() * SIZE[d]));
  const max = [0, 1, 2].map((d) => min[d] + 1 + Math.floor(rand() * (BOUNDS.max[d] - min[d])));
  return new Bbox(min, max);
}

describe.each(FORMATS)("$name over http:// (read-only)", (f) => {
  const tag = f.scheme.replace(/\W/g, "");

  describe.each(DTYPES)("%s", (dtype) => {
    it("the whole volume and 12 random sub-boxes read back byte-identical to what was uploaded", async () => {
      const name = `${tag}-${dtype}`;
      const written = await writeLayer(f, name, dtype, BOUNDS);
      const before = server.requests.length;
      const vol = await openHttp(f, name);
      expect(vol.dtype).toBe(dtype);
      expect(vol.numChannels).toBe(CHANNELS);
      expect(vol.bounds(0).toString()).toBe(BOUNDS.toString());
      const all = await vol.download(BOUNDS);
      expect([...all.shape].slice(0, 4)).toEqual([...SIZE, CHANNELS]);
      expect(bytes(all.data).equals(bytes(written.data)), "whole volume").toBe(true);
      const rand = seededRandom(dtype.length * 7919 + tag.length);
      for (let i = 0; i < 12; i++) {
        const box = randomBox(rand);
        const cut = await vol.download(box);
        expect(bytes(cut.data).equals(bytes(expectedCutout(dtype, CHANNELS, box, [written]))), `sub-box ${box}`).toBe(true);
      }
      await vol.close();
      // Shards are read piecewise (index, then the chunks' bytes): ranged GETs answered 206.
      if (f.create.shards) expect(server.requests.slice(before).some((r) => r.status === 206), "ranged reads of the shards").toBe(true);
    });
  });

  it("a missing chunk is NOT_FOUND, and background with fillMissing", async () => {
    // Only the first 16 z-planes are written: the chunks (and, for zarr, the shards) above are missing.
    const name = `${tag}-partial`;
    const top = OFFSET[2] + 16;
    const written = await writeLayer(f, name, "uint8", new Bbox(BOUNDS.min, [BOUNDS.max[0], BOUNDS.max[1], top]));
    const region = new Bbox([OFFSET[0], OFFSET[1], top - 3], [OFFSET[0] + 10, OFFSET[1] + 9, top + 2]);
    const strict = await openHttp(f, name);
    await expect(strict.download(region)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await strict.close();
    const filled = await openHttp(f, name, { fillMissing: true });
    expect(bytes((await filled.download(BOUNDS)).data).equals(bytes(expectedCutout("uint8", CHANNELS, BOUNDS, [written]))), "fillMissing whole volume").toBe(true);
    await filled.close();
  });

  it("writes are refused with READ_ONLY and never reach the server", async () => {
    const name = `${tag}-readonly`;
    const written = await writeLayer(f, name, "uint8", BOUNDS);
    const before = server.requests.length;
    const vol = await openHttp(f, name, { nonAlignedWrites: true });
    const other = randomVoxelBox("uint8", BOUNDS, CHANNELS, "other");
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ["upload of the whole volume", () => vol.upload(BOUNDS, other.data)],
      ["non-aligned upload", () => vol.upload(new Bbox([4, 6, 8], [9, 10, 11]), expectedCutout("uint8", CHANNELS, new Bbox([4, 6, 8], [9, 10, 11]), [other]))],
      ["commitInfo", () => vol.commitInfo()],
    ];
    for (const [what, write] of refusals) {
      const err = await write().then(() => undefined, (e: unknown) => e);
      expect(isCloudVolumeError(err, "READ_ONLY"), `${what}: expected READ_ONLY, got ${String(err)}`).toBe(true);
    }
    expect(server.requests.slice(before).filter((r) => r.method !== "GET" && r.method !== "HEAD")).toEqual([]);
    // And the layer still reads as written.
    expect(bytes((await vol.download(BOUNDS)).data).equals(bytes(written.data))).toBe(true);
    await vol.close();
  });
});
