import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Debian's numcodecs (python3-numcodecs, pulled in by `apt-get install python3-zarr`) as an
 * independent implementation: encode or decode bytes with a numcodecs codec configuration.
 * `PYTHON_NUMCODECS` is undefined (tests skip, saying why) when /usr/bin/python3 lacks it.
 */
const PY = "/usr/bin/python3";
export const PYTHON_NUMCODECS: string | undefined = (() => {
  if (!existsSync(PY)) return undefined;
  try {
    execFileSync(PY, ["-c", "import numcodecs, numpy"], { stdio: "ignore" });
    return PY;
  } catch {
    return undefined;
  }
})();
export const NO_PYTHON_REASON = "skipped: /usr/bin/python3 cannot import numcodecs (apt-get install -y python3-zarr)";

const SCRIPT = `
import sys, json, numpy, numcodecs
cfg = json.loads(sys.argv[2])
codec = numcodecs.get_codec(cfg)
data = sys.stdin.buffer.read()
if sys.argv[1] == "encode":
    arr = numpy.frombuffer(data, dtype=sys.argv[3])
    sys.stdout.buffer.write(bytes(codec.encode(arr)))
else:
    sys.stdout.buffer.write(bytes(codec.decode(data)))
`;

/** numcodecs' encode of `data` viewed as `dtype` (blosc takes its typesize from the itemsize). */
export function pyEncode(config: Record<string, unknown>, data: Uint8Array, dtype = "u1"): Uint8Array {
  return new Uint8Array(execFileSync(PYTHON_NUMCODECS!, ["-c", SCRIPT, "encode", JSON.stringify(config), dtype], { input: data, maxBuffer: 1 << 28 }));
}

export function pyDecode(config: Record<string, unknown>, data: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync(PYTHON_NUMCODECS!, ["-c", SCRIPT, "decode", JSON.stringify(config)], { input: data, maxBuffer: 1 << 28 }));
}

const BATCH = `
import sys, json, numpy, numcodecs, os
d = sys.argv[1]
jobs = json.load(open(os.path.join(d, "jobs.json")))
for i, j in enumerate(jobs):
    codec = numcodecs.get_codec(j["config"])
    data = open(os.path.join(d, "in%d" % i), "rb").read()
    if j["op"] == "encode":
        out = codec.encode(numpy.frombuffer(data, dtype=j["dtype"]))
    else:
        out = codec.decode(data)
    open(os.path.join(d, "out%d" % i), "wb").write(bytes(out))
`;

export interface PyJob {
  op: "encode" | "decode";
  config: Record<string, unknown>;
  data: Uint8Array;
  /** numpy dtype the data is viewed as when encoding (blosc's typesize). */
  dtype?: string;
}

/** Many numcodecs encodes/decodes in one Python process (its start-up dominates single calls). */
export function pyBatch(jobs: PyJob[]): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), "cv-numcodecs-"));
  try {
    jobs.forEach((j, i) => writeFileSync(join(dir, `in${i}`), j.data));
    writeFileSync(join(dir, "jobs.json"), JSON.stringify(jobs.map((j) => ({ op: j.op, config: j.config, dtype: j.dtype ?? "u1" }))));
    execFileSync(PYTHON_NUMCODECS!, ["-c", BATCH, dir], { stdio: ["ignore", "ignore", "pipe"] });
    return jobs.map((_, i) => new Uint8Array(readFileSync(join(dir, `out${i}`))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Byte equality without vitest's element-by-element diffing (slow on large arrays). */
export function sameBytesFast(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
