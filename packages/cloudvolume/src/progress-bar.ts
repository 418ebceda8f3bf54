import type { ProgressInfo } from "./parallel.js";

/** Where a bar draws: stderr, or anything with write (tests). `isTTY` and `columns` when it is a terminal. */
export interface BarStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Redraws at most this often (ms): a bar per chunk would cost more than the chunk on a fast disk. */
const REDRAW_MS = 100;

/**
 * A one-line progress bar: `label [#####-----] 12/64 chunks 19% 0.8s`. On a terminal it
 * redraws in place (carriage return); elsewhere (a log file, a pipe) it prints a line
 * at each tenth and at the end, so logs stay short. Never writes to stdout: the CLI's
 * data may go there.
 */
export function progressBar(label: string, stream: BarStream): (p: ProgressInfo) => void {
  const start = performance.now();
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let finished = false;
  return ({ done, total }) => {
    if (finished) return;
    const now = performance.now();
    const end = done >= total;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    if (stream.isTTY) {
      if (!end && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 40));
      const filled = Math.round(frac * width);
      stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${line(done, total, frac, now - start)}${end ? "\n" : ""}`);
    } else {
      const tenth = Math.floor(frac * 10);
      if (!end && tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label} ${line(done, total, frac, now - start)}\n`);
    }
    if (end) finished = true;
  };
}

function line(done: number, total: number, frac: number, ms: number): string {
  return `${done}/${total} chunks ${Math.floor(frac * 100)}% ${(ms / 1000).toFixed(1)}s`;
}
