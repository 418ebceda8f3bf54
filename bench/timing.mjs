/**
 * Timing shared by the codec benchmarks: `timeIt(fn, runs)` repeats `fn` until one batch
 * lasts >= 20 ms (which also warms it up), then times `runs` such batches and returns
 * seconds per call: the median, and the fastest and slowest batch (the spread).
 */
export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export function timeIt(fn, runs) {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 >= 20) break;
    reps *= 2;
  }
  const ts = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    ts.push((performance.now() - t0) / reps / 1000);
  }
  return { s: median(ts), min: Math.min(...ts), max: Math.max(...ts) };
}
