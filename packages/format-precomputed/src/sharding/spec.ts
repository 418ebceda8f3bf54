import { CloudVolumeError } from "@cloudvolume/core";
import { murmurHash64 } from "./murmur.js";

/**
 * A validated `sharding` object (neuroglancer sharded.md, "Sharding specification").
 * Bit counts are plain numbers; every key computation is on uint64 `bigint`s.
 */
export interface ShardingSpec {
  readonly type: "neuroglancer_uint64_sharded_v1";
  readonly preshiftBits: number;
  readonly hash: "identity" | "murmurhash3_x86_128";
  readonly minishardBits: number;
  readonly shardBits: number;
  readonly minishardIndexEncoding: "raw" | "gzip";
  readonly dataEncoding: "raw" | "gzip";
}

/** The JSON form, as it appears in an info file. */
export interface ShardingSpecJson {
  "@type": "neuroglancer_uint64_sharded_v1";
  preshift_bits: number;
  hash: "identity" | "murmurhash3_x86_128";
  minishard_bits: number;
  shard_bits: number;
  minishard_index_encoding?: "raw" | "gzip";
  data_encoding?: "raw" | "gzip";
}

export interface ShardLocation {
  /** Shard number: bits [minishard_bits, minishard_bits + shard_bits) of the hashed key. */
  shard: bigint;
  /** Minishard number: bits [0, minishard_bits) of the hashed key. */
  minishard: number;
  /** `<hex>.shard`, the file name inside the scale (or mesh/skeleton) directory. */
  filename: string;
}

export const SHARDED_TYPE = "neuroglancer_uint64_sharded_v1";
const U64 = (1n << 64n) - 1n;

/**
 * The largest minishard_bits we accept. The shard index holds 16 bytes per minishard,
 * so 2^32 minishards already mean a 64 GiB index; TensorStore draws the line at the
 * same place. (CloudVolume allows up to 64, which no reader could allocate.)
 */
export const MAX_MINISHARD_BITS = 32;

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * Validate a `sharding` object. Errors are INVALID_METADATA naming the property path,
 * e.g. `info: scales[0].sharding.minishard_bits must be an integer from 0 to 32, got 40`.
 */
export function parseShardingSpec(raw: unknown, path = "sharding", url?: string): ShardingSpec {
  const fail = (field: string, message: string): never => {
    throw new CloudVolumeError("INVALID_METADATA", `info: ${path}${field ? `.${field}` : ""} ${message}`, { url, key: "info" });
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("", `must be an object, got ${show(raw)}`);
  const o = raw as Record<string, unknown>;
  if (o["@type"] !== SHARDED_TYPE) fail("@type", `must be "${SHARDED_TYPE}", got ${show(o["@type"])}`);
  const bits = (field: string, max: number): number => {
    const v = o[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) fail(field, `must be an integer from 0 to ${max}, got ${show(v)}`);
    return v as number;
  };
  const preshiftBits = bits("preshift_bits", 63);
  const minishardBits = bits("minishard_bits", MAX_MINISHARD_BITS);
  const shardBits = bits("shard_bits", 64);
  if (minishardBits + shardBits > 64) fail("shard_bits", `plus minishard_bits must be at most 64, got ${shardBits} + ${minishardBits}`);
  const hash = o.hash;
  if (hash !== "identity" && hash !== "murmurhash3_x86_128") fail("hash", `must be "identity" or "murmurhash3_x86_128", got ${show(hash)}`);
  // sharded.md: "If not specified, equivalent to raw".
  const encoding = (field: string): "raw" | "gzip" => {
    const v = o[field];
    if (v === undefined) return "raw";
    if (v !== "raw" && v !== "gzip") fail(field, `must be "raw" or "gzip", got ${show(v)}`);
    return v as "raw" | "gzip";
  };
  return {
    type: SHARDED_TYPE,
    preshiftBits,
    hash: hash as ShardingSpec["hash"],
    minishardBits,
    shardBits,
    minishardIndexEncoding: encoding("minishard_index_encoding"),
    dataEncoding: encoding("data_encoding"),
  };
}

/** The JSON object for an info file (keys as CloudVolume writes them). */
export function shardingSpecToJson(spec: ShardingSpec): ShardingSpecJson {
  return {
    "@type": SHARDED_TYPE,
    data_encoding: spec.dataEncoding,
    hash: spec.hash,
    minishard_bits: spec.minishardBits,
    minishard_index_encoding: spec.minishardIndexEncoding,
    preshift_bits: spec.preshiftBits,
    shard_bits: spec.shardBits,
  };
}

/** Bytes of the fixed shard index at the start of every shard file: 16 per minishard. */
export function shardIndexLength(spec: ShardingSpec): number {
  return 16 * 2 ** spec.minishardBits;
}

export function checkUint64(key: bigint, what = "key"): bigint {
  if (typeof key !== "bigint" || key < 0n || key > U64) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `${what} must be a uint64 bigint, got ${typeof key === "bigint" ? key : show(key)}`);
  }
  return key;
}

/** `hash(key >> preshift_bits)` as a uint64 (sharded.md). */
export function hashedKey(spec: ShardingSpec, key: bigint): bigint {
  const shifted = checkUint64(key) >> BigInt(spec.preshiftBits);
  return spec.hash === "identity" ? shifted : murmurHash64(shifted);
}

/** Lowercase hex of the shard number, zero-padded to ceil(shard_bits / 4) digits, plus `.shard`. */
export function shardFilename(spec: ShardingSpec, shard: bigint): string {
  return `${shard.toString(16).padStart(Math.ceil(spec.shardBits / 4), "0")}.shard`;
}

/** Where a key lives: shard number and file, and minishard within it. */
export function shardLocation(spec: ShardingSpec, key: bigint): ShardLocation {
  const h = hashedKey(spec, key);
  const minishard = Number(h & ((1n << BigInt(spec.minishardBits)) - 1n));
  const shard = (h >> BigInt(spec.minishardBits)) & ((1n << BigInt(spec.shardBits)) - 1n);
  return { shard, minishard, filename: shardFilename(spec, shard) };
}
