import type { CloudVolume, CloudVolumeOptions } from "./index.js";
import { openVolume } from "./cli-plugins.js";
import { UsageError, bbox6, int, parseArgs } from "./args.js";

/**
 * CLI commands for volume operations (exists, delete, unique, point). Each prints plain
 * lines on stdout, so the output pipes into other tools; see OPS_USAGE.
 */

export const OPS_USAGE = `  exists <path> --bbox x0,y0,z0,x1,y1,z1 [--mip N]
  delete <path> --bbox x0,y0,z0,x1,y1,z1 [--mip N]
  unique <path> --bbox x0,y0,z0,x1,y1,z1 [--mip N] [--fill-missing]
  point <path> x,y,z [--mip N] [--fill-missing]`;

export const OPS_HELP = `exists prints "<n> of <m> chunks exist (mip N)", then "missing <key>" for each missing
chunk file (sharded scales are checked per chunk in the shard indices); it exits 0 either way.
delete removes the chunks of a chunk-aligned box (whole shards on sharded scales) and prints
"deleted <n> chunk file(s)" or "deleted <n> shard file(s)"; locked scales are refused.
unique prints the distinct values in the box, one per line, ascending.
point prints the value at x,y,z (mip 0 voxels, as Neuroglancer shows them and CloudVolume's
download_point takes them; converted to --mip); several channels print space-separated.`;

type Command = (argv: string[]) => Promise<void>;

function onePath(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`${cmd} needs exactly one <path>, got ${positionals.length}`);
  return positionals[0];
}

function out(lines: string[]): void {
  if (lines.length) process.stdout.write(lines.join("\n") + "\n");
}

async function withVolume<T>(path: string, options: CloudVolumeOptions, fn: (vol: CloudVolume) => Promise<T>): Promise<T> {
  const vol = await openVolume(path, options);
  try {
    return await fn(vol);
  } finally {
    await vol.close();
  }
}

export const opsCommands: Record<string, Command> = {
  async exists(argv) {
    const a = parseArgs(argv, { values: ["bbox", "mip"], flags: [] });
    const path = onePath(a.positionals, "exists");
    const bbox = bbox6(a, "bbox");
    await withVolume(path, { mip: int(a, "mip", { min: 0 }) }, async (vol) => {
      const found = await vol.exists(bbox);
      const keys = Object.keys(found);
      const missing = keys.filter((k) => !found[k]);
      out([`${keys.length - missing.length} of ${keys.length} chunks exist (mip ${vol.mip})`, ...missing.map((k) => `missing ${k}`)]);
    });
  },

  async delete(argv) {
    const a = parseArgs(argv, { values: ["bbox", "mip"], flags: [] });
    const path = onePath(a.positionals, "delete");
    const bbox = bbox6(a, "bbox");
    await withVolume(path, { mip: int(a, "mip", { min: 0 }) }, async (vol) => {
      const deleted = await vol.delete(bbox);
      out([`deleted ${deleted.length} ${vol.isSharded() ? "shard" : "chunk"} file(s)`]);
    });
  },

  async unique(argv) {
    const a = parseArgs(argv, { values: ["bbox", "mip"], flags: ["fill-missing"] });
    const path = onePath(a.positionals, "unique");
    const bbox = bbox6(a, "bbox");
    await withVolume(path, { mip: int(a, "mip", { min: 0 }), fillMissing: a.options["fill-missing"] === true }, async (vol) => {
      const labels = await vol.unique(bbox);
      // One write: a large label list as a single string is far faster than a line at a time.
      out(Array.from(labels as ArrayLike<number | bigint>, (v) => String(v)));
    });
  },

  async point(argv) {
    const a = parseArgs(argv, { values: ["mip"], flags: ["fill-missing"] });
    if (a.positionals.length !== 2) throw new UsageError(`point needs <path> x,y,z, got ${a.positionals.length} argument(s)`);
    const [path, xyz] = a.positionals;
    const parts = xyz.split(",").map((p) => (p.trim() === "" ? NaN : Number(p)));
    if (parts.length !== 3 || !parts.every(Number.isInteger)) throw new UsageError(`the point must be three integers x,y,z, got ${JSON.stringify(xyz)}`);
    await withVolume(path, { mip: int(a, "mip", { min: 0 }), fillMissing: a.options["fill-missing"] === true }, async (vol) => {
      const cut = await vol.downloadPoint(parts);
      out([Array.from(cut.data as ArrayLike<number | bigint>, (v) => String(v)).join(" ")]);
    });
  },
};
