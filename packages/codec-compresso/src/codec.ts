import type { ArrayCodec } from "@cloudvolume/core";
import { decodeCompresso } from "./decode.js";
import { encodeCompresso } from "./encode.js";
import { CODEC_NAME } from "./format.js";
import { compressoLabels } from "./labels.js";

/**
 * The Precomputed `compresso` encoding as an ArrayCodec (one channel, unsigned labels of
 * any width; CloudVolume writes it with 4x4x1 windows and 4-connectivity). `labels`
 * answers from the ids and locations without decoding the chunk.
 */
export const compressoCodec: ArrayCodec = {
  name: CODEC_NAME,
  decode: decodeCompresso,
  encode: encodeCompresso,
  labels: compressoLabels,
};
