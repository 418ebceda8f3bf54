import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ErrorCode } from "@cloudvolume/core";
import { FIXTURES_DIR, fixturePath } from "@cloudvolume/testing";
import {
  addScale,
  createNewInfo,
  emptyProvenance,
  parseInfo,
  parseProvenance,
  resetScales,
  scaleKey,
  serializeJson,
  type PrecomputedInfo,
} from "../src/index.js";

/** Every Precomputed fixture with an info file, read in place (never written). */
const PC_FIXTURES = readdirSync(FIXTURES_DIR)
  .filter((d) => d.startsWith("pc_") && existsSync(join(fixturePath(d), "info")))
  .sort();
const fixtureInfoText = (name: string) => readFileSync(join(fixturePath(name), "info"), "utf8");

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error, but the call succeeded");
}

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp | string): void {
  const e = thrown(fn);
  expect(isCloudVolumeError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  if (typeof message === "string") expect((e as Error).message).toContain(message);
  else expect((e as Error).message).toMatch(message);
}

/** A minimal valid info with two scales, for breaking one field at a time. */
function goodInfo(): Record<string, unknown> & { scales: Record<string, unknown>[] } {
  return {
    type: "segmentation",
    data_type: "uint64",
    num_channels: 1,
    scales: [
      { key: "4_4_40", size: [64, 64, 32], voxel_offset: [0, 0, 0], resolution: [4, 4, 40], chunk_sizes: [[32, 32, 16]], encoding: "raw" },
      { key: "8_8_40", size: [32, 32, 32], voxel_offset: [0, 0, 0], resolution: [8, 8, 40], chunk_sizes: [[16, 16, 16]], encoding: "raw" },
    ],
  };
}

describe("fixtures", () => {
  it("finds the Precomputed fixtures", () => {
    expect(PC_FIXTURES.length).toBeGreaterThanOrEqual(30);
    expect(PC_FIXTURES).toContain("pc_image_u8_multiscale");
    expect(PC_FIXTURES).toContain("pc_seg_u64_cseg");
  });
});

describe("parseInfo", () => {
  it.each(PC_FIXTURES)("parses %s/info (as text, bytes and object) to the same document", (name) => {
    const text = fixtureInfoText(name);
    const json = JSON.parse(text);
    const fromText = parseInfo(text);
    expect(fromText).toEqual(json);
    expect(parseInfo(new TextEncoder().encode(text))).toEqual(json);
    expect(parseInfo(json)).toEqual(json);
    expect(fromText.scales.length).toBeGreaterThan(0);
  });

  it("fills a missing voxel_offset with zeros and keeps unknown fields", () => {
    const o = goodInfo();
    delete o.scales[0].voxel_offset;
    o.scales[0].jpeg_quality = 90;
    o.extra = { a: 1 };
    const info = parseInfo(o);
    expect(info.scales[0].voxel_offset).toEqual([0, 0, 0]);
    expect(info.scales[0].jpeg_quality).toBe(90);
    expect(info.extra).toEqual({ a: 1 });
  });

  it("accepts a pure redirect stub without scales", () => {
    expect(parseInfo({ redirect: "mem://b/elsewhere" }).redirect).toBe("mem://b/elsewhere");
  });

  it("rejects invalid JSON", () => {
    const e = thrown(() => parseInfo("{ not json", "mem://b/l")) as { code: string; key: string; url: string; message: string };
    expect(e.code).toBe("INVALID_METADATA");
    expect(e.message).toMatch(/^info: not valid JSON/);
    expect(e.key).toBe("info");
    expect(e.url).toBe("mem://b/l");
  });

  it("rejects a non-object root: [1]", () => {
    expectError(() => parseInfo("[1]"), "INVALID_METADATA", "info: (root) must be a JSON object, got [1]");
    expectError(() => parseInfo("null"), "INVALID_METADATA", "info: (root)");
  });

  it("rejects missing and empty scales", () => {
    const o = goodInfo();
    delete (o as Record<string, unknown>).scales;
    expectError(() => parseInfo(o), "INVALID_METADATA", "info: scales must be an array");
    expectError(() => parseInfo({ ...goodInfo(), scales: [] }), "INVALID_METADATA", "info: scales must list at least one scale");
  });

  it("rejects a bad data_type, type or num_channels", () => {
    expectError(() => parseInfo({ ...goodInfo(), data_type: "uint128" }), "INVALID_METADATA", 'info: data_type must be one of');
    expectError(() => parseInfo({ ...goodInfo(), data_type: "uint128" }), "INVALID_METADATA", '"uint128"');
    expectError(() => parseInfo({ ...goodInfo(), type: 3 }), "INVALID_METADATA", "info: type must be a string");
    expectError(() => parseInfo({ ...goodInfo(), num_channels: 0 }), "INVALID_METADATA", "info: num_channels must be a positive integer");
  });

  it("names scales[1].chunk_sizes[0] when it holds a zero", () => {
    const o = goodInfo();
    o.scales[1].chunk_sizes = [[16, 0, 16]];
    expectError(() => parseInfo(o), "INVALID_METADATA", "info: scales[1].chunk_sizes[0] must be three positive integers, got [16,0,16]");
  });

  it("names other bad scale fields by path", () => {
    const bad = (i: number, field: string, value: unknown, path: string) => {
      const o = goodInfo();
      o.scales[i][field] = value;
      expectError(() => parseInfo(o), "INVALID_METADATA", `info: ${path}`);
    };
    bad(1, "size", [1, 2], "scales[1].size");
    bad(0, "resolution", [4, 0, 40], "scales[0].resolution");
    bad(1, "voxel_offset", [0.5, 0, 0], "scales[1].voxel_offset");
    bad(0, "chunk_sizes", [], "scales[0].chunk_sizes");
    bad(1, "encoding", "", "scales[1].encoding");
    bad(0, "key", "", "scales[0].key");
    bad(1, "sharding", "yes", "scales[1].sharding");
  });

  it("requires compressed_segmentation_block_size when the encoding is compressed_segmentation", () => {
    const o = goodInfo();
    o.scales[1].encoding = "compressed_segmentation";
    expectError(() => parseInfo(o), "INVALID_METADATA", "info: scales[1].compressed_segmentation_block_size is required when encoding is compressed_segmentation");
    o.scales[1].compressed_segmentation_block_size = [8, 8, 0];
    expectError(() => parseInfo(o), "INVALID_METADATA", "info: scales[1].compressed_segmentation_block_size must be three positive integers");
    o.scales[1].compressed_segmentation_block_size = [8, 8, 8];
    expect(parseInfo(o).scales[1].compressed_segmentation_block_size).toEqual([8, 8, 8]);
  });

  it('rejects a scale key containing ".."', () => {
    for (const key of ["..", "../other", "a/../../b"]) {
      const o = goodInfo();
      o.scales[0].key = key;
      expectError(() => parseInfo(o), "INVALID_METADATA", `info: scales[0].key must not contain ".."`);
    }
    const o = goodInfo();
    o.scales[0].key = "a..b"; // only a whole ".." segment escapes
    expect(parseInfo(o).scales[0].key).toBe("a..b");
  });
});

describe("createNewInfo", () => {
  it("builds one scale keyed by the resolution", () => {
    const info = createNewInfo({
      layerType: "image", dataType: "uint16", encoding: "raw", resolution: [4, 4, 40], voxelOffset: [1, 2, 3], volumeSize: [100, 90, 80],
      chunkSize: [32, 32, 16], numChannels: 2, mesh: "mesh",
    });
    expect(info).toEqual({
      type: "image", data_type: "uint16", num_channels: 2, mesh: "mesh",
      scales: [{ key: "4_4_40", resolution: [4, 4, 40], voxel_offset: [1, 2, 3], size: [100, 90, 80], chunk_sizes: [[32, 32, 16]], encoding: "raw" }],
    });
    expect(scaleKey([3.5, 3.5, 45])).toBe("3.5_3.5_45");
  });

  it("defaults: one channel, offset 0, 64^3 chunks, 8^3 cseg blocks", () => {
    const info = createNewInfo({ layerType: "segmentation", dataType: "uint64", encoding: "compressed_segmentation", resolution: [8, 8, 8], volumeSize: [10, 10, 10] });
    expect(info.num_channels).toBe(1);
    expect(info.scales[0].voxel_offset).toEqual([0, 0, 0]);
    expect(info.scales[0].chunk_sizes).toEqual([[64, 64, 64]]);
    expect(info.scales[0].compressed_segmentation_block_size).toEqual([8, 8, 8]);
    expect(info.mesh).toBeUndefined();
  });

  it("rejects an unknown data type", () => {
    expectError(() => createNewInfo({ layerType: "image", dataType: "uint7", encoding: "raw", resolution: [1, 1, 1], volumeSize: [1, 1, 1] }), "INVALID_ARGUMENT", "uint7");
  });

  it("maxMip adds downsampled scales: size ceils, voxel_offset floors", () => {
    const info = createNewInfo({
      layerType: "image", dataType: "uint8", encoding: "raw", resolution: [4, 4, 40], voxelOffset: [-3, 5, 7], volumeSize: [101, 50, 7],
      chunkSize: [16, 16, 4], maxMip: 2,
    });
    expect(info.scales.map((s) => s.key)).toEqual(["4_4_40", "8_8_40", "16_16_40"]);
    expect(info.scales[1]).toMatchObject({ resolution: [8, 8, 40], size: [51, 25, 7], voxel_offset: [-2, 2, 7], chunk_sizes: [[16, 16, 4]], encoding: "raw" });
    expect(info.scales[2]).toMatchObject({ resolution: [16, 16, 40], size: [26, 13, 7], voxel_offset: [-1, 1, 7] });
  });

  it("maxMip with a factor", () => {
    const info = createNewInfo({
      layerType: "image", dataType: "float32", encoding: "raw", resolution: [2, 2, 2], voxelOffset: [3, 3, 3], volumeSize: [9, 9, 9], maxMip: 1, factor: [2, 2, 2],
    });
    expect(info.scales[1]).toMatchObject({ key: "4_4_4", resolution: [4, 4, 4], size: [5, 5, 5], voxel_offset: [1, 1, 1] });
  });
});

describe("addScale and resetScales", () => {
  const base = (): PrecomputedInfo =>
    createNewInfo({ layerType: "image", dataType: "uint8", encoding: "raw", resolution: [4, 4, 40], voxelOffset: [1, 1, 1], volumeSize: [64, 64, 16], chunkSize: [32, 32, 16] });

  it("returns the existing scale for a resolution already present", () => {
    const info = base();
    const s1 = addScale(info, [2, 2, 1]);
    expect(info.scales).toHaveLength(2);
    expect(addScale(info, [2, 2, 1])).toBe(s1);
    expect(addScale(info, [1, 1, 1])).toBe(info.scales[0]);
    expect(info.scales).toHaveLength(2);
  });

  it("keeps scales sorted by resolution", () => {
    const info = base();
    addScale(info, [4, 4, 1]);
    addScale(info, [2, 2, 1]);
    addScale(info, [8, 8, 2]);
    expect(info.scales.map((s) => s.key)).toEqual(["4_4_40", "8_8_40", "16_16_40", "32_32_80"]);
  });

  it("takes the factor relative to fromMip and honours chunkSize and encoding", () => {
    const info = base();
    addScale(info, [2, 2, 1]);
    const s = addScale(info, [2, 2, 1], { fromMip: 1, chunkSize: [8, 8, 8], encoding: "compressed_segmentation" });
    expect(s).toMatchObject({ key: "16_16_40", size: [16, 16, 16], voxel_offset: [0, 0, 1], chunk_sizes: [[8, 8, 8]], encoding: "compressed_segmentation", compressed_segmentation_block_size: [8, 8, 8] });
  });

  it("drops sharding, locked and a stale cseg block size from the copied scale", () => {
    const info = base();
    info.scales[0].sharding = { "@type": "neuroglancer_uint64_sharded_v1", preshift_bits: 0 };
    info.scales[0].locked = true;
    info.scales[0].compressed_segmentation_block_size = [4, 4, 4];
    info.scales[0].jpeg_quality = 70;
    const s = addScale(info, [2, 2, 1]);
    expect("sharding" in s).toBe(false);
    expect("locked" in s).toBe(false);
    expect("compressed_segmentation_block_size" in s).toBe(false);
    expect(s.jpeg_quality).toBe(70);
    expect(info.scales[0].sharding).toBeDefined(); // the base scale is untouched
  });

  it("rejects a bad factor or base mip", () => {
    expectError(() => addScale(base(), [0, 2, 1]), "INVALID_ARGUMENT", "factor must be positive");
    expectError(() => addScale(base(), [2, 2, 1], { fromMip: 3 }), "INVALID_ARGUMENT", "no scale at mip 3");
  });

  it("resetScales keeps only mip 0", () => {
    const info = base();
    addScale(info, [2, 2, 1]);
    addScale(info, [4, 4, 1]);
    const mip0 = info.scales[0];
    resetScales(info);
    expect(info.scales).toEqual([mip0]);
    resetScales(info);
    expect(info.scales).toHaveLength(1);
  });
});

describe("serializeJson", () => {
  it.each(PC_FIXTURES)("reproduces %s/info byte for byte (sorted keys, indent 2)", (name) => {
    const text = fixtureInfoText(name);
    expect(serializeJson(JSON.parse(text))).toBe(text);
    expect(serializeJson(parseInfo(text))).toBe(text);
  });

  it("sorts keys at every depth, keeps array order and drops undefined", () => {
    expect(serializeJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{\n  "a": {\n    "d": [\n      3,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}',
    );
  });

  it("a createNewInfo document round-trips through parseInfo", () => {
    const info = createNewInfo({ layerType: "image", dataType: "uint8", encoding: "raw", resolution: [4, 4, 40], volumeSize: [64, 64, 32], chunkSize: [32, 32, 16] });
    expect(serializeJson(info)).toBe(fixtureInfoText("pc_image_u8_raw"));
  });
});

describe("parseProvenance", () => {
  it("fills CloudVolume's defaults and keeps extra fields", () => {
    expect(parseProvenance("{}")).toEqual(emptyProvenance());
    expect(emptyProvenance()).toEqual({ description: "", owners: [], processing: [], sources: [] });
    const p = parseProvenance(new TextEncoder().encode('{"description":"d","owners":["me"],"extra":1}'));
    expect(p).toEqual({ description: "d", owners: ["me"], processing: [], sources: [], extra: 1 });
  });

  it("rejects invalid documents with INVALID_METADATA", () => {
    expectError(() => parseProvenance("{"), "INVALID_METADATA", "provenance: not valid JSON");
    expectError(() => parseProvenance("[]"), "INVALID_METADATA", "provenance: (root) must be a JSON object");
    expectError(() => parseProvenance('{"owners":"me"}'), "INVALID_METADATA", "provenance: owners must be an array");
    expectError(() => parseProvenance('{"processing":{}}'), "INVALID_METADATA", "provenance: processing must be an array");
    expectError(() => parseProvenance('{"sources":null}'), "INVALID_METADATA", "provenance: sources must be an array");
    expectError(() => parseProvenance('{"description":5}'), "INVALID_METADATA", "provenance: description must be a string");
    const e = thrown(() => parseProvenance("{", "mem://b/l")) as { key: string; url: string };
    expect(e.key).toBe("provenance");
    expect(e.url).toBe("mem://b/l");
  });
});
