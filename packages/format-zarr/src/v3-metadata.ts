import { CloudVolumeError, type DataType } from "@cloudvolume/core";
import type { ZarrDtype } from "./dtype.js";
import { invalid, show } from "./errors.js";
import { parseFill } from "./metadata.js";

/*
 * zarr v3 metadata (https://zarr-specs.readthedocs.io/en/latest/v3/core/v3.0.html):
 * an array's zarr.json, parsed strictly like the v2 .zarray (INVALID_METADATA naming the
 * file and property path; UNKNOWN_CODEC / UNSUPPORTED naming what is not read).
 *
 * The codec chain (core spec "Codecs") is array -> array codecs (transpose), exactly one
 * array -> bytes codec (bytes, or sharding_indexed whose inner chunks have a chain of
 * their own), then bytes -> bytes codecs (gzip, zstd, blosc, crc32c), applied in that
 * order when encoding and undone in reverse.
 */

/** A bytes -> bytes codec of a chain, as configured. */
export interface V3BytesCodec {
  readonly name: "gzip" | "zstd" | "blosc" | "crc32c";
  readonly configuration: Readonly<Record<string, unknown>>;
}

/** sharding_indexed (codecs/sharding-indexed/v1.0): inner chunks of `chunkShape` in each chunk of the grid. */
export interface V3Sharding {
  readonly chunkShape: number[];
  /** The inner chunks' chain. */
  readonly inner: V3Chain;
  /** The index's chain (bytes, then crc32c or nothing: a fixed-size index). */
  readonly index: V3Chain;
  readonly location: "start" | "end";
  /** Encoded bytes of the index: 16 per inner chunk, 4 per crc32c. */
  readonly indexBytes: number;
}

/** One codec chain, resolved. */
export interface V3Chain {
  /** Stored axis i is array axis perm[i] (the transpose codecs composed; identity without one). */
  readonly perm: number[];
  readonly endian: "little" | "big";
  readonly bytes: readonly V3BytesCodec[];
  /** Set when the array -> bytes codec is sharding_indexed. */
  readonly sharding?: V3Sharding;
}

export interface V3KeyEncoding {
  readonly name: "default" | "v2";
  readonly separator: "/" | ".";
}

/** One zarr v3 array's zarr.json, checked. */
export interface Zarr3ArrayMeta {
  readonly version: 3;
  /** The zarr.json storage key (relative to the layer root). */
  readonly key: string;
  readonly path: string;
  readonly shape: number[];
  /** The engine's chunk: the inner chunk of a sharded array, else the grid's chunk. */
  readonly chunks: number[];
  /** chunk_grid's chunk shape (a shard's shape when sharded). */
  readonly grid: number[];
  readonly dtype: ZarrDtype;
  readonly fill: number | bigint | null;
  /** The top-level chain. */
  readonly chain: V3Chain;
  /** The chain a chunk of `chunks` is stored with (the inner chain of a sharded array). */
  readonly chunkChain: V3Chain;
  readonly keyEncoding: V3KeyEncoding;
  readonly dimensionNames?: (string | null)[];
  readonly json: Record<string, unknown>;
  readonly text: string;
}

const V3_TYPES: Record<string, [DataType, number]> = {
  bool: ["uint8", 1], int8: ["int8", 1], uint8: ["uint8", 1], int16: ["int16", 2], uint16: ["uint16", 2],
  int32: ["int32", 4], uint32: ["uint32", 4], int64: ["int64", 8], uint64: ["uint64", 8], float32: ["float32", 4], float64: ["float64", 8],
};

const isInt = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function intList(v: unknown, n: number | undefined, min: number, key: string, url: string, at: string): number[] {
  if (!Array.isArray(v) || (n !== undefined && v.length !== n)) throw invalid(key, url, at, `must be a list of ${n ?? ""}${n === undefined ? "" : " "}integers, got ${show(v)}`);
  v.forEach((x, i) => {
    if (!isInt(x) || x < min) throw invalid(key, url, `${at}[${i}]`, `must be an integer >= ${min}, got ${show(x)}`);
  });
  return v as number[];
}

/** `{name, configuration}` or a bare name (both allowed by the spec for extension points). */
function named(v: unknown, key: string, url: string, at: string): { name: string; configuration: Record<string, unknown> } {
  if (typeof v === "string") return { name: v, configuration: {} };
  if (!isObject(v) || typeof v.name !== "string") throw invalid(key, url, `${at}.name`, `must be a string, got ${show(isObject(v) ? v.name : v)}`);
  if (v.configuration !== undefined && !isObject(v.configuration)) throw invalid(key, url, `${at}.configuration`, `must be an object, got ${show(v.configuration)}`);
  return { name: v.name, configuration: (v.configuration as Record<string, unknown> | undefined) ?? {} };
}

const BLOSC_SHUFFLES = ["noshuffle", "shuffle", "bitshuffle"];

function checkBytesCodec(name: string, c: Record<string, unknown>, key: string, url: string, at: string): void {
  const num = (f: string, ok: (n: number) => boolean, what: string) => {
    if (c[f] !== undefined && (!isInt(c[f]) || !ok(c[f] as number))) throw invalid(key, url, `${at}.configuration.${f}`, `must be ${what}, got ${show(c[f])}`);
  };
  if (name === "gzip") num("level", (n) => n >= 0 && n <= 9, "an integer from 0 to 9");
  if (name === "zstd") {
    num("level", (n) => n >= -131072 && n <= 22, "an integer up to 22");
    if (c.checksum !== undefined && typeof c.checksum !== "boolean") throw invalid(key, url, `${at}.configuration.checksum`, `must be true or false, got ${show(c.checksum)}`);
  }
  if (name === "blosc") {
    if (typeof c.cname !== "string") throw invalid(key, url, `${at}.configuration.cname`, `must be a blosc compressor name, got ${show(c.cname)}`);
    num("clevel", (n) => n >= 0 && n <= 9, "an integer from 0 to 9");
    if (c.shuffle !== undefined && !BLOSC_SHUFFLES.includes(c.shuffle as string)) throw invalid(key, url, `${at}.configuration.shuffle`, `must be one of ${BLOSC_SHUFFLES.join(", ")}, got ${show(c.shuffle)}`);
    num("typesize", (n) => n >= 1 && n <= 255, "an integer from 1 to 255");
    num("blocksize", (n) => n >= 0, "a non-negative integer");
  }
}

/**
 * Resolve a `codecs` list for an `ndim`-dimensional array of `itemsize`-byte elements.
 * `inShard`: the inner chain of a sharding codec (nested sharding is refused).
 */
export function parseChain(v: unknown, ndim: number, itemsize: number, key: string, url: string, at: string, chunkShape: number[], inShard = false): V3Chain {
  if (!Array.isArray(v) || v.length === 0) throw invalid(key, url, at, `must be a non-empty list of codecs, got ${show(v)}`);
  let perm = Array.from({ length: ndim }, (_, i) => i);
  let endian: "little" | "big" | undefined;
  let sharding: V3Sharding | undefined;
  let stage = "array" as "array" | "bytes";
  const bytes: V3BytesCodec[] = [];
  v.forEach((raw, i) => {
    const p = `${at}[${i}]`;
    const { name, configuration: c } = named(raw, key, url, p);
    if (name === "transpose") {
      if (stage !== "array") throw invalid(key, url, p, "transpose (array -> array) must come before the bytes codec");
      let order: number[];
      // "C" / "F": the form of zarr v3 drafts (and python zarrita) for identity / reversed.
      if (c.order === "C") order = perm.map((_, k) => k);
      else if (c.order === "F") order = perm.map((_, k) => ndim - 1 - k);
      else {
        order = intList(c.order, ndim, 0, key, url, `${p}.configuration.order`);
        if (new Set(order).size !== ndim || order.some((o) => o >= ndim)) throw invalid(key, url, `${p}.configuration.order`, `must be a permutation of 0..${ndim - 1}, got ${show(c.order)}`);
      }
      perm = order.map((o) => perm[o]);
    } else if (name === "bytes" || name === "endian") {
      if (stage !== "array") throw invalid(key, url, p, "has a second array -> bytes codec");
      stage = "bytes";
      const e = c.endian;
      if (e === undefined && itemsize > 1) throw invalid(key, url, `${p}.configuration.endian`, `is required for ${itemsize}-byte elements ("little" or "big")`);
      if (e !== undefined && e !== "little" && e !== "big") throw invalid(key, url, `${p}.configuration.endian`, `must be "little" or "big", got ${show(e)}`);
      endian = (e as "little" | "big" | undefined) ?? "little";
    } else if (name === "sharding_indexed") {
      if (stage !== "array") throw invalid(key, url, p, "has a second array -> bytes codec");
      if (inShard) throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: ${p} is sharding_indexed inside a shard; nested sharding is not supported`, { url, key });
      stage = "bytes";
      endian = "little";
      sharding = parseSharding(c, ndim, itemsize, key, url, p, chunkShape);
    } else if (name === "gzip" || name === "zstd" || name === "blosc" || name === "crc32c") {
      if (stage !== "bytes") throw invalid(key, url, p, `${name} (bytes -> bytes) must come after the bytes codec`);
      checkBytesCodec(name, c, key, url, p);
      bytes.push({ name, configuration: c });
    } else {
      throw new CloudVolumeError("UNKNOWN_CODEC", `${key} of ${url}: ${p} is codec ${show(name)}, which the zarr format driver does not read (it reads transpose, bytes, sharding_indexed, gzip, zstd, blosc and crc32c)`, { url, key });
    }
  });
  if (stage !== "bytes") throw invalid(key, url, at, "has no array -> bytes codec (bytes or sharding_indexed)");
  return { perm, endian: endian!, bytes, sharding };
}

function parseSharding(c: Record<string, unknown>, ndim: number, itemsize: number, key: string, url: string, at: string, shardShape: number[]): V3Sharding {
  const chunkShape = intList(c.chunk_shape, ndim, 1, key, url, `${at}.configuration.chunk_shape`);
  chunkShape.forEach((n, d) => {
    if (shardShape[d] % n !== 0) throw invalid(key, url, `${at}.configuration.chunk_shape`, `${show(chunkShape)} must divide the shard shape ${show(shardShape)} (the chunk grid's chunk_shape)`);
  });
  const inner = parseChain(c.codecs, ndim, itemsize, key, url, `${at}.configuration.codecs`, chunkShape, true);
  const index = parseChain(c.index_codecs, ndim + 1, 8, key, url, `${at}.configuration.index_codecs`, [...chunkShape, 2], true);
  if (index.bytes.some((b) => b.name !== "crc32c")) {
    throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: ${at}.configuration.index_codecs compress the shard index (${index.bytes.map((b) => b.name).join(", ")}); only bytes and crc32c (a fixed-size index) are supported`, { url, key });
  }
  if (index.perm.some((a, i) => a !== i)) throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: ${at}.configuration.index_codecs transpose the shard index; only bytes and crc32c are supported`, { url, key });
  const location = c.index_location ?? "end";
  if (location !== "start" && location !== "end") throw invalid(key, url, `${at}.configuration.index_location`, `must be "start" or "end", got ${show(location)}`);
  const n = shardShape.reduce((a, s, d) => a * (s / chunkShape[d]), 1);
  return { chunkShape, inner, index, location, indexBytes: 16 * n + 4 * index.bytes.length };
}

function parseKeyEncoding(v: unknown, key: string, url: string): V3KeyEncoding {
  const { name, configuration: c } = named(v, key, url, "chunk_key_encoding");
  if (name !== "default" && name !== "v2") throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: chunk_key_encoding ${show(name)} is not supported (default and v2 are)`, { url, key });
  const sep = c.separator ?? (name === "default" ? "/" : ".");
  if (sep !== "/" && sep !== ".") throw invalid(key, url, "chunk_key_encoding.configuration.separator", `must be "/" or ".", got ${show(c.separator)}`);
  return { name, separator: sep };
}

/** Check a parsed array zarr.json. */
export function parseZarr3Array(json: unknown, text: string, key: string, path: string, url: string): Zarr3ArrayMeta {
  if (!isObject(json)) throw invalid(key, url, "", `must be a JSON object, got ${show(json)}`);
  const o = json;
  if (o.zarr_format !== 3) throw invalid(key, url, "zarr_format", `must be 3, got ${show(o.zarr_format)}`);
  if (o.node_type !== "array") throw invalid(key, url, "node_type", `must be "array" here, got ${show(o.node_type)}`);
  const shape = intList(o.shape, undefined, 0, key, url, "shape");
  if (shape.length === 0) throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: a zero-dimensional array cannot be presented as a volume`, { url, key });
  if (shape.some((n) => n === 0)) throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: shape ${show(shape)} is empty; an empty array cannot be presented as a volume`, { url, key });
  const dt = typeof o.data_type === "string" ? V3_TYPES[o.data_type] : undefined;
  if (!dt) {
    if (typeof o.data_type === "string" || isObject(o.data_type)) {
      throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: data_type ${show(o.data_type)} is not supported; the zarr format driver reads bool, int8..int64, uint8..uint64, float32 and float64`, { url, key });
    }
    throw invalid(key, url, "data_type", `must be a data type name such as "uint16", got ${show(o.data_type)}`);
  }
  const { name: gridName, configuration: gc } = named(o.chunk_grid, key, url, "chunk_grid");
  if (gridName !== "regular") throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: chunk_grid ${show(gridName)} is not supported (regular is)`, { url, key });
  const grid = intList(gc.chunk_shape, shape.length, 1, key, url, "chunk_grid.configuration.chunk_shape");
  const keyEncoding = parseKeyEncoding(o.chunk_key_encoding, key, url);
  const chain = parseChain(o.codecs, shape.length, dt[1], key, url, "codecs", grid);
  const chunkChain = chain.sharding?.inner ?? chain;
  const dtype: ZarrDtype = { text: o.data_type as string, dataType: dt[0], itemsize: dt[1], bigEndian: chunkChain.endian === "big" && dt[1] > 1, bool: o.data_type === "bool" };
  if (!("fill_value" in o) || o.fill_value === null) throw invalid(key, url, "fill_value", `is required (zarr v3 has no null fill value), got ${show(o.fill_value)}`);
  const fill = parseFill(o.fill_value, dtype, text, key, url);
  let dimensionNames: (string | null)[] | undefined;
  if (o.dimension_names !== undefined && o.dimension_names !== null) {
    const dn = o.dimension_names;
    if (!Array.isArray(dn) || dn.length !== shape.length || !dn.every((n) => n === null || typeof n === "string")) {
      throw invalid(key, url, "dimension_names", `must be a list of ${shape.length} names (strings or null), got ${show(dn)}`);
    }
    dimensionNames = dn as (string | null)[];
  }
  if (o.attributes !== undefined && !isObject(o.attributes)) throw invalid(key, url, "attributes", `must be an object, got ${show(o.attributes)}`);
  if (o.storage_transformers !== undefined && !(Array.isArray(o.storage_transformers) && o.storage_transformers.length === 0)) {
    throw new CloudVolumeError("UNSUPPORTED", `${key} of ${url}: storage_transformers are not supported`, { url, key });
  }
  return {
    version: 3, key, path, shape, chunks: chain.sharding?.chunkShape ?? grid, grid, dtype, fill, chain, chunkChain, keyEncoding, dimensionNames, json: o, text,
  };
}

/** The storage key of the grid cell `idx` (a chunk, or a shard when sharded). */
export function chunkKeyV3(meta: Zarr3ArrayMeta, idx: readonly number[]): string {
  const { name, separator } = meta.keyEncoding;
  const tail = name === "default" ? ["c", ...idx].join(separator) : idx.join(separator);
  return meta.path === "" ? tail : `${meta.path}/${tail}`;
}

/** A group's zarr.json attributes (undefined for an array's zarr.json). */
export function groupAttributes(json: unknown, key: string, url: string): Record<string, unknown> | undefined {
  if (!isObject(json)) throw invalid(key, url, "", `must be a JSON object, got ${show(json)}`);
  if (json.zarr_format !== 3) throw invalid(key, url, "zarr_format", `must be 3, got ${show(json.zarr_format)}`);
  if (json.node_type === "array") return undefined;
  if (json.node_type !== "group") throw invalid(key, url, "node_type", `must be "array" or "group", got ${show(json.node_type)}`);
  if (json.attributes !== undefined && !isObject(json.attributes)) throw invalid(key, url, "attributes", `must be an object, got ${show(json.attributes)}`);
  return (json.attributes as Record<string, unknown> | undefined) ?? {};
}

/**
 * The multiscales attributes of a v3 group: OME-NGFF 0.5 keeps them under `ome`
 * (`ome.version`, `ome.multiscales`); earlier writers put 0.4's `multiscales` at the top.
 */
export function ngffAttributes(attrs: Record<string, unknown>): Record<string, unknown> {
  const ome = attrs.ome;
  if (isObject(ome) && ome.multiscales !== undefined) return ome;
  return attrs;
}
