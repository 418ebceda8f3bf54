import { writeFile } from "node:fs/promises";
import { openVolume } from "./cli-plugins.js";
import { UsageError, parseArgs, str } from "./args.js";

export const SKELETON_USAGE = `  skeleton get <path> <segid> --out FILE.swc|FILE.json`;

export const SKELETON_HELP = `skeleton get writes one skeleton in physical space (transform applied), as skeleton.get
returns it: FILE.swc as SWC text, FILE.json as {"vertices": [[x,y,z], ...], "edges": [[a,b], ...],
"attributes": {"radius": [...], ...}}.`;

type Command = (argv: string[]) => Promise<void>;

export const skeletonCommands: Record<string, Command> = {
  async skeleton(argv) {
    const [sub, ...rest] = argv;
    if (sub !== "get") throw new UsageError(`skeleton: expected the subcommand "get", got ${JSON.stringify(sub ?? "")}`);
    const a = parseArgs(rest, { values: ["out"], flags: [] });
    if (a.positionals.length !== 2) throw new UsageError(`skeleton get needs <path> <segid>, got ${a.positionals.length} argument(s)`);
    const [path, segid] = a.positionals;
    if (!/^\d+$/.test(segid) || BigInt(segid) >= 1n << 64n) throw new UsageError(`skeleton get: <segid> must be a uint64 in decimal, got ${JSON.stringify(segid)}`);
    const out = str(a, "out", true);
    const lower = out.toLowerCase();
    const format = lower.endsWith(".swc") ? "swc" : lower.endsWith(".json") ? "json" : undefined;
    if (!format) throw new UsageError(`skeleton get: --out must end in .swc or .json, got ${JSON.stringify(out)}`);
    const vol = await openVolume(path);
    try {
      const skel = await vol.skeleton.get(BigInt(segid));
      const text = format === "swc" ? skel.toSwc() : JSON.stringify(skel.toJSON()) + "\n";
      await writeFile(out, text);
    } finally {
      await vol.close();
    }
  },
};
