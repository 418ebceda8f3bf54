import { describe, expect, it } from "vitest";
import { Bbox, Context, bytesOf, type ByteCodec, type CompressionPlugin } from "@cloudvolume/core";
import { memoryStorage } from "@cloudvolume/storage-memory";
import { raw } from "@cloudvolume/codec-raw";
import { gzipCodec } from "@cloudvolume/codec-gzip";
import { splitJobs, type ChunkPainter, type PaintJob } from "@cloudvolume/chunks";
import { PrecomputedVolume, createNewInfo, precomputed, type PrecomputedOptions } from "../src/index.js";

/** gzip that counts how each chunk was inflated: on the thread pool (decode) or here into a pooled buffer (decodeInto). */
function countingGzip() {
  const calls = { decode: 0, decodeInto: 0 };
  const codec: ByteCodec = {
    ...gzipCodec,
    decode: (b, o) => { calls.decode++; return gzipCodec.decode(b, o); },
    decodeInto: (b, out, o) => { calls.decodeInto++; return gzipCodec.decodeInto(b, out, o); },
  };
  const plugin: CompressionPlugin = { kind: "compression", names: ["gzip"], package: "test", load: async () => codec };
  return { calls, plugin };
}

async function layer(dtype: "uint8" | "uint64", fill: (i: number) => number, opts: PrecomputedOptions = {}) {
  const gz = countingGzip();
  const ctx = new Context({ plugins: [memoryStorage(), raw(), gz.plugin, precomputed()] });
  const info = createNewInfo({ layerType: "segmentation", dataType: dtype, encoding: "raw", resolution: [1, 1, 1], voxelOffset: [0, 0, 0], volumeSize: [64, 64, 32], chunkSize: [32, 32, 16] });
  const url = `mem://b/${dtype}-${Math.random().toString(36).slice(2)}`;
  const w = await PrecomputedVolume.open(ctx, url, { info, compress: "gzip" });
  await w.commitInfo();
  const data = dtype === "uint8" ? Uint8Array.from({ length: 64 * 64 * 32 }, (_, i) => fill(i)) : BigUint64Array.from({ length: 64 * 64 * 32 }, (_, i) => BigInt(fill(i)));
  await w.upload([0, 0, 0, 64, 64, 32], data);
  const vol = await PrecomputedVolume.open(ctx, url, opts);
  return { vol, data, calls: gz.calls };
}

describe("gzip inflate placement (inflateOnThread)", () => {
  it("inflates very compressible chunks here into pooled buffers and dense ones on the thread pool, by default", async () => {
    const seg = await layer("uint64", (i) => 1000 + (i >> 12));
    const a = await seg.vol.download([0, 0, 0, 64, 64, 32]);
    expect(Buffer.compare(bytesOf(a.data), bytesOf(seg.data))).toBe(0);
    expect(seg.calls).toEqual({ decode: 0, decodeInto: 8 });
    // Twice: the second read reuses the pooled buffers the first one released.
    const b = await seg.vol.download([3, 5, 1, 60, 63, 30]);
    expect(b.data[0]).toBe(seg.data[3 + 64 * 5 + 64 * 64]);

    let seed = 1;
    const noise = await layer("uint8", () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24));
    const c = await noise.vol.download([0, 0, 0, 64, 64, 32]);
    expect(Buffer.compare(bytesOf(c.data), bytesOf(noise.data))).toBe(0);
    expect(noise.calls).toEqual({ decode: 8, decodeInto: 0 });
  });

  it("true and false force one way", async () => {
    for (const inflateOnThread of [true, false]) {
      let seed = 3;
      const l = await layer("uint8", () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24), { inflateOnThread });
      const cut = await l.vol.download([0, 0, 0, 64, 64, 32]);
      expect(Buffer.compare(bytesOf(cut.data), bytesOf(l.data))).toBe(0);
      expect(l.calls).toEqual(inflateOnThread ? { decode: 0, decodeInto: 8 } : { decode: 8, decodeInto: 0 });
    }
  });
});

describe("download with a ChunkPainter", () => {
  /** A painter that runs each job on this thread through paintChunks, as a worker would. */
  function inlinePainter(vol: PrecomputedVolume, supports = true) {
    const jobs: PaintJob[] = [];
    const painter: ChunkPainter = {
      threads: 3,
      supports: () => supports,
      async paint(job, opts) {
        jobs.push(job);
        expect(job.out).toBeInstanceOf(SharedArrayBuffer);
        const data = new BigUint64Array(job.out, job.outByteOffset, job.shape[0] * job.shape[1] * job.shape[2] * job.shape[3]);
        const out = { data, shape: job.shape, stride: [1, job.shape[0], job.shape[0] * job.shape[1], job.shape[0] * job.shape[1] * job.shape[2]] as [number, number, number, number], dtype: job.dtype };
        const chunks: Bbox[] = [];
        for (let i = 0; i < job.chunks.length; i += 6) chunks.push(new Bbox([job.chunks[i], job.chunks[i + 1], job.chunks[i + 2]], [job.chunks[i + 3], job.chunks[i + 4], job.chunks[i + 5]]));
        const b = job.bbox;
        await vol.paintChunks(out, new Bbox([b[0], b[1], b[2]], [b[3], b[4], b[5]]), job.mip, chunks, { fillMissing: job.fillMissing, signal: opts?.signal, onChunk: opts?.onChunk });
      },
    };
    return { painter, jobs };
  }

  it("splits the chunks into jobs that cover each chunk once and paints into shared memory", async () => {
    const l = await layer("uint64", (i) => (i >> 4) * 7);
    const { painter, jobs } = inlinePainter(l.vol);
    let ticks = 0;
    const box = new Bbox([1, 2, 3], [63, 60, 31]);
    const cut = await l.vol.download(box, { painter, onChunk: () => ticks++ });
    expect(cut.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    const serial = await l.vol.download(box);
    expect(Buffer.compare(bytesOf(cut.data), bytesOf(serial.data))).toBe(0);
    const seen = jobs.flatMap((j) => Array.from({ length: j.chunks.length / 6 }, (_, i) => Array.from(j.chunks.subarray(i * 6, i * 6 + 6)).join(",")));
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    expect(jobs.length).toBeGreaterThan(1);
    expect(ticks).toBe(8);
    expect(JSON.parse(jobs[0].info).data_type).toBe("uint64");
    expect(jobs[0].url).toBe(l.vol.url);
  });

  it("reads on this thread when the painter cannot open the storage, or for one chunk", async () => {
    const l = await layer("uint64", (i) => i >> 4);
    const off = inlinePainter(l.vol, false);
    const cut = await l.vol.download([0, 0, 0, 64, 64, 32], { painter: off.painter });
    expect(off.jobs).toHaveLength(0);
    expect(cut.data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    const on = inlinePainter(l.vol);
    await l.vol.download([0, 0, 0, 10, 10, 10], { painter: on.painter });
    expect(on.jobs).toHaveLength(0);
    const shared = await l.vol.download([0, 0, 0, 10, 10, 10], { shared: true });
    expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("splitJobs keeps groups apart and balances the rest", () => {
    const c = (x: number) => new Bbox([x, 0, 0], [x + 1, 1, 1]);
    const jobs = splitJobs([[c(0), c(1), c(2)], [c(3)]], 1);
    expect(jobs.map((j) => j.length / 6)).toEqual([1, 1, 1, 1]);
    const many = splitJobs([Array.from({ length: 1000 }, (_, i) => c(i))], 2);
    expect(many.every((j) => j.length / 6 <= 32)).toBe(true);
    expect(many.reduce((s, j) => s + j.length / 6, 0)).toBe(1000);
  });
});
