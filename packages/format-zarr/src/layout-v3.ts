import { CloudVolumeError, dtypeInfo, type KeyValueStore, type LayerInfo, type LayerScaleInfo, type Vec3 } from "@cloudvolume/core";
import { axisMap, type AxisOptions } from "./axes.js";
import { show } from "./errors.js";
import { getJson, resized, type ZarrDriverOptions } from "./layout-v2.js";
import { parseJsonFile, parseMultiscales, type NgffAxis } from "./metadata.js";
import { checkInfo, infoError, join, ngffMultiscale, reparse, serialize, withType, ZARR3_SHARDING, ZYX, type Mip, type ZarrAttachment, type ZarrGroup } from "./present.js";
import { groupAttributes, ngffAttributes, parseZarr3Array, type Zarr3ArrayMeta } from "./v3-metadata.js";

/*
 * zarr v3 layers: an array's zarr.json at the URL (one mip), or a group zarr.json whose
 * attributes hold OME-NGFF 0.5 multiscales (under `ome`; 0.4's top-level `multiscales`
 * is read too), one mip per dataset; and the zarr.json files written for an info.
 */

/** Inner chunks a default shard holds at least (fewer when the volume is smaller). */
const DEFAULT_CHUNKS_PER_SHARD = 64;

/** Axis names for an array: the multiscale's, else its dimension_names. */
function namesFor(meta: Zarr3ArrayMeta, axes: NgffAxis[] | undefined): NgffAxis[] | undefined {
  if (axes) return axes;
  return meta.dimensionNames?.map((n) => ({ name: n ?? "" }));
}

async function readArray(store: KeyValueStore, path: string, url: string, signal?: AbortSignal): Promise<Zarr3ArrayMeta | undefined> {
  const key = join(path, "zarr.json");
  const f = await getJson(store, key, url, signal);
  return f && parseZarr3Array(f.json, f.text, key, path, url);
}

/** The v3 layer at the store's root, or undefined when there is no zarr.json. */
export async function readV3Layer(store: KeyValueStore, url: string, opts: AxisOptions, signal?: AbortSignal): Promise<{ mips: Mip[]; group: ZarrGroup | undefined } | undefined> {
  const root = await getJson(store, "zarr.json", url, signal);
  if (!root) return undefined;
  const attrs = groupAttributes(root.json, "zarr.json", url);
  if (!attrs) {
    const meta = parseZarr3Array(root.json, root.text, "zarr.json", "", url);
    return { mips: [{ meta, map: axisMap(meta.shape, namesFor(meta, undefined), opts, { key: meta.key, url }), original: meta }], group: undefined };
  }
  const multiscale = parseMultiscales(ngffAttributes(attrs), "zarr.json", url);
  if (!multiscale) {
    throw new CloudVolumeError("INVALID_METADATA", `${url} is a zarr v3 group without OME-NGFF multiscales in its zarr.json attributes; open one of its arrays (e.g. ${url.replace(/\/+$/, "")}/<array>)`, { url, key: "zarr.json" });
  }
  const metas = await Promise.all(multiscale.datasets.map(async (d, i) => {
    const m = await readArray(store, d.path, url, signal);
    if (!m) throw new CloudVolumeError("INVALID_METADATA", `zarr.json of ${url}: multiscales[0].datasets[${i}].path ${show(d.path)} has no ${join(d.path, "zarr.json")}`, { url, key: join(d.path, "zarr.json") });
    return m;
  }));
  const mips = metas.map((meta) => ({ meta, map: axisMap(meta.shape, namesFor(meta, multiscale.axes), opts, { key: meta.key, url }), original: meta }));
  return { mips, group: { attrs, multiscale } };
}

/** The mips and group a version-3 attachment describes. */
export function attachedV3(a: ZarrAttachment, opts: AxisOptions, url: string): { mips: Mip[]; group: ZarrGroup | undefined } {
  const bad = (what: string) => infoError(url, "zarr", what);
  let group: ZarrGroup | undefined;
  if (a.group !== undefined) {
    const attrs = parseJsonFile(new TextEncoder().encode(a.group), "zarr.json", url).json as Record<string, unknown>;
    const multiscale = parseMultiscales(ngffAttributes(attrs), "zarr.json", url);
    if (!multiscale) throw bad("group has no multiscales");
    group = { attrs, multiscale };
  }
  const mips = a.scales.map((s, i) => {
    if (typeof s !== "object" || s === null || typeof s.path !== "string" || typeof s.zarr_json !== "string") throw bad(`scales[${i}] must be { path, zarr_json }, got ${show(s)}`);
    const key = join(s.path, "zarr.json");
    const meta = parseZarr3Array(parseJsonFile(new TextEncoder().encode(s.zarr_json), key, url).json, s.zarr_json, key, s.path, url);
    return { meta, map: axisMap(meta.shape, namesFor(meta, a.axes), opts, { key, url }), original: meta };
  });
  return { mips, group };
}

// ---- sharding of a scale ----------------------------------------------------------------

/** A scale's shard shape (x, y, z voxels) and index location, from its info `sharding`; undefined: unsharded. */
export function shardingOf(s: LayerScaleInfo, i: number, url: string): { shape: Vec3; location: "start" | "end" } | undefined {
  const sh = s.sharding as Record<string, unknown> | boolean | undefined | null;
  if (sh === undefined || sh === null || sh === false) return undefined;
  const chunk = s.chunk_sizes[0];
  if (typeof sh === "object" && sh["@type"] === ZARR3_SHARDING) {
    const at = `scales[${i}].sharding`;
    const shape = sh.shard_shape;
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n, d) => Number.isSafeInteger(n) && n > 0 && n % chunk[d] === 0)) {
      throw infoError(url, `${at}.shard_shape`, `must be 3 positive multiples of the chunk size ${chunk.join("x")}, got ${show(shape)}`);
    }
    const location = sh.index_location ?? "end";
    if (location !== "start" && location !== "end") throw infoError(url, `${at}.index_location`, `must be "start" or "end", got ${show(location)}`);
    return { shape: shape as unknown as Vec3, location };
  }
  // `true`, or Precomputed's sharding spec (a `cp` from a sharded Precomputed layer): our default shards.
  if (sh === true || (typeof sh === "object" && sh["@type"] === "neuroglancer_uint64_sharded_v1")) return { shape: defaultShardShape(s.size, chunk), location: "end" };
  throw infoError(url, `scales[${i}].sharding`, `must be { "@type": "${ZARR3_SHARDING}", shard_shape, index_location } (or a Precomputed sharding spec, which becomes our default shards), got ${show(sh)}`);
}

/**
 * The default shard: the chunk doubled along x, y, z in turn (only where the shard is still
 * smaller than the volume) until it holds DEFAULT_CHUNKS_PER_SHARD chunks.
 */
export function defaultShardShape(size: readonly number[], chunk: readonly number[]): Vec3 {
  const k = [1, 1, 1];
  for (let grew = true; grew && k[0] * k[1] * k[2] < DEFAULT_CHUNKS_PER_SHARD;) {
    grew = false;
    for (let d = 0; d < 3 && k[0] * k[1] * k[2] < DEFAULT_CHUNKS_PER_SHARD; d++) {
      if (chunk[d] * k[d] < size[d]) { k[d] *= 2; grew = true; }
    }
  }
  return [chunk[0] * k[0], chunk[1] * k[1], chunk[2] * k[2]];
}

/** The info `sharding` for the default shards of a scale. */
export function defaultSharding(s: LayerScaleInfo): Record<string, unknown> {
  return { "@type": ZARR3_SHARDING, shard_shape: defaultShardShape(s.size, s.chunk_sizes[0]), index_location: "end" };
}

// ---- creating and writing metadata -------------------------------------------------------

const SHUFFLE_NAMES = ["noshuffle", "shuffle", "bitshuffle"];

/** The bytes -> bytes codecs for the compressor option (numcodecs form, as for v2; default blosc lz4). */
function compressorCodecs(compressor: Record<string, unknown> | null | undefined, itemsize: number, url: string): Record<string, unknown>[] {
  if (compressor === null) return [];
  const c = compressor ?? { id: "blosc", cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0 };
  const bad = (what: string) => new CloudVolumeError("INVALID_ARGUMENT", `zarr option compressor ${show(c)}: ${what} (${url})`, { url });
  switch (c.id) {
    case "gzip":
      return [{ name: "gzip", configuration: { level: c.level ?? 5 } }];
    case "zstd":
      return [{ name: "zstd", configuration: { level: c.level ?? 3, checksum: c.checksum === true } }];
    case "blosc": {
      const shuffle = typeof c.shuffle === "number" ? SHUFFLE_NAMES[c.shuffle === -1 ? (itemsize === 1 ? 2 : 1) : c.shuffle] : (c.shuffle ?? "shuffle");
      if (!SHUFFLE_NAMES.includes(shuffle as string)) throw bad(`shuffle must be 0, 1, 2 or -1 (or ${SHUFFLE_NAMES.join(", ")})`);
      return [{ name: "blosc", configuration: { cname: c.cname ?? "lz4", clevel: c.clevel ?? 5, shuffle, typesize: itemsize, blocksize: c.blocksize ?? 0 } }];
    }
    default:
      throw bad(`zarr v3 has no ${show(c.id)} codec; use gzip, zstd or blosc (or null for none)`);
  }
}

/** The chunk codecs of an array this layer creates: transpose (order F), bytes, the compressor. */
function chunkCodecs(opts: ZarrDriverOptions, itemsize: number, ndim: number, url: string): Record<string, unknown>[] {
  const codecs: Record<string, unknown>[] = [];
  if (opts.order === "F") codecs.push({ name: "transpose", configuration: { order: Array.from({ length: ndim }, (_, i) => ndim - 1 - i) } });
  codecs.push({ name: "bytes", configuration: { endian: opts.bigEndian ? "big" : "little" } });
  return [...codecs, ...compressorCodecs(opts.compressor, itemsize, url)];
}

function shardingCodec(inner: number[], codecs: unknown[], location: "start" | "end"): Record<string, unknown> {
  return {
    name: "sharding_indexed",
    configuration: {
      chunk_shape: inner, codecs,
      index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
      index_location: location,
    },
  };
}

/** The chunk codecs of an existing array (the inner codecs when sharded); refuses chains a re-shard cannot keep. */
function innerCodecsOf(meta: Zarr3ArrayMeta, url: string): unknown[] {
  const codecs = meta.json.codecs as Record<string, unknown>[];
  if (!meta.chain.sharding) return codecs;
  const k = codecs.findIndex((c) => c.name === "sharding_indexed");
  if (k !== 0 || codecs.length !== 1) throw new CloudVolumeError("UNSUPPORTED", `${meta.key} of ${url}: codecs around sharding_indexed cannot be kept when its sharding changes`, { url, key: meta.key });
  return (codecs[0].configuration as Record<string, unknown>).codecs as unknown[];
}

/** A zarr axis vector from x, y, z (and c) values. */
function zarrVec(map: Mip["map"], ndim: number, xyz: readonly number[], c: number, rest: readonly number[]): number[] {
  const v = [...rest];
  while (v.length < ndim) v.push(1);
  [map.x, map.y, map.z].forEach((a, d) => { if (a >= 0) v[a] = xyz[d]; });
  if (map.c >= 0) v[map.c] = c;
  return v;
}

/**
 * The zarr v3 metadata for `info`: each scale's array (kept from `existing` where there
 * is one, with shape, grid and sharding updated) and the OME-NGFF 0.5 multiscale group
 * over them, plus the files to write.
 */
export function toZarr3Metadata(info: LayerInfo, existing: Mip[], group: ZarrGroup | undefined, opts: ZarrDriverOptions, url: string): { mips: Mip[]; group: ZarrGroup | undefined; writes: [string, string][] } {
  checkInfo(info, url, 3);
  const plainRoot = existing.length > 0 && existing[0].meta.path === "" && !group;
  if (plainRoot && info.scales.length > 1) throw infoError(url, "scales", `has ${info.scales.length} scales, but ${url} is a plain zarr array (one scale); write multiscale layers to a new location`);
  const channels = info.num_channels;
  const itemsize = dtypeInfo(info.data_type).bytes;
  const mips: Mip[] = info.scales.map((s, i) => {
    const prior = existing[i];
    const chunk = s.chunk_sizes[0];
    const asked = s.sharding ?? (prior || !opts.shards ? undefined : Array.isArray(opts.shards) ? { "@type": ZARR3_SHARDING, shard_shape: opts.shards } : true);
    const sharding = shardingOf({ ...s, sharding: asked as LayerScaleInfo["sharding"] }, i, url);
    if (prior) {
      const { map } = prior;
      const meta = prior.meta as Zarr3ArrayMeta;
      const { shape, chunks } = resized(meta, map, s.size, chunk, channels, info, i, url);
      const grid = sharding ? zarrVec(map, shape.length, sharding.shape, channels, chunks) : chunks;
      const inner = innerCodecsOf(meta, url);
      const codecs = sharding ? [shardingCodec(chunks, inner, sharding.location)] : inner;
      const json = {
        ...meta.json, shape, chunk_grid: { name: "regular", configuration: { chunk_shape: grid } }, codecs,
        ...(typeof meta.fill === "bigint" ? { fill_value: meta.fill } : {}),
      };
      const text = serialize(json, false);
      const next = parseZarr3Array(reparse(json), text, meta.key, meta.path, url);
      return { meta: { ...next, fill: meta.fill }, map, original: prior.original };
    }
    const path = plainRoot ? "" : String(i);
    const withC = channels > 1;
    const ndim = withC ? 4 : 3;
    const xyzc = (v: readonly number[]) => (withC ? [channels, v[2], v[1], v[0]] : [v[2], v[1], v[0]]);
    const inner = chunkCodecs(opts, itemsize, ndim, url);
    const json: Record<string, unknown> = {
      zarr_format: 3,
      node_type: "array",
      shape: xyzc(s.size),
      data_type: info.data_type, // core's names are zarr v3's
      chunk_grid: { name: "regular", configuration: { chunk_shape: xyzc(sharding ? sharding.shape : chunk) } },
      chunk_key_encoding: { name: "default", configuration: { separator: opts.dimensionSeparator ?? "/" } },
      fill_value: 0,
      codecs: sharding ? [shardingCodec(xyzc(chunk), inner, sharding.location)] : inner,
      attributes: {},
      dimension_names: withC ? ["c", "z", "y", "x"] : ["z", "y", "x"],
    };
    const key = join(path, "zarr.json");
    const meta = parseZarr3Array(json, serialize(json, false), key, path, url);
    const axes = withC ? [{ name: "c", type: "channel" }, ...ZYX] : ZYX;
    return { meta, map: axisMap(meta.shape, axes, {}, { key, url }) };
  });
  const writes: [string, string][] = mips.map((m) => [m.meta.key, m.meta.text]);
  if (plainRoot) return { mips, group: undefined, writes };
  const prevAttrs = group?.attrs ?? {};
  const prevOme = (typeof prevAttrs.ome === "object" && prevAttrs.ome !== null ? prevAttrs.ome : {}) as Record<string, unknown>;
  const prevList = Array.isArray(prevOme.multiscales) ? (prevOme.multiscales as Record<string, unknown>[]) : Array.isArray(prevAttrs.multiscales) ? (prevAttrs.multiscales as Record<string, unknown>[]) : [];
  const multiscaleJson = ngffMultiscale(info, mips, prevList[0], group?.multiscale, "0.5");
  const attrs: Record<string, unknown> = withType({ ...prevAttrs, ome: { ...prevOme, version: "0.5", multiscales: [multiscaleJson, ...prevList.slice(1)] } }, info);
  delete attrs.multiscales; // moved under ome (0.5)
  writes.push(["zarr.json", serialize({ zarr_format: 3, node_type: "group", attributes: attrs }, false)]);
  const multiscale = parseMultiscales(ngffAttributes(attrs), "zarr.json", url)!;
  return { mips, group: { attrs, multiscale }, writes };
}
