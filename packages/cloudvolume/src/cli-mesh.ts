import { writeFile } from "node:fs/promises";
import { encodeMeshFile } from "@cloudvolume/format-precomputed";
import { openVolume } from "./cli-plugins.js";
import { UsageError, int, parseArgs, str } from "./args.js";

export const MESH_USAGE = `  mesh get <path> <segid...> [--lod N] --out FILE.ply|FILE.obj|FILE.json`;

export const MESH_HELP = `mesh get writes the segments' meshes fused into one, as mesh.get returns it (physical space:
the mesh info's transform applied; duplicate vertices and faces removed, CloudVolume's consolidate):
FILE.ply binary little-endian PLY, FILE.obj Wavefront OBJ (1-based faces), FILE.json
{"vertices": [[x,y,z], ...], "faces": [[a,b,c], ...]}. --lod picks a multires level (default 0).`;

type Command = (argv: string[]) => Promise<void>;

export const meshCommands: Record<string, Command> = {
  async mesh(argv) {
    const [sub, ...rest] = argv;
    if (sub !== "get") throw new UsageError(`mesh: expected the subcommand "get", got ${JSON.stringify(sub ?? "")}`);
    const a = parseArgs(rest, { values: ["out", "lod"], flags: [] });
    if (a.positionals.length < 2) throw new UsageError(`mesh get needs <path> <segid...>, got ${a.positionals.length} argument(s)`);
    const [path, ...segids] = a.positionals;
    for (const s of segids) {
      if (!/^\d+$/.test(s) || BigInt(s) >= 1n << 64n) throw new UsageError(`mesh get: <segid> must be a uint64 in decimal, got ${JSON.stringify(s)}`);
    }
    const out = str(a, "out", true);
    const lower = out.toLowerCase();
    const format = lower.endsWith(".ply") ? "ply" : lower.endsWith(".obj") ? "obj" : lower.endsWith(".json") ? "json" : undefined;
    if (!format) throw new UsageError(`mesh get: --out must end in .ply, .obj or .json, got ${JSON.stringify(out)}`);
    const lod = int(a, "lod", { min: 0 });
    const vol = await openVolume(path);
    try {
      const mesh = await vol.mesh.get(segids.map((s) => BigInt(s)), { lod, removeDuplicateVertices: true });
      await writeFile(out, encodeMeshFile(mesh, format));
    } finally {
      await vol.close();
    }
  },
};
