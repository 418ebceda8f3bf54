// Decode throughput of the built codec, Node entry (run `pnpm build` first):
// node bench/throughput.mjs. Same voxels and method as codec-png/bench. Not part of the tests.
import { jpegCodec } from "../dist/node.js";
import { measure, shape, voxels } from "../../codec-png/bench/throughput.mjs";

for (const channels of [1, 3])
  for (const kind of ["smooth+noise", "random"])
    await measure(jpegCodec, { shape, channels, dtype: "uint8", key: "bench" }, voxels(kind, channels), `jpeg q85 256x256x16x${channels} ${kind}`);
