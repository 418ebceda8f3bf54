import { describeArrayCodec, smoothFloats } from "@cloudvolume/testing";
import { zfpc } from "@cloudvolume/codec-zfpc";

/**
 * The shared ArrayCodec conformance suite on zfpc: reversible (CloudVolume's default) on
 * full-range random values of every type zfp stores, and the lossy modes on smooth
 * fields, with channels correlated and not.
 */
const smooth = smoothFloats;

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
