import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dtypeInfo, isCloudVolumeError, type DataType, type TypedArray, type Vec3 } from "@cloudvolume/core";
import { tempDir } from "@cloudvolume/testing";
import { CloudVolume } from "cloudvolume";
import { npyChunks } from "../src/index.js";

/**
 * Cross-check with numpy, an independent NPY implementation: numpy reads the chunk files
 * this package writes (np.load), and this package reads chunk files numpy writes (np.save
 * of np.asfortranarray). Expected values come from one formula, computed separately in
 * TypeScript and in Python.
 */

const numpy = spawnSync("python3", ["-c", "import numpy; print(numpy.__version__)"], { encoding: "utf8" });
const hasNumpy = numpy.status === 0;
const why = hasNumpy ? "" : `python3 with numpy is not available (${numpy.error?.message ?? numpy.stderr?.trim() ?? "python3 -c 'import numpy' failed"})`;
if (!hasNumpy) console.warn(`numpy cross-check skipped: ${why}`);

function python(script: string, args: string[]): string {
  const r = spawnSync("python3", ["-c", script, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The shared formula: v(x, y, z, c) on absolute coordinates, per dtype (every value exact in both languages). */
const PY_FORMULA = `
import numpy as np
def expected(dtype, x, y, z, c):
    base = (x * 7 + y * 13 + z * 31 + c * 101) % 251
    if dtype in ('uint8',): return np.uint8(base)
    if dtype == 'int8': return np.int8(base - 125)
    if dtype == 'uint16': return np.uint16(base * 257)
    if dtype == 'int16': return np.int16(base * 100 - 12000)
    if dtype == 'uint32': return np.uint32(base * 16777259)
    if dtype == 'int32': return np.int32(base * 8388617 - 1000000000)
    if dtype == 'uint64': return np.uint64(base + 2**63 + 2**40)
    if dtype == 'int64': return np.int64(base - 2**62)
    if dtype == 'float32': return np.float32(base * 0.5 - 3.25)
    if dtype == 'float64': return np.float64(base / 4.0 - 1e10)
    raise ValueError(dtype)
`;

function jsValue(dtype: DataType, x: number, y: number, z: number, c: number): number | bigint {
  const base = (x * 7 + y * 13 + z * 31 + c * 101) % 251;
  switch (dtype) {
    case "uint8": return base;
    case "int8": return base - 125;
    case "uint16": return base * 257;
    case "int16": return base * 100 - 12000;
    case "uint32": return (base * 16777259) >>> 0;
    case "int32": return base * 8388617 - 1000000000;
    case "uint64": return BigInt(base) + 2n ** 63n + 2n ** 40n;
    case "int64": return BigInt(base) - 2n ** 62n;
    case "float32": return base * 0.5 - 3.25;
    case "float64": return base / 4.0 - 1e10;
  }
}

interface Geometry { size: Vec3; offset: Vec3; chunk: Vec3; channels: number }
// Ragged on every axis (edge chunks padded), a negative voxel offset, two channels.
const GEOM: Geometry = { size: [10, 11, 7], offset: [-3, 2, 5], chunk: [4, 4, 3], channels: 2 };

function jsVolume(dtype: DataType, g: Geometry): TypedArray {
  const [sx, sy, sz] = g.size;
  const out = new (dtypeInfo(dtype).ctor)(sx * sy * sz * g.channels) as unknown as (number | bigint)[];
  for (let c = 0; c < g.channels; c++)
    for (let z = 0; z < sz; z++)
      for (let y = 0; y < sy; y++)
        for (let x = 0; x < sx; x++) out[x + sx * (y + sy * (z + sz * c))] = jsValue(dtype, x + g.offset[0], y + g.offset[1], z + g.offset[2], c);
  return out as unknown as TypedArray;
}

const bounds = (g: Geometry) => [...g.offset, g.offset[0] + g.size[0], g.offset[1] + g.size[1], g.offset[2] + g.size[2]];
const grid = (g: Geometry) => g.size.map((n, d) => Math.ceil(n / g.chunk[d]));

function infoFor(dtype: DataType, g: Geometry) {
  return CloudVolume.createNewInfo({
    layerType: "image", dataType: dtype, encoding: "npy", resolution: [4, 4, 40], volumeSize: g.size, chunkSize: g.chunk, voxelOffset: g.offset, numChannels: g.channels,
  });
}

const DTYPES: DataType[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"];

describe("numpy cross-check", () => {
  it.skipIf(!hasNumpy)(`numpy np.load reads every chunk file we write: dtype, Fortran order, padded shape, values (${why || "numpy " + numpy.stdout.trim()})`, async () => {
    const root = tempDir("npychunks-np-");
    for (const dtype of DTYPES) {
      const dir = join(root, dtype);
      const url = `npychunks://file://${dir}`;
      const vol = await CloudVolume.open(url, { plugins: [npyChunks()], info: infoFor(dtype, GEOM) });
      await vol.commitInfo();
      await vol.upload(bounds(GEOM), jsVolume(dtype, GEOM));
      await vol.close();
    }
    const script = `${PY_FORMULA}
import json, os, sys
root = sys.argv[1]
report = {}
for dtype in ${JSON.stringify(DTYPES)}:
    d = os.path.join(root, dtype)
    h = json.load(open(os.path.join(d, 'npychunks.json')))
    cs, off, size, ch = h['chunk_size'], h['voxel_offset'], h['size'], h['channels']
    files = sorted(os.listdir(os.path.join(d, 'c')))
    bad = []
    for f in files:
        path = os.path.join(d, 'c', f)
        raw = open(path, 'rb').read()
        hlen = int.from_bytes(raw[8:10], 'little')
        if raw[:8] != b'\\x93NUMPY\\x01\\x00' or (10 + hlen) % 64 != 0: bad.append(f + ': preamble/alignment')
        a = np.load(path)
        gx, gy, gz = (int(t) for t in f[:-4].split('.'))
        if a.dtype != np.dtype(dtype).newbyteorder('<'): bad.append(f + ': dtype ' + a.dtype.str)
        if a.shape != (cs[0], cs[1], cs[2], ch): bad.append(f + ': shape ' + str(a.shape))
        if not a.flags['F_CONTIGUOUS'] or not np.isfortran(a): bad.append(f + ': not Fortran order')
        # An independent check of numpy's own writer: np.save of the same array gives the same data bytes.
        exp = np.zeros((cs[0], cs[1], cs[2], ch), dtype=dtype, order='F')
        for c in range(ch):
            for z in range(cs[2]):
                for y in range(cs[1]):
                    for x in range(cs[0]):
                        ax, ay, az = off[0] + gx * cs[0] + x, off[1] + gy * cs[1] + y, off[2] + gz * cs[2] + z
                        inside = ax < off[0] + size[0] and ay < off[1] + size[1] and az < off[2] + size[2]
                        exp[x, y, z, c] = expected(dtype, ax, ay, az, c) if inside else 0
        if not np.array_equal(a, exp): bad.append(f + ': values differ, first at ' + str(np.argwhere(a != exp)[0].tolist()))
        if raw[10 + hlen:] != np.asfortranarray(exp).tobytes(order='F'): bad.append(f + ': data bytes differ from numpy tobytes(order=F)')
    report[dtype] = {'files': files, 'bad': bad}
print(json.dumps(report))
`;
    const report = JSON.parse(python(script, [root])) as Record<string, { files: string[]; bad: string[] }>;
    const [gx, gy, gz] = grid(GEOM);
    const names: string[] = [];
    for (let z = 0; z < gz; z++) for (let y = 0; y < gy; y++) for (let x = 0; x < gx; x++) names.push(`${x}.${y}.${z}.npy`);
    for (const dtype of DTYPES) {
      expect(report[dtype].files, dtype).toEqual([...names].sort());
      expect(report[dtype].bad, dtype).toEqual([]);
    }
  });

  it.skipIf(!hasNumpy)(`we read chunk files numpy writes (np.save of np.asfortranarray), padded edges included (${why || "numpy"})`, async () => {
    const root = tempDir("npychunks-fromnp-");
    const script = `${PY_FORMULA}
import json, os, sys
root = sys.argv[1]
g = json.loads(sys.argv[2])
for dtype in ${JSON.stringify(DTYPES)}:
    d = os.path.join(root, dtype)
    os.makedirs(os.path.join(d, 'c'))
    json.dump({'format': 'npychunks', 'version': 1, 'type': 'image', 'dtype': dtype, 'channels': g['channels'],
               'size': g['size'], 'chunk_size': g['chunk'], 'voxel_offset': g['offset'], 'resolution': [4, 4, 40]},
              open(os.path.join(d, 'npychunks.json'), 'w'))
    cs, off, size, ch = g['chunk'], g['offset'], g['size'], g['channels']
    grid = [-(-size[i] // cs[i]) for i in range(3)]
    for gz in range(grid[2]):
        for gy in range(grid[1]):
            for gx in range(grid[0]):
                a = np.zeros((cs[0], cs[1], cs[2], ch), dtype=dtype)  # C order first ...
                for c in range(ch):
                    for z in range(cs[2]):
                        for y in range(cs[1]):
                            for x in range(cs[0]):
                                ax, ay, az = off[0] + gx * cs[0] + x, off[1] + gy * cs[1] + y, off[2] + gz * cs[2] + z
                                if ax < off[0] + size[0] and ay < off[1] + size[1] and az < off[2] + size[2]:
                                    a[x, y, z, c] = expected(dtype, ax, ay, az, c)
                np.save(os.path.join(d, 'c', '%d.%d.%d.npy' % (gx, gy, gz)), np.asfortranarray(a))  # ... saved Fortran-ordered
print('ok')
`;
    expect(python(script, [root, JSON.stringify(GEOM)]).trim()).toBe("ok");
    for (const dtype of DTYPES) {
      const vol = await CloudVolume.open(`npychunks://file://${join(root, dtype)}`, { plugins: [npyChunks()] });
      expect(vol.dtype).toBe(dtype);
      expect(vol.numChannels).toBe(GEOM.channels);
      const cut = await vol.download(bounds(GEOM));
      const exp = jsVolume(dtype, GEOM);
      expect(cut.data.length, dtype).toBe(exp.length);
      let bad = 0;
      for (let i = 0; i < exp.length; i++) if (!Object.is(cut.data[i], exp[i])) bad++;
      expect(bad, `${dtype}: voxels differing from the formula`).toBe(0);
      // a sub-box crossing chunk lines, ending at the ragged upper bound
      const b = bounds(GEOM);
      const sub = await vol.download([b[0] + 3, b[1] + 5, b[2] + 2, b[3], b[4], b[5]]);
      expect(sub.data[0], dtype).toBe(jsValue(dtype, b[0] + 3, b[1] + 5, b[2] + 2, 0));
      await vol.close();
    }
  });

  it.skipIf(!hasNumpy)(`a C-ordered or wrongly typed file numpy writes is DECODE_FAILED naming its key (${why || "numpy"})`, async () => {
    const dir = tempDir("npychunks-npbad-");
    const vol = await CloudVolume.open(`npychunks://file://${dir}`, { plugins: [npyChunks()], info: infoFor("uint16", { size: [4, 4, 3], offset: [0, 0, 0], chunk: [4, 4, 3], channels: 1 }) });
    await vol.commitInfo();
    await vol.close();
    python(`import numpy as np, sys
np.save(sys.argv[1], np.ones((4, 4, 3, 1), dtype='<u2', order='C'))
np.save(sys.argv[2], np.asfortranarray(np.ones((4, 4, 3, 1), dtype='<i2')))
`, [join(dir, "c-order.npy"), join(dir, "int16.npy")]);
    expect(existsSync(join(dir, "c-order.npy"))).toBe(true);
    for (const [file, what] of [["c-order.npy", "fortran_order is False"], ["int16.npy", `descr is "<i2"`]] as const) {
      mkdirSync(join(dir, "c"), { recursive: true });
      writeFileSync(join(dir, "c", "0.0.0.npy"), readFileSync(join(dir, file)));
      const v = await CloudVolume.open(`npychunks://file://${dir}`, { plugins: [npyChunks()] });
      let err: unknown;
      await v.download([0, 0, 0, 4, 4, 3]).catch((e) => (err = e));
      expect(isCloudVolumeError(err, "DECODE_FAILED"), String(err)).toBe(true);
      expect((err as Error).message).toContain("c/0.0.0.npy");
      expect((err as Error).message).toContain(what);
      await v.close();
    }
    expect(readdirSync(join(dir, "c"))).toEqual(["0.0.0.npy"]);
  });
});
