import { CloudVolumeError, type ByteCodec } from "@cloudvolume/core";
import { checkUint64, shardIndexLength, shardLocation, type ShardingSpec } from "./spec.js";

export interface EncodeShardOptions {
  /** Needed when data_encoding or minishard_index_encoding is gzip. */
  gzip?: ByteCodec;
  /** gzip level (default: the codec's, 9 for ours, as CloudFiles). */
  level?: number;
}

export interface EncodedShard {
  filename: string;
  shard: bigint;
  data: Uint8Array;
}

/**
 * Build one whole shard file from `entries` (id -> encoded chunk), all of which must
 * belong to the same shard. The layout follows CloudVolume's synthesize_shard_file so
 * that the same input gives the same bytes:
 *
 *   [shard index][data of minishard A][data of minishard B]...[index A][index B]...
 *
 * - minishards in the order their first id appears in `entries` (CloudVolume groups a
 *   dict in insertion order; for image shards that is the chunk grid, x fastest);
 * - within a minishard, ids ascending, data concatenated in that order;
 * - each minishard index is uint64 [3][n]: id deltas, offset deltas (the first one is
 *   the minishard's start relative to the end of the shard index, the rest 0 because
 *   the data is contiguous), sizes; gzipped whole when minishard_index_encoding is gzip;
 * - shard index entries relative to the end of the shard index; absent minishards [0, 0].
 * (neuroglancer sharded.md for the format; the ordering is CloudVolume's choice.)
 */
export async function encodeShard(
  spec: ShardingSpec, entries: Iterable<readonly [bigint, Uint8Array]>, opts: EncodeShardOptions = {},
): Promise<EncodedShard> {
  const groups = new Map<number, Array<[bigint, Uint8Array]>>();
  let shard: bigint | undefined;
  let filename = "";
  const seen = new Set<bigint>();
  for (const [rawId, data] of entries) {
    const id = checkUint64(rawId, "chunk id");
    if (seen.has(id)) throw new CloudVolumeError("INVALID_ARGUMENT", `chunk id ${id} appears twice in one shard`);
    seen.add(id);
    const loc = shardLocation(spec, id);
    if (shard === undefined) {
      shard = loc.shard;
      filename = loc.filename;
    } else if (loc.shard !== shard) {
      throw new CloudVolumeError("INVALID_ARGUMENT", `chunk id ${id} belongs in shard ${loc.filename}, not ${filename}; build one shard file at a time`);
    }
    let g = groups.get(loc.minishard);
    if (!g) groups.set(loc.minishard, (g = []));
    g.push([id, data]);
  }
  if (shard === undefined) throw new CloudVolumeError("INVALID_ARGUMENT", "a shard file needs at least one chunk");
  const needGzip = spec.dataEncoding === "gzip" || spec.minishardIndexEncoding === "gzip";
  if (needGzip && !opts.gzip) throw new CloudVolumeError("UNKNOWN_CODEC", "this sharding specification uses gzip; pass a gzip codec (install @cloudvolume/codec-gzip)");
  const gz = (b: Uint8Array) => opts.gzip!.encode(b, opts.level === undefined ? undefined : { level: opts.level });

  const minishards = [...groups.entries()];
  for (const [, list] of minishards) list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // Data payloads, in file order.
  const payloads = await Promise.all(minishards.map(([, list]) => Promise.all(list.map(([, d]) => (spec.dataEncoding === "gzip" ? gz(d) : d)))));
  let dataLength = 0;
  const indices: Uint8Array[] = [];
  for (let k = 0; k < minishards.length; k++) {
    const list = minishards[k][1];
    const sizes = payloads[k];
    const n = list.length;
    const index = new Uint8Array(24 * n);
    const dv = new DataView(index.buffer);
    let prev = 0n;
    for (let i = 0; i < n; i++) {
      dv.setBigUint64(8 * i, list[i][0] - prev, true);
      dv.setBigUint64(8 * (n + i), i === 0 ? BigInt(dataLength) : 0n, true);
      dv.setBigUint64(8 * (2 * n + i), BigInt(sizes[i].byteLength), true);
      prev = list[i][0];
      dataLength += sizes[i].byteLength;
    }
    indices.push(spec.minishardIndexEncoding === "gzip" ? await gz(index) : index);
  }
  const indexLength = shardIndexLength(spec);
  const total = indexLength + dataLength + indices.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = indexLength;
  for (const list of payloads) for (const p of list) { out.set(p, at); at += p.byteLength; }
  for (let k = 0; k < minishards.length; k++) {
    const m = minishards[k][0];
    const start = at - indexLength;
    out.set(indices[k], at);
    at += indices[k].byteLength;
    dv.setBigUint64(16 * m, BigInt(start), true);
    dv.setBigUint64(16 * m + 8, BigInt(at - indexLength), true);
  }
  return { filename, shard, data: out };
}
