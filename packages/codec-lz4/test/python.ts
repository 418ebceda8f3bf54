// Debian's numcodecs as an independent implementation: shared by the codec and zarr tests.
export { PYTHON_NUMCODECS, NO_PYTHON_REASON, pyEncode, pyDecode, pyBatch, sameBytesFast as sameBytes, type PyJob } from "@cloudvolume/testing";
