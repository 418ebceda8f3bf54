// For the CLI tests: the zarr format and every compressor it uses, from the built packages
// (passed as `--plugin`, so the tests do not depend on the cloudvolume package's default set).
import { zarr } from "@cloudvolume/format-zarr";
import { blosc } from "@cloudvolume/codec-blosc";
import { bzip2 } from "@cloudvolume/codec-bzip2";
import { zlib } from "@cloudvolume/codec-gzip";
import { lz4 } from "@cloudvolume/codec-lz4";
import { zstd } from "@cloudvolume/codec-zstd";

export default [zarr(), zlib(), zstd(), blosc(), bzip2(), lz4()];
