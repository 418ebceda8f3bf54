import { describeFormat, type FormatSetup } from "@cloudvolume/testing";
import { memoryStorage } from "@cloudvolume/storage-memory";
import type { DataType } from "@cloudvolume/core";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";

/**
 * The format-driver conformance suite (packages/testing/src/format.ts) on zarr v2 layers
 * in memory: the default layout (blosc lz4 + byte shuffle, C order, "/" keys) over every
 * dtype; Fortran order + big-endian + "." keys (the element-moving and byte-swapping
 * paths) over every dtype; each other compressor over a few.
 */
let n = 0;
const setup = (options: Record<string, unknown>): FormatSetup => async () => ({
  plugins: [zarr(), memoryStorage(), ...compressionPlugins()],
  newLayerUrl: () => `zarr://mem://conformance/${n++}`,
  options,
});

describeFormat("zarr v2 (default: blosc lz4, C order, '/')", setup({}));
describeFormat("zarr v2 (order F, big-endian, '.' keys, zstd)", setup({ order: "F", bigEndian: true, dimensionSeparator: ".", compressor: { id: "zstd", level: 3 } }));

const some: DataType[] = ["uint8", "int16", "uint64", "float32"];
for (const compressor of [
  null,
  { id: "gzip", level: 5 },
  { id: "zlib", level: 1 },
  { id: "bz2", level: 1 },
  { id: "lz4", acceleration: 1 },
  { id: "blosc", cname: "zstd", clevel: 3, shuffle: 2, blocksize: 0 },
  { id: "blosc", cname: "blosclz", clevel: 9, shuffle: 0, blocksize: 0 },
  { id: "blosc", cname: "zlib", clevel: 5, shuffle: 1, blocksize: 0 },
]) {
  describeFormat(`zarr v2 (compressor ${JSON.stringify(compressor)})`, setup({ compressor }), { dtypes: some });
}
