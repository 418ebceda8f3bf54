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

/**
 * The same timing for the reference CloudVolume's side, as Python source: per_call(fn)
 * in seconds, with `runs` and `time` in scope of the script that includes it.
 */
export const PY_PER_CALL = `
def per_call(fn):
    reps = 1
    while True:
        t = time.perf_counter()
        for _ in range(reps): fn()
        if time.perf_counter() - t >= 0.02: break
        reps *= 2
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(reps): fn()
        ts.append((time.perf_counter() - t) / reps)
    return sorted(ts)[len(ts) // 2]
`;
