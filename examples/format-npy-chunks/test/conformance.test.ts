import { describe, expect, it } from "vitest";
import { DATA_TYPES, type FormatDriver, type FormatPlugin } from "@cloudvolume/core";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { describeArrayCodec, describeFormat, formatCases, formatChecks } from "@cloudvolume/testing";
import npyChunksDefault, { npyChunks, npyCodec } from "../src/index.js";

/**
 * The shared Format conformance suite (@cloudvolume/testing) run against this package as
 * a third party would: only its public plugin, a memory store, every dtype, the 2x2x1x1
 * and 10x11x12x4 layers at offset (1,2,3) on a 4x4x4 grid (ragged, so every edge chunk is
 * stored padded and cropped on read).
 */
let n = 0;
describeFormat(
  "npychunks",
  async () => ({ plugins: [npyChunks(), memoryStorage()], newLayerUrl: () => `npychunks://mem://conf/layer-${n++}`, scaleKey: "0" }),
  { encodings: ["npy"] },
);

/** The codec alone through the shared ArrayCodec suite: round trips (into `out` too), truncation, garbage. */
describeArrayCodec("npy", () => npyCodec, { dtypes: DATA_TYPES, channels: [1, 3] });

describe("the package entry", () => {
  it("default-exports an array of plugins holding the npychunks format plugin, and npyChunks() makes it", async () => {
    expect(Array.isArray(npyChunksDefault)).toBe(true);
    const formats = npyChunksDefault.filter((p): p is FormatPlugin => p.kind === "format");
    expect(formats.map((p) => p.names)).toEqual([["npychunks"]]);
    const made = npyChunks();
    expect(made).toMatchObject({ kind: "format", names: ["npychunks"], package: "@cloudvolume-examples/format-npy-chunks" });
    const driver = (await made.load()) as FormatDriver;
    expect(driver.name).toBe("npychunks");
    expect(typeof driver.open).toBe("function");
  });
});

describe("the conformance suite has teeth against this driver", () => {
  /** The plugin with one planted bug in its layers (the driver is otherwise the real one). */
  function broken(mutate: (layer: Record<string, unknown>) => void): FormatPlugin<FormatDriver> {
    const real = npyChunks();
    return {
      ...real,
      load: async () => {
        const d = await real.load();
        return { name: d.name, open: async (ctx, url, opts) => { const l = await d.open(ctx, url, opts); mutate(l as unknown as Record<string, unknown>); return l; } };
      },
    };
  }
  const big = formatCases("uint16", "npy")[1]; // 10x11x12x4: 3x3x3 chunks, ragged

  it("chunk keys that collide (z ignored) fail the round trip", async () => {
    const plugin = broken((l) => {
      const key = (l.chunkKey as (c: unknown, m: number) => string).bind(l);
      l.chunkKey = (c: { min: number[] }, m: number) => key(c, m).replace(/\.\d+\.npy$/, ".0.npy");
    });
    let k = 0;
    await expect(formatChecks.roundTrip({ plugins: [plugin, memoryStorage()], newLayerUrl: () => `npychunks://mem://teeth/a${k++}`, scaleKey: "0" }, big)).rejects.toThrow();
  });

  it("a fill value other than the format's 0 fails the missing-chunk check", async () => {
    const plugin = broken((l) => { l.fillValue = () => 7; });
    let k = 0;
    await expect(formatChecks.missingChunk({ plugins: [plugin, memoryStorage()], newLayerUrl: () => `npychunks://mem://teeth/b${k++}`, scaleKey: "0" }, big)).rejects.toThrow();
  });
});
