import { int, type ParsedArgs } from "./args.js";
import type { ParallelOptions } from "./parallel.js";

/** Options download, upload and cp take for threads and progress. */
export const PARALLEL_VALUES = ["parallel"] as const;
export const PARALLEL_FLAGS = ["progress", "no-progress"] as const;

export const PARALLEL_USAGE = `[--parallel N] [--progress | --no-progress]`;

export const PARALLEL_HELP = `--parallel N runs N threads (download: reading and decoding chunks into shared memory;
upload and cp: writing whole chunks or shards each); default 1. A progress bar goes to stderr
when stderr is a terminal, or always with --progress; --no-progress turns it off.`;

/** `--parallel N` and the progress bar: on with --progress, off with --no-progress, else on when stderr is a terminal. */
export function parallelOptions(a: ParsedArgs, stderr: { isTTY?: boolean } = process.stderr): ParallelOptions {
  const parallel = int(a, "parallel", { min: 1 });
  const progress = a.options["no-progress"] === true ? false : a.options.progress === true ? true : stderr.isTTY === true;
  return { parallel, progress };
}
