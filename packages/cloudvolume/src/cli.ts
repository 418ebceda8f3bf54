#!/usr/bin/env node
import { open as openFile, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { isCloudVolumeError, isDataType, dtypeInfo, bytesOf, viewAs, type DataType } from "@cloudvolume/core";
import { createNewInfo, type PrecomputedInfo } from "@cloudvolume/format-precomputed";
import type { CloudVolume } from "./index.js";
import { PLUGIN_HELP, PLUGIN_USAGE, PluginLoadError, extractPluginArgs, loadPlugins, openVolume, pluginSpecs, setCliPlugins } from "./cli-plugins.js";
import { UsageError, bbox6, int, parseArgs, str, vec3 } from "./args.js";
import { PARALLEL_FLAGS, PARALLEL_HELP, PARALLEL_USAGE, PARALLEL_VALUES, parallelOptions } from "./cli-parallel.js";
import { OPS_HELP, OPS_USAGE, opsCommands } from "./cli-ops.js";
import { SKELETON_HELP, SKELETON_USAGE, skeletonCommands } from "./cli-skeleton.js";
import { MESH_HELP, MESH_USAGE, meshCommands } from "./cli-mesh.js";

const USAGE = `usage: cloudvolume [--plugin <module>]... <command> [options]

commands:
  info <path>
  download <path> --bbox x0,y0,z0,x1,y1,z1 [--mip N] [--fill-missing] --out FILE ${PARALLEL_USAGE}
  upload <path> --bbox x0,y0,z0,x1,y1,z1 --in FILE [--non-aligned] [--fill-missing] [--mip N] ${PARALLEL_USAGE}
  create <path> --type image|segmentation --dtype D --encoding E --resolution x,y,z
         --size x,y,z --chunk-size x,y,z [--voxel-offset x,y,z] [--channels N]
         [--compress gzip|br|none] [--block-size x,y,z]
  cp <src> <dst> [--encoding E] [--compress gzip|br|none] [--mip N] [--sharded | --unsharded] ${PARALLEL_USAGE}
${OPS_USAGE}
${SKELETON_USAGE}
${MESH_USAGE}
${PLUGIN_USAGE}

cp keeps each scale's layout (sharded or not) unless --sharded (shard every copied scale,
parameters as CloudVolume's to_sharded) or --unsharded (plain chunk files) says otherwise;
--compress applies to plain chunk files only (a sharding spec has its own data_encoding).

${PARALLEL_HELP}

${OPS_HELP}

${SKELETON_HELP}

${MESH_HELP}

${PLUGIN_HELP}

<path> is file:///abs/dir, precomputed://file:///abs/dir, a bare local path, or mem://...
Arrays on disk (--out, --in) are raw little-endian bytes in Fortran order (x fastest, then y, z, channel).`;

type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  ...opsCommands,
  ...skeletonCommands,
  ...meshCommands,
  async info(argv) {
    const a = parseArgs(argv, { values: [], flags: [] });
    const path = onePath(a.positionals, "info");
    const vol = await openVolume(path);
    process.stdout.write(JSON.stringify(vol.info, null, 2) + "\n");
    await vol.close();
  },

  async download(argv) {
    const a = parseArgs(argv, { values: ["bbox", "mip", "out", ...PARALLEL_VALUES], flags: ["fill-missing", ...PARALLEL_FLAGS] });
    const path = onePath(a.positionals, "download");
    const bbox = bbox6(a, "bbox");
    const out = str(a, "out", true);
    const vol = await openVolume(path, { fillMissing: a.options["fill-missing"] === true, mip: int(a, "mip", { min: 0 }), ...parallelOptions(a) });
    try {
      const cut = await vol.download(bbox);
      await writeAtomically(out, bytesOf(cut.data));
    } finally {
      await vol.close();
    }
  },

  async upload(argv) {
    const a = parseArgs(argv, { values: ["bbox", "in", "mip", ...PARALLEL_VALUES], flags: ["non-aligned", "fill-missing", ...PARALLEL_FLAGS] });
    const path = onePath(a.positionals, "upload");
    const bbox = bbox6(a, "bbox");
    const input = str(a, "in", true);
    const vol = await openVolume(path, {
      nonAlignedWrites: a.options["non-aligned"] === true,
      fillMissing: a.options["fill-missing"] === true,
      mip: int(a, "mip", { min: 0 }),
      ...parallelOptions(a),
    });
    try {
      const bytes = await readFile(input).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read --in ${input}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
      });
      const bpv = dtypeInfo(vol.dtype).bytes;
      const need = (bbox[3] - bbox[0]) * (bbox[4] - bbox[1]) * (bbox[5] - bbox[2]) * vol.numChannels * bpv;
      if (bytes.byteLength !== need) {
        throw new UsageError(`--in ${input} has ${bytes.byteLength} bytes; ${bbox.join(",")} of ${vol.dtype} with ${vol.numChannels} channel(s) needs ${need}`);
      }
      await vol.upload(bbox, viewAs(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), vol.dtype));
    } finally {
      await vol.close();
    }
  },

  async create(argv) {
    const a = parseArgs(argv, {
      values: ["type", "dtype", "encoding", "resolution", "size", "chunk-size", "voxel-offset", "channels", "compress", "block-size"],
      flags: [],
    });
    const path = onePath(a.positionals, "create");
    const type = str(a, "type", true);
    if (type !== "image" && type !== "segmentation") throw new UsageError(`--type must be image or segmentation, got ${JSON.stringify(type)}`);
    const dtype = str(a, "dtype", true);
    if (!isDataType(dtype)) throw new UsageError(`--dtype must be one of uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64; got ${JSON.stringify(dtype)}`);
    const encoding = str(a, "encoding", true);
    const posInt = (n: number) => Number.isInteger(n) && n > 0;
    const compress = str(a, "compress");
    if (compress !== undefined && !["gzip", "br", "none"].includes(compress)) throw new UsageError(`--compress must be gzip, br or none, got ${JSON.stringify(compress)}`);
    const info = createNewInfo({
      layerType: type,
      dataType: dtype as DataType,
      encoding,
      resolution: vec3(a, "resolution", true, (n) => Number.isFinite(n) && n > 0, "positive numbers")!,
      volumeSize: vec3(a, "size", true, posInt, "positive integers")!,
      chunkSize: vec3(a, "chunk-size", true, posInt, "positive integers")!,
      voxelOffset: vec3(a, "voxel-offset", false, Number.isInteger, "integers") ?? [0, 0, 0],
      numChannels: int(a, "channels", { min: 1 }) ?? 1,
      compressedSegmentationBlockSize: vec3(a, "block-size", false, posInt, "positive integers"),
    });
    // Precomputed has no field for transfer compression; remember the choice in the
    // info so later uploads (which take no --compress) honour it.
    if (compress !== undefined) info.compress = compress;
    const vol = await openVolume(path, { info });
    await vol.commitInfo();
    await vol.close();
  },

  async cp(argv) {
    const a = parseArgs(argv, { values: ["encoding", "compress", "mip", ...PARALLEL_VALUES], flags: ["sharded", "unsharded", ...PARALLEL_FLAGS] });
    if (a.positionals.length !== 2) throw new UsageError("cp needs <src> <dst>");
    const [srcPath, dstPath] = a.positionals;
    const compress = str(a, "compress");
    if (compress !== undefined && !["gzip", "br", "none"].includes(compress)) throw new UsageError(`--compress must be gzip, br or none, got ${JSON.stringify(compress)}`);
    if (a.options.sharded === true && a.options.unsharded === true) throw new UsageError("--sharded and --unsharded contradict each other; pass one");
    const sharded = a.options.sharded === true ? true : a.options.unsharded === true ? false : undefined;
    const encoding = str(a, "encoding");
    const onlyMip = int(a, "mip", { min: 0 });
    const src = await openVolume(srcPath, parallelOptions(a)); // transferTo takes parallel and progress from the source
    const mips = onlyMip !== undefined ? [onlyMip] : src.availableMips;
    const dst = await openOrCreateDestination(src, dstPath, encoding, compress, sharded, mips);
    try {
      for (const mip of mips) await src.transferTo(dst, { mip, sharded });
      // Provenance goes along where both formats keep one (Precomputed's provenance file).
      const hasProvenance = src.provenance.sources.length || src.provenance.owners.length || src.provenance.processing.length || src.provenance.description;
      if (hasProvenance && dst.capabilities.provenance) {
        dst.provenance = structuredClone(src.provenance);
        await dst.commitProvenance();
      }
    } finally {
      await src.close();
      await dst.close();
    }
  },
};

/**
 * The copy target: an existing layer must agree with the source (dtype, channels,
 * every scale's bounds); a missing one gets the source's info, re-encoded as asked.
 */
async function openOrCreateDestination(
  src: CloudVolume, dstPath: string, encoding: string | undefined, compress: string | undefined, sharded: boolean | undefined, mips: number[],
): Promise<CloudVolume> {
  const writeOpts = { compress: compress as "gzip" | "br" | "none" | undefined };
  let existing: CloudVolume | undefined;
  try {
    existing = await openVolume(dstPath, writeOpts);
  } catch (e) {
    // A format driver says "no metadata here" as NOT_FOUND naming its metadata key (Precomputed: info).
    if (!isCloudVolumeError(e, "NOT_FOUND") || e.key === undefined) throw e;
  }
  if (existing) {
    const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => v === b[i]);
    const mismatch =
      existing.dtype !== src.dtype ? `data_type ${existing.dtype} vs ${src.dtype}` :
      existing.numChannels !== src.numChannels ? `num_channels ${existing.numChannels} vs ${src.numChannels}` :
      existing.scales.length < src.scales.length ? `${existing.scales.length} scales vs ${src.scales.length}` :
      src.scales.some((s, i) => !same(s.size, existing!.scales[i].size) || !same(s.voxel_offset, existing!.scales[i].voxel_offset)) ? "scale bounds differ" :
      encoding !== undefined && existing.scales.some((s) => s.encoding !== encoding) ? `its encoding is ${existing.encoding}, not ${encoding}` :
      // Switching an existing scale's layout would strand the data already stored in the other one.
      sharded !== undefined && mips.some((m) => existing!.isSharded(m) !== sharded) ? `mip ${mips.find((m) => existing!.isSharded(m) !== sharded)} is ${sharded ? "not " : ""}sharded` : undefined;
    if (mismatch) {
      await existing.close();
      throw new UsageError(`destination ${dstPath} already exists and does not match the source (${mismatch}); remove it or copy elsewhere`);
    }
    return existing;
  }
  const dstInfo = structuredClone(src.info) as PrecomputedInfo;
  delete dstInfo.redirect;
  if (encoding !== undefined) {
    for (const s of dstInfo.scales) {
      s.encoding = encoding;
      if (encoding === "compressed_segmentation") s.compressed_segmentation_block_size ??= [8, 8, 8];
      else delete s.compressed_segmentation_block_size;
    }
  }
  if (compress !== undefined) dstInfo.compress = compress;
  const dst = await openVolume(dstPath, { ...writeOpts, info: dstInfo });
  // Refuse what the destination cannot write before its metadata exists: a failed cp must
  // not leave a layer behind that claims an encoding or layout it cannot hold.
  try {
    if (sharded === true && !dst.capabilities.sharded) throw new UsageError(`--sharded: the ${dst.format} format of ${dstPath} has no sharded storage`);
    for (const mip of mips) {
      await dst.checkWritable(mip).catch((e: unknown) => {
        if (!isCloudVolumeError(e, "UNKNOWN_CODEC")) throw e;
        throw new UsageError(`destination ${dstPath} cannot write encoding ${JSON.stringify(dst.scales[mip].encoding)} (${e.message}); choose one it can with --encoding (e.g. --encoding raw)`);
      });
    }
  } catch (e) {
    await dst.close();
    throw e;
  }
  await dst.commitInfo();
  return dst;
}

function onePath(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`${cmd} needs exactly one <path>, got ${positionals.length}`);
  return positionals[0];
}

/** Write to a temporary name beside the target, then rename: never a half-written file. */
async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await openFile(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // --plugin may stand anywhere (before the command name too); the commands never see it.
  let pluginFlags: string[];
  try {
    ({ argv, specs: pluginFlags } = extractPluginArgs(argv));
  } catch (e) {
    const named = argv.find((a) => !a.startsWith("-"));
    process.stderr.write(`cloudvolume${named && named in commands ? ` ${named}` : ""}: ${(e as Error).message}\n`);
    return 2;
  }
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(USAGE + "\n");
    return cmd ? 0 : 2;
  }
  const run = commands[cmd];
  if (!run) {
    process.stderr.write(`cloudvolume: unknown command ${JSON.stringify(cmd)} (expected ${Object.keys(commands).join(", ")})\n`);
    return 2;
  }
  try {
    setCliPlugins(await loadPlugins(pluginSpecs(pluginFlags, env)));
    await run(rest);
    return 0;
  } catch (e) {
    const msg = e instanceof UsageError || e instanceof PluginLoadError || isCloudVolumeError(e) ? e.message : (e as Error)?.message ?? String(e);
    process.stderr.write(`cloudvolume ${cmd}: ${msg.replace(/\s*\n\s*/g, " ")}\n`);
    return e instanceof PluginLoadError ? e.exitCode : e instanceof UsageError ? 2 : 1;
  }
}

// `pnpm -s cloudvolume` runs from the workspace root; resolve relative paths
// against the directory the user typed the command in.
if (process.env.INIT_CWD && process.env.npm_lifecycle_event === "cloudvolume") {
  try {
    if ((await stat(process.env.INIT_CWD)).isDirectory()) process.chdir(process.env.INIT_CWD);
  } catch {
    /* keep the current directory */
  }
}
process.exitCode = await main(process.argv.slice(2));
