import { describeFormat, type FormatSetup } from "@cloudvolume/testing";
import { memoryStorage } from "@cloudvolume/storage-memory";
import type { DataType } from "@cloudvolume/core";
import { zarr } from "@cloudvolume/format-zarr";
import { compressionPlugins } from "./helpers.js";

/**
 * The format-driver conformance suite on zarr v3 layers in memory: the default codecs
 * (bytes + blosc lz4) over every dtype; transpose (order F) + big-endian bytes + "." keys
 * + gzip over every dtype; sharded (sharding_indexed with a crc32c index, the default
 * shards), whose partial-shard writes are
 * read-modify-writes of one shard; and zstd / uncompressed / blosc variants over a few.
 */
let n = 0;
const setup = (options: Record<string, unknown>): FormatSetup => async () => ({
  plugins: [zarr(), memoryStorage(), ...compressionPlugins()],
  newLayerUrl: () => `zarr3://mem://conformance-v3/${n++}`,
  options,
});

describeFormat("zarr v3 (default: bytes + blosc lz4)", setup({}));
describeFormat("zarr v3 (transpose F, big-endian, '.' keys, gzip)", setup({ order: "F", bigEndian: true, dimensionSeparator: ".", compressor: { id: "gzip", level: 1 } }));
describeFormat("zarr v3 sharded (default shards, crc32c index at the end)", setup({ shards: true }));

const some: DataType[] = ["uint8", "int16", "uint64", "float32"];
describeFormat("zarr v3 sharded (order F, zstd inner chunks)", setup({ shards: true, order: "F", compressor: { id: "zstd", level: 1 } }), { dtypes: some });
for (const compressor of [null, { id: "zstd", level: 3 }, { id: "blosc", cname: "zstd", clevel: 3, shuffle: 2, blocksize: 0 }]) {
  describeFormat(`zarr v3 (compressor ${JSON.stringify(compressor)})`, setup({ compressor }), { dtypes: some });
}
