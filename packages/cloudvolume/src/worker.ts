/**
 * Entry of one worker thread of the pool (worker-pool.ts). Builds its own Context with
 * the default Node plugin set, opens each layer it is sent once (by URL, info and
 * options) and runs jobs: paint chunks straight into a shared cutout, upload blocks of
 * a shared source array, or transfer blocks between two layers.
 *
 * Gzip is inflated synchronously here into pooled buffers (`inflateOnThread`): this
 * thread is the unit of parallelism, and a fresh buffer per chunk costs more than the
 * inflate on machines where new memory is slow to fault in.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Bbox, Context, copyBox, dtypeInfo, fortranStrides, isCloudVolumeError, type Plugin, type VolumeArray } from "@cloudvolume/core";
import { ChunkedVolume, type PaintJob, type TransferStats } from "@cloudvolume/chunks";
import { createDiskCache } from "@cloudvolume/storage-file";
import { defaultPlugins } from "./index.js";
import { PROTOCOL_VERSION, type FromWorker, type Job, type LayerRef, type ToWorker, type TransferJob, type UploadJob, type WireError } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("cloudvolume's worker.js runs inside a worker thread of the pool; do not run it directly");

// The pool's Context may hold plugins beyond the defaults: each came with the module it can
// be imported from again (PluginDescriptor.module), and they go first, as on the caller's side.
const modules: string[] = (workerData as { modules?: string[] } | null)?.modules ?? [];
const extra: Plugin[] = [];
for (const m of modules) {
  const ns = (await import(m)) as { default?: Plugin | Plugin[]; plugins?: Plugin[] };
  const exported = ns.default ?? ns.plugins;
  if (!exported) throw new Error(`plugin module ${m} has no default export or \`plugins\``);
  extra.push(...(Array.isArray(exported) ? exported : [exported]));
}
const ctx = new Context({ plugins: [...extra, ...defaultPlugins()] });
/** Layers opened in this thread, by URL + info + options; the oldest is closed past MAX_OPEN. */
const open = new Map<string, Promise<ChunkedVolume>>();
const MAX_OPEN = 8;
const running = new Map<number, AbortController>();

function volumeFor(layer: LayerRef): Promise<ChunkedVolume> {
  const id = `${layer.url}\0${layer.info}\0${JSON.stringify(layer.options, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`;
  let vol = open.get(id);
  if (!vol) {
    vol = ChunkedVolume.open(ctx, layer.url, {
      cacheFactory: createDiskCache,
      ...layer.options,
      info: JSON.parse(layer.info),
      provenance: {}, // Precomputed: not needed to move voxels; saves a request per layer
      inflateOnThread: true,
    });
    vol.catch(() => open.delete(id));
    open.set(id, vol);
    if (open.size > MAX_OPEN) {
      const [oldest, p] = open.entries().next().value!;
      open.delete(oldest);
      p.then((v) => v.close(), () => {});
    }
  }
  return vol;
}

function boxes(a: Float64Array): Bbox[] {
  const out: Bbox[] = [];
  for (let i = 0; i < a.length; i += 6) out.push(new Bbox([a[i], a[i + 1], a[i + 2]], [a[i + 3], a[i + 4], a[i + 5]]));
  return out;
}

function box(b: number[]): Bbox {
  return new Bbox([b[0], b[1], b[2]], [b[3], b[4], b[5]]);
}

async function paint(job: PaintJob, signal: AbortSignal, onChunk: () => void): Promise<void> {
  const vol = await volumeFor(job);
  const info = dtypeInfo(job.dtype);
  const [x, y, z, c] = job.shape;
  const out: VolumeArray = {
    data: new info.ctor(job.out, job.outByteOffset, x * y * z * c),
    shape: job.shape, stride: fortranStrides(job.shape), dtype: job.dtype,
  };
  await vol.paintChunks(out, box(job.bbox), job.mip, boxes(job.chunks), { fillMissing: job.fillMissing, signal, onChunk });
}

/** Each block is copied out of the shared source into a buffer of its own (upload wants a whole array) and written. */
async function upload(job: UploadJob, signal: AbortSignal, onChunk: () => void): Promise<void> {
  const vol = await volumeFor(job);
  const bpv = dtypeInfo(vol.dtype).bytes;
  const [sx, sy, sz, channels] = job.srcShape;
  const src = new Uint8Array(job.src, job.srcByteOffset, sx * sy * sz * channels * bpv);
  const origin = box(job.srcBbox).min;
  for (const b of boxes(job.blocks)) {
    const size = b.size();
    const buf = new Uint8Array(size[0] * size[1] * size[2] * channels * bpv);
    copyBox({
      src, srcShape: [sx, sy, sz], srcOrigin: [b.min[0] - origin[0], b.min[1] - origin[1], b.min[2] - origin[2]],
      dst: buf, dstShape: size, dstOrigin: [0, 0, 0], size, bytesPerVoxel: bpv, channels,
    });
    const data = new (dtypeInfo(vol.dtype).ctor)(buf.buffer, 0, buf.byteLength / bpv);
    await vol.upload(b, data, { mip: job.mip, signal, onChunk, fillMissing: job.fillMissing });
  }
}

async function transfer(job: TransferJob, signal: AbortSignal, onChunk: () => void): Promise<TransferStats> {
  const [src, dst] = await Promise.all([volumeFor(job.src), volumeFor(job.dst)]);
  const stats: TransferStats = { chunks: 0, copied: 0, recoded: 0 };
  for (const b of boxes(job.blocks)) {
    const s = await src.transferTo(dst, { mip: job.mip, bbox: b, signal, onChunk });
    stats.chunks += s.chunks;
    stats.copied += s.copied;
    stats.recoded += s.recoded;
  }
  return stats;
}

function run(work: Job, signal: AbortSignal, onChunk: () => void): Promise<TransferStats | void> {
  switch (work.kind) {
    case "paint": return paint(work.job, signal, onChunk);
    case "upload": return upload(work.job, signal, onChunk);
    case "transfer": return transfer(work.job, signal, onChunk);
  }
}

function toWire(e: unknown): WireError {
  if (isCloudVolumeError(e)) {
    return { cloudvolume: true, name: e.name, message: e.message, code: e.code, key: e.key, url: e.url, mip: e.mip, bbox: e.bbox };
  }
  const err = e as Error | undefined;
  return { cloudvolume: false, name: err?.name ?? "Error", message: err?.message ?? String(e) };
}

function send(m: FromWorker): void {
  port!.postMessage(m);
}

port.on("message", (m: ToWorker) => {
  if (m.type === "abort") {
    running.get(m.id)?.abort();
    return;
  }
  if (m.version !== PROTOCOL_VERSION) {
    send({ type: "done", id: m.id, error: { cloudvolume: true, name: "CloudVolumeError", code: "UNAVAILABLE", message: `worker thread speaks protocol ${PROTOCOL_VERSION}, the pool ${m.version}: rebuild the cloudvolume package (pnpm build)` } });
    return;
  }
  const controller = new AbortController();
  running.set(m.id, controller);
  // Progress goes out in batches: a message per chunk would cost more than it tells.
  let pending = 0;
  let last = 0;
  const onChunk = () => {
    if (!m.progress) return;
    pending++;
    const now = performance.now();
    if (now - last >= 20) {
      send({ type: "progress", id: m.id, chunks: pending });
      pending = 0;
      last = now;
    }
  };
  run(m.work, controller.signal, onChunk).then(
    (stats) => {
      if (pending > 0) send({ type: "progress", id: m.id, chunks: pending });
      send({ type: "done", id: m.id, stats: stats || undefined });
    },
    (e) => send({ type: "done", id: m.id, error: toWire(e) }),
  ).finally(() => running.delete(m.id));
});
