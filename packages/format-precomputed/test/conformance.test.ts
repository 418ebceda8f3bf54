import { describe, expect, it } from "vitest";
import { Bbox, CloudVolumeError, Context, dtypeInfo, type TypedArray } from "@cloudvolume/core";
import { describeFormat, formatCases, formatChecks, type FormatCase, type FormatUnderTest } from "@cloudvolume/testing";
import { ChunkedVolume } from "@cloudvolume/chunks";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzip } from "@cloudvolume/codec-gzip";
import { PrecomputedVolume, createNewInfo, precomputed, type PrecomputedOptions } from "../src/index.js";

/** Precomputed over a fresh in-memory bucket; `options` are merged under each open's options. */
function precomputedDriver(options: PrecomputedOptions = {}): FormatUnderTest {
  const plugins = [precomputed(), memoryStorage(), raw(), gzip()];
  let n = 0;
  return { plugins, newLayerUrl: () => `precomputed://mem://conformance/layer-${n++}`, options };
}

// CloudVolume's default for raw: gzip transfer compression.
describeFormat("precomputed", async () => precomputedDriver(), { encodings: ["raw"] });
// The same with chunks stored uncompressed.
describeFormat("precomputed (compress: false)", async () => precomputedDriver({ compress: false }), { encodings: ["raw"] });

// ---------------------------------------------------------------------------
// Every check can fail: run each against a deliberately broken driver.
// ---------------------------------------------------------------------------

type Wrap = (v: ChunkedVolume, opts: Record<string, unknown>) => Record<string, unknown>;

/**
 * The real format, with some of each opened volume's members replaced as the checks see
 * them (and `forced` open options over theirs); the real volume keeps working unchanged.
 */
function broken(wrap: Wrap, forced: Record<string, unknown> = {}): FormatUnderTest {
  const real = precomputedDriver();
  const ctx = new Context({ plugins: real.plugins });
  return {
    ...real,
    async open(url, opts) {
      const o = { ...opts, ...forced };
      const v = await ChunkedVolume.open(ctx, url, o);
      const over = wrap(v, o);
      return new Proxy(v, {
        get(target, key, receiver) {
          if (typeof key === "string" && key in over) return over[key];
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
  };
}

const big = (dtype: FormatCase["dtype"]): FormatCase => formatCases(dtype, "raw").find((c) => c.channels === 4)!;
const small = (dtype: FormatCase["dtype"]): FormatCase => formatCases(dtype, "raw").find((c) => c.channels === 1)!;

async function mustFail(check: keyof typeof formatChecks, driver: FormatUnderTest, c: FormatCase, pattern?: RegExp): Promise<void> {
  let error: unknown;
  try {
    await formatChecks[check](driver, c);
  } catch (e) {
    error = e;
  }
  expect(error, `${check} passed against a broken driver`).toBeDefined();
  // Match the code too: a check may fail by letting the driver's own error through.
  if (pattern) expect(`${(error as { code?: string }).code ?? ""} ${(error as Error).message}`).toMatch(pattern);
}

describe("the format conformance checks fail against broken drivers", () => {
  it("every check passes against the real driver (both shapes, uint64 and float32)", async () => {
    for (const c of [big("uint64"), small("uint64"), big("float32"), small("int8")]) {
      for (const check of Object.keys(formatChecks) as (keyof typeof formatChecks)[]) await formatChecks[check](precomputedDriver(), c);
    }
  });

  it("roundTrip: a read that returns zeros", async () => {
    const d = broken((v) => ({ download: async (b: BboxLike, io: IoOptions) => { const r = await v.download(b, io); r.data.fill(0 as never); return r; } }));
    await mustFail("roundTrip", d, big("uint16"), /values differ/);
    await mustFail("roundTrip", d, small("uint8"), /values differ/);
  });

  it("roundTrip: 64-bit values passed through Number lose their low bits", async () => {
    const d = broken((v) => ({
      download: async (b, io) => {
        const r = await v.download(b, io);
        const a = r.data as BigUint64Array;
        for (let i = 0; i < a.length; i++) a[i] = BigInt(Number(a[i]));
        return r;
      },
    }));
    await mustFail("roundTrip", d, big("uint64"), /values differ/);
  });

  it("roundTrip: float -0 read back as +0", async () => {
    const d = broken((v) => ({
      download: async (b, io) => { const r = await v.download(b, io); const a = r.data as Float32Array; for (let i = 0; i < a.length; i++) a[i] = a[i] + 0; return r; },
    }));
    await mustFail("roundTrip", d, big("float32"), /values differ/);
  });

  it("roundTrip: a read of a sub-box that ignores its origin", async () => {
    const d = broken((v) => ({
      download: (b, io) => { const box = Bbox.from(b); const o = v.bounds(); return v.download(new Bbox(o.min, [o.min[0] + box.size()[0], o.min[1] + box.size()[1], o.min[2] + box.size()[2]]), io); },
    }));
    await mustFail("roundTrip", d, big("int32"), /sub-box/);
  });

  it("roundTrip: wrong dtype or channel count after reopening", async () => {
    await mustFail("roundTrip", broken(() => ({ dtype: "uint8" })), big("uint16"), /dtype/);
    await mustFail("roundTrip", broken(() => ({ numChannels: 1 })), big("uint16"), /numChannels/);
  });

  it("alignedPieces: a write that clobbers the rest of the volume with zeros", async () => {
    const d = broken((v) => ({
      upload: async (b, data, io) => {
        const all = v.bounds();
        const s = all.size();
        const zeros = new (dtypeInfo(v.dtype).ctor)(s[0] * s[1] * s[2] * v.numChannels);
        await v.upload(all, zeros as TypedArray, io);
        await v.upload(b, data, io);
      },
    }));
    await mustFail("alignedPieces", d, big("uint32"), /values differ/);
  });

  it("missingChunk: missing chunks silently read as zeros", async () => {
    const d = broken(() => ({}), { fillMissing: true });
    await mustFail("missingChunk", d, big("uint8"), /NOT_FOUND/);
    await mustFail("missingChunk", d, small("uint8"), /NOT_FOUND/);
  });

  it("missingChunk: NOT_FOUND without the key, or naming the wrong chunk", async () => {
    const strip = broken((v) => ({
      download: (b, io) => v.download(b, io).catch((e: CloudVolumeError) => { throw new CloudVolumeError(e.code, "some chunk is missing"); }),
    }));
    await mustFail("missingChunk", strip, big("uint8"), /key/);
    const wrong = broken((v) => ({
      download: (b, io) => v.download(b, io).catch((e: CloudVolumeError) => { throw new CloudVolumeError(e.code, `chunk ${e.key}x is missing`, { key: `${e.key}x` }); }),
    }));
    await mustFail("missingChunk", wrong, big("uint8"), /key of the missing chunk/);
  });

  it("missingChunk: fillMissing ignored", async () => {
    await mustFail("missingChunk", broken(() => ({}), { fillMissing: false }), big("int16"), /NOT_FOUND/);
  });

  it("outOfBounds: reads past the bounds silently cropped or filled", async () => {
    await mustFail("outOfBounds", broken(() => ({}), { bounded: false }), big("uint8"), /OUT_OF_BOUNDS/);
    await mustFail("outOfBounds", broken(() => ({}), { bounded: true }), big("uint8"), /OUT_OF_BOUNDS/);
  });

  it("outOfBounds: bounded: false fills outside with something other than the background", async () => {
    await mustFail("outOfBounds", broken(() => ({}), { backgroundColor: 7 }), big("uint8"), /values differ/);
  });

  it("unalignedRejected: unaligned writes accepted", async () => {
    await mustFail("unalignedRejected", broken(() => ({}), { nonAlignedWrites: true }), big("uint8"), /ALIGNMENT/);
    await mustFail("unalignedRejected", broken(() => ({}), { nonAlignedWrites: true }), small("uint8"), /ALIGNMENT/);
  });

  it("unalignedRejected: ALIGNMENT raised after the aligned part was written", async () => {
    const d = broken((v) => ({
      upload: async (b, data, io) => {
        const box = Bbox.from(b);
        const chunk = v.chunkSize();
        if (!box.isAlignedTo(chunk, v.voxelOffset(), v.bounds())) {
          const relaxed = await PrecomputedVolume.open(v.ctx, v.url, { nonAlignedWrites: true });
          await relaxed.upload(box, data, io);
          throw new CloudVolumeError("ALIGNMENT", "not aligned");
        }
        await v.upload(b, data, io);
      },
    }));
    await mustFail("unalignedRejected", d, big("float64"), /values differ/);
  });

  it("nonAlignedWrites: option ignored, or partial chunks rewritten without their old contents", async () => {
    await mustFail("nonAlignedWrites", broken(() => ({}), { nonAlignedWrites: false }), big("uint8"), /ALIGNMENT/);
    const d = broken((v) => ({
      upload: async (b, data, io) => {
        // Writes the expanded, chunk-aligned box with the data and zeros around it.
        const box = Bbox.from(b);
        const grown = box.expandToChunkSize(v.chunkSize(), v.voxelOffset()).clamp(v.bounds());
        const s = grown.size();
        const bs = box.size();
        const ch = v.numChannels;
        const out = new (dtypeInfo(v.dtype).ctor)(s[0] * s[1] * s[2] * ch);
        for (let c = 0; c < ch; c++)
          for (let z = 0; z < bs[2]; z++)
            for (let y = 0; y < bs[1]; y++)
              for (let x = 0; x < bs[0]; x++) {
                const gx = x + box.min[0] - grown.min[0], gy = y + box.min[1] - grown.min[1], gz = z + box.min[2] - grown.min[2];
                (out as unknown as unknown[])[gx + s[0] * (gy + s[1] * (gz + s[2] * c))] = data[x + bs[0] * (y + bs[1] * (z + bs[2] * c))];
              }
        await v.upload(grown, out as TypedArray, io);
      },
    }));
    await mustFail("nonAlignedWrites", d, big("int64"), /values differ/);
  });
});
