import type { ChunkSpec } from "@cloudvolume/core";
import { describeArrayCodec } from "@cloudvolume/testing";
import { zfpc } from "@cloudvolume/codec-zfpc";

/**
 * The shared ArrayCodec conformance suite on zfpc: reversible (CloudVolume's default) on
 * full-range random values of every type zfp stores, and the lossy modes on smooth
 * fields, with channels correlated and not.
 */
function smooth(chunk: ChunkSpec, seed: number): Uint8Array {
  const [sx, sy, sz] = chunk.shape;
  const n = sx * sy * sz * chunk.channels;
  const values = chunk.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  let i = 0;
  for (let c = 0; c < chunk.channels; c++) for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++, i++) {
    values[i] = Math.sin(0.3 * x + seed) * Math.cos(0.2 * y - c) * Math.sin(0.5 * z + 1);
  }
  return new Uint8Array(values.buffer);
}

const load = () => zfpc().load();
describeArrayCodec("zfpc, reversible", load, { dtypes: ["float32", "float64", "int32", "int64"], channels: [1, 3] });
describeArrayCodec("zfpc, reversible, channels and z uncorrelated", load, {
  dtypes: ["float32", "int32"], channels: [1, 2], params: { zfpc_correlated_dims: [true, true, false, false] },
});
describeArrayCodec("zfpc, fixed accuracy 1e-3", load, { dtypes: ["float32", "float64"], channels: [1, 2], makeVoxels: smooth, params: { zfpc_tolerance: 1e-3 }, maxRmse: 1e-3 });
describeArrayCodec("zfpc, fixed precision 20", load, { dtypes: ["float32", "float64"], channels: [1], makeVoxels: smooth, params: { zfpc_precision: 20 }, maxRmse: 1e-3 });
describeArrayCodec("zfpc, fixed rate 16 with x uncorrelated", load, {
  dtypes: ["float32"], channels: [1, 2], makeVoxels: smooth, params: { zfpc_rate: 16, zfpc_correlated_dims: [false, true, true, true] }, maxRmse: 1e-2,
});
