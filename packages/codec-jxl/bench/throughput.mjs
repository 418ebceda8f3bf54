// Decode throughput of the built codec, Node entry (run `pnpm build` first):
// node bench/throughput.mjs. Same voxels and method as codec-png/bench. Not part of the tests.
import { jxlCodec } from "../dist/node.js";
import { measure, shape, voxels } from "../../codec-png/bench/throughput.mjs";

for (const [label, params] of [["lossless", {}], ["q85", { jxl_quality: 85 }]])
  for (const channels of [1, 3])
    for (const kind of ["smooth+noise", "random"]) {
      if (kind === "random" && label === "q85") continue;
      await measure(jxlCodec, { shape, channels, dtype: "uint8", key: "bench", params }, voxels(kind, channels), `jxl ${label} 256x256x16x${channels} ${kind}`);
    }
