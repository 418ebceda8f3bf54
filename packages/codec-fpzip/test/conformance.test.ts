import { describeArrayCodec, smoothFloats } from "@cloudvolume/testing";
import { fpzip, kempressed } from "@cloudvolume/codec-fpzip";

/**
 * The shared ArrayCodec conformance suite: fpzip on full-range random floats (NaN,
 * infinities and subnormals included, lossless) and on smooth fields at a reduced
 * fpzip_precision; kempressed on fields in [-1, 1], its intended range (lossy only by
 * the rounding of +2 and -2).
 */
const smooth = smoothFloats;

describeArrayCodec("fpzip, random floats, lossless", () => fpzip().load(), { dtypes: ["float32", "float64"], channels: [1, 3] });
// Truncated mantissas: 24 of float32's 32 bits keep 15 mantissa bits, 40 of float64's keep 28.
describeArrayCodec("fpzip, smooth float32 fields at fpzip_precision 24", () => fpzip().load(), {
  dtypes: ["float32"], channels: [1, 2], makeVoxels: smooth, params: { fpzip_precision: 24 }, maxRmse: 1e-4,
});
describeArrayCodec("fpzip, smooth float64 fields at fpzip_precision 40", () => fpzip().load(), {
  dtypes: ["float64"], channels: [1, 2], makeVoxels: smooth, params: { fpzip_precision: 40 }, maxRmse: 1e-7,
});
describeArrayCodec("kempressed, fields in [-1, 1]", () => kempressed().load(), { dtypes: ["float32", "float64"], channels: [1, 3], makeVoxels: smooth, maxRmse: 1e-6 });
