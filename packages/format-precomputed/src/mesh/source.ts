import { CloudVolumeError, joinKey, type ByteCodec, type Context, type KeyValueStore } from "@cloudvolume/core";
import { ShardedStore, encodeShard, parseShardingSpec, shardLocation, type ShardingSpec, type ShardingSpecJson } from "../sharding/index.js";
import { Mesh, invertTransform, applyTransform } from "./mesh.js";
import { decodeLegacyFragment, encodeLegacyFragment, encodeMeshFile, type MeshFileFormat } from "./formats.js";
import { decodeLod, decodeManifest, encodeManifest, encodeMultires, manifestDataSize, type MultiresManifest } from "./multires.js";

/** A mesh directory's own `info` file. */
export interface MeshInfo {
  "@type"?: "neuroglancer_legacy_mesh" | "neuroglancer_multilod_draco" | string;
  vertex_quantization_bits?: number;
  transform?: number[];
  lod_scale_multiplier?: number;
  sharding?: ShardingSpecJson | null;
  mip?: number;
  spatial_index?: unknown;
  [k: string]: unknown;
}

export interface MeshGetOptions {
  /** Join all segments' meshes into one (default true); false gives one mesh per segid. */
  fuse?: boolean;
  /** CloudVolume's consolidate (default true): distinct vertices and faces, sorted. */
  removeDuplicateVertices?: boolean;
  /** Level of detail for multires meshes (default 0, the finest). */
  lod?: number;
  signal?: AbortSignal;
}

export interface MeshPutOptions {
  /** Legacy fragment name suffix: `<segid>:0:<name>` (default "1"). */
  fragmentName?: string;
  /** Compress legacy fragments (default "gzip", as CloudVolume); manifests are stored plain. */
  compress?: "gzip" | false;
  /** Multires: coarser lods after lod 0 (meshes in physical space). */
  lods?: Mesh[];
  /** Multires: lod-0 fragment chunk shape / grid origin in stored units. */
  chunkShape?: readonly number[];
  gridOrigin?: readonly number[];
}

const MESH_KINDS = new Set(["neuroglancer_legacy_mesh", "neuroglancer_multilod_draco"]);

function toId(segid: bigint | number | string): bigint {
  let id: bigint;
  try { id = BigInt(segid); } catch { id = -1n; }
  if (id < 0n || id >= 1n << 64n) throw new CloudVolumeError("INVALID_ARGUMENT", `segment id ${String(segid)} is not a uint64`);
  return id;
}

/**
 * The meshes of a segmentation layer: `<layer>/<info.mesh>/`, legacy or multires Draco,
 * sharded or not. Vertices come back in physical space (the mesh info's transform applied).
 */
export class MeshSource {
  private sharded?: ShardedStore;

  private loaded?: Promise<void>;

  constructor(
    readonly ctx: Context,
    /** The layer's store. */
    readonly store: KeyValueStore,
    /** The mesh directory inside the layer (info.mesh). */
    readonly dir: string,
    /** The mesh info; read from `<dir>/info` on first use when not given. */
    public meshInfo: MeshInfo = {},
    readonly url = "",
    given = Object.keys(meshInfo).length > 0,
  ) {
    if (given) this.loaded = Promise.resolve();
  }

  /** Open the mesh directory of a layer; a missing mesh `info` means legacy meshes. */
  static async open(ctx: Context, store: KeyValueStore, dir: string, url = ""): Promise<MeshSource> {
    const src = new MeshSource(ctx, store, dir, {}, url, false);
    await src.ready();
    return src;
  }

  /** The meshes of a Precomputed layer (its info's `mesh` names the directory, default "mesh"). */
  static forVolume(vol: { ctx: Context; store: KeyValueStore; url: string; info: { mesh?: unknown } }): MeshSource {
    const dir = typeof vol.info.mesh === "string" ? vol.info.mesh : "mesh";
    return new MeshSource(vol.ctx, vol.store, dir, {}, vol.url, false);
  }

  /** Read the mesh info (once). */
  ready(): Promise<void> {
    this.loaded ??= (async () => {
      const key = joinKey(this.dir, "info");
      const raw = await this.read(key);
      if (!raw) { this.meshInfo = { "@type": "neuroglancer_legacy_mesh" }; return; }
      try { this.meshInfo = JSON.parse(new TextDecoder().decode(raw)) as MeshInfo; } catch (e) {
        this.loaded = undefined;
        throw new CloudVolumeError("DECODE_FAILED", `mesh info ${key} is not JSON`, { key, url: this.url, cause: e });
      }
    })();
    return this.loaded;
  }

  get type(): string { return this.meshInfo["@type"] ?? "neuroglancer_legacy_mesh"; }
  get isMultires(): boolean { return this.type === "neuroglancer_multilod_draco"; }
  get transform(): number[] | undefined { return this.meshInfo.transform; }
  get bits(): number { return this.meshInfo.vertex_quantization_bits ?? 16; }
  get shardingSpec(): ShardingSpec | undefined {
    return this.meshInfo.sharding ? parseShardingSpec(this.meshInfo.sharding, "mesh info sharding", this.url) : undefined;
  }

  private key(name: string): string { return joinKey(this.dir, name); }

  private checkType(): void {
    if (!MESH_KINDS.has(this.type)) {
      throw new CloudVolumeError("INVALID_METADATA", `mesh @type ${JSON.stringify(this.type)} is not supported (legacy or neuroglancer_multilod_draco)`, { url: this.url });
    }
  }

  private shardedStore(): ShardedStore {
    const spec = this.shardingSpec!;
    this.sharded ??= new ShardedStore(this.store, spec, { prefix: this.dir, gzip: () => this.gzip() });
    return this.sharded;
  }

  private async gzip(): Promise<ByteCodec> {
    const c = await this.ctx.compression("gzip");
    if (!c) throw new CloudVolumeError("UNKNOWN_CODEC", "gzip is needed for these meshes; add @cloudvolume/codec-gzip to the Context", { url: this.url });
    return c;
  }

  /** A stored object, decoded from its transfer encoding. */
  private async read(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    if (this.store.getObject) {
      const obj = await this.store.getObject(key, { signal });
      if (!obj) return undefined;
      const codec = await this.ctx.compression(obj.contentEncoding);
      return codec ? codec.decode(obj.data) : obj.data;
    }
    return this.store.get(key, { signal });
  }

  private notFound(segid: bigint, key: string): CloudVolumeError {
    return new CloudVolumeError("NOT_FOUND", `no mesh for segment ${segid} (${key} does not exist)`, { key, url: this.url });
  }

  /**
   * The mesh of each segid, unfused and without dedup: in stored model space, or (transform:
   * true, multires only) already in physical space. For callers such as the spatial index.
   */
  async getByIds(segids: Iterable<bigint | number | string>, opts: { lod?: number; signal?: AbortSignal; transform?: boolean } = {}): Promise<Map<bigint, Mesh>> {
    await this.ready();
    this.checkType();
    const ids = [...new Set([...segids].map(toId))];
    const out = new Map<bigint, Mesh>();
    if (this.isMultires) {
      const loaded = await this.multiresPayloads(ids, opts.signal);
      for (const id of ids) {
        const { manifest, data, key } = loaded.get(id)!;
        const lod = opts.lod ?? 0;
        if (!Number.isInteger(lod) || lod < 0) throw new CloudVolumeError("INVALID_ARGUMENT", `lod must be a non-negative integer, got ${lod}`);
        const use = Math.min(lod, manifest.lodScales.length - 1);
        const mesh = use < 0 ? Mesh.empty() : await decodeLod(manifest, data, use, this.bits, key, opts.transform ? this.transform : undefined);
        mesh.segid = id;
        out.set(id, mesh);
      }
      return out;
    }
    await Promise.all(ids.map(async (id) => {
      const mkey = this.key(`${id}:0`);
      const raw = await this.read(mkey, opts.signal);
      if (!raw) throw this.notFound(id, mkey);
      let names: unknown;
      try { names = (JSON.parse(new TextDecoder().decode(raw)) as { fragments?: unknown }).fragments; } catch (e) {
        throw new CloudVolumeError("DECODE_FAILED", `mesh manifest ${mkey} is not JSON`, { key: mkey, url: this.url, cause: e });
      }
      if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
        throw new CloudVolumeError("DECODE_FAILED", `mesh manifest ${mkey} has no "fragments" list of names`, { key: mkey, url: this.url });
      }
      const frags = await Promise.all((names as string[]).map(async (name) => {
        const fkey = this.key(name);
        const bytes = await this.read(fkey, opts.signal);
        if (!bytes) throw this.notFound(id, fkey);
        return decodeLegacyFragment(bytes, fkey);
      }));
      const mesh = Mesh.concatenate(...frags);
      mesh.segid = id;
      out.set(id, mesh);
    }));
    return out;
  }

  /** Manifest and fragment data of multires segments (sharded or unsharded). */
  private async multiresPayloads(ids: bigint[], signal?: AbortSignal): Promise<Map<bigint, { manifest: MultiresManifest; data: Uint8Array; key: string }>> {
    const out = new Map<bigint, { manifest: MultiresManifest; data: Uint8Array; key: string }>();
    if (this.meshInfo.sharding) {
      const store = this.shardedStore();
      const spec = this.shardingSpec!;
      const where = await store.locateMany(ids, { signal });
      const manifests = await store.getMany(ids, { signal });
      await Promise.all(ids.map(async (id) => {
        const loc = where.get(id);
        const mbytes = manifests.get(id);
        const key = this.key(shardLocation(spec, id).filename);
        if (!loc || !mbytes) throw this.notFound(id, `${key} (segment ${id})`);
        const manifest = decodeManifest(mbytes, `${key} (segment ${id})`);
        const size = manifestDataSize(manifest);
        if (size > loc.offset) throw new CloudVolumeError("DECODE_FAILED", `multires mesh manifest of segment ${id} in ${key} claims ${size} bytes of fragments before byte ${loc.offset}`, { key, url: this.url });
        const data = size === 0 ? new Uint8Array(0) : await store.readFileRange(loc.file, loc.offset - size, size, { signal });
        if (!data || data.byteLength !== size) throw new CloudVolumeError("DECODE_FAILED", `${key}: fragment data of segment ${id} is truncated`, { key, url: this.url });
        out.set(id, { manifest, data, key });
      }));
      return out;
    }
    await Promise.all(ids.map(async (id) => {
      const ikey = this.key(`${id}.index`);
      const dkey = this.key(`${id}`);
      const [mbytes, data] = await Promise.all([this.read(ikey, signal), this.read(dkey, signal)]);
      if (!mbytes) throw this.notFound(id, ikey);
      const manifest = decodeManifest(mbytes, ikey);
      const need = manifestDataSize(manifest);
      if (need > 0 && !data) throw this.notFound(id, dkey);
      out.set(id, { manifest, data: data ?? new Uint8Array(0), key: dkey });
    }));
    return out;
  }

  /**
   * CloudVolume's mesh.get: fused (default) into one mesh, sorted by segid, transform applied,
   * duplicates removed (consolidate) unless removeDuplicateVertices is false.
   */
  async get(segids: bigint | number | string | Iterable<bigint | number | string>, opts: MeshGetOptions & { fuse: false }): Promise<Map<bigint, Mesh>>;
  async get(segids: bigint | number | string | Iterable<bigint | number | string>, opts?: MeshGetOptions): Promise<Mesh>;
  async get(segids: bigint | number | string | Iterable<bigint | number | string>, opts: MeshGetOptions = {}): Promise<Mesh | Map<bigint, Mesh>> {
    await this.ready();
    const list = typeof segids === "object" && segids !== null && Symbol.iterator in segids ? [...segids] : [segids as bigint];
    const meshes = await this.getByIds(list, { lod: opts.lod, signal: opts.signal, transform: true });
    const dedup = opts.removeDuplicateVertices ?? true;
    const finish = (m: Mesh) => {
      const t = this.isMultires ? m : m.transformed(this.transform);
      return dedup ? t.consolidate() : t;
    };
    if (opts.fuse === false) return new Map([...meshes].map(([id, m]) => [id, finish(m)]));
    const sorted = [...meshes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((id) => meshes.get(id)!);
    const fused = finish(Mesh.concatenate(...sorted));
    return fused;
  }

  /** Whether each segid has a mesh (legacy: its manifest; multires: manifest / shard entry). */
  async exists(segids: bigint | number | string | Iterable<bigint | number | string>): Promise<Map<bigint, boolean>> {
    await this.ready();
    const list = (typeof segids === "object" && segids !== null && Symbol.iterator in segids ? [...segids] : [segids as bigint]).map(toId);
    if (this.isMultires && this.meshInfo.sharding) {
      const have = await this.shardedStore().has(list);
      return new Map(list.map((id) => [id, have.has(id)]));
    }
    const out = new Map<bigint, boolean>();
    await Promise.all(list.map(async (id) => {
      const key = this.key(this.isMultires ? `${id}.index` : `${id}:0`);
      const has = this.store.exists ? await this.store.exists(key) : (await this.store.get(key)) !== undefined;
      out.set(id, has);
    }));
    return out;
  }

  /** Write the mesh info file (`<dir>/info`). */
  async commitInfo(): Promise<void> {
    await this.ready();
    await this.writable().put!(this.key("info"), new TextEncoder().encode(JSON.stringify(this.meshInfo)), { contentType: "application/json" });
  }

  private writable(): KeyValueStore {
    if (!this.store.put) throw new CloudVolumeError("READ_ONLY", `${this.url} is read-only`, { url: this.url });
    return this.store;
  }

  /** Physical-space mesh → stored model space (inverse of the info's transform). */
  private toStored(mesh: Mesh): Mesh {
    const t = this.transform;
    if (!t) return mesh;
    return new Mesh(applyTransform(mesh.vertices, invertTransform(t)), mesh.faces, mesh.normals, mesh.segid);
  }

  /**
   * Store meshes (physical space) for segids. Legacy: manifest `<id>:0` + one fragment each.
   * Multires unsharded: `<id>.index` + `<id>`. Multires sharded: every given segment is written
   * into its shard files; a shard file is replaced as a whole, so give all of a shard's segments
   * in one call (segments of a shard not given are kept: they are read back and rewritten).
   */
  async put(meshes: Map<bigint | number | string, Mesh> | Array<[bigint | number | string, Mesh]>, opts: MeshPutOptions = {}): Promise<void> {
    await this.ready();
    this.checkType();
    const store = this.writable();
    const entries = [...meshes].map(([id, m]) => [toId(id), m] as [bigint, Mesh]);
    if (!this.isMultires) {
      const name = opts.fragmentName ?? "1";
      const compress = opts.compress ?? "gzip";
      const gz = compress === "gzip" ? await this.gzip() : undefined;
      await Promise.all(entries.map(async ([id, m]) => {
        const frag = `${id}:0:${name}`;
        const bytes = encodeLegacyFragment(this.toStored(m));
        if (gz) await store.put!(this.key(frag), await gz.encode(bytes), { contentEncoding: "gzip" });
        else await store.put!(this.key(frag), bytes);
        await store.put!(this.key(`${id}:0`), new TextEncoder().encode(JSON.stringify({ fragments: [frag] })), { contentType: "application/json" });
      }));
      return;
    }
    const encoded = await Promise.all(entries.map(async ([id, m]) => {
      const lods = [m, ...(opts.lods ?? [])].map((x) => this.toStored(x));
      const { manifest, data } = await encodeMultires(lods, { bits: this.bits, chunkShape: opts.chunkShape, gridOrigin: opts.gridOrigin });
      return [id, manifest, data] as const;
    }));
    if (!this.meshInfo.sharding) {
      await Promise.all(encoded.map(async ([id, manifest, data]) => {
        await store.put!(this.key(`${id}`), data);
        await store.put!(this.key(`${id}.index`), encodeManifest(manifest));
      }));
      return;
    }
    await this.putSharded(encoded.map(([id, manifest, data]) => [id, concat(data, encodeManifest(manifest)), manifestDataSize(manifest)]));
  }

  /**
   * Sharded multires entries: each value is [fragment data][manifest] and the minishard index
   * must point at the manifest only. encodeShard stores whole values, so each value is stored
   * whole and its index entry is then narrowed to the manifest (offset + data size).
   */
  private async putSharded(items: Array<readonly [bigint, Uint8Array, number]>): Promise<void> {
    const spec = this.shardingSpec!;
    if (spec.dataEncoding !== "raw") {
      throw new CloudVolumeError("INVALID_METADATA", "writing sharded multires meshes needs data_encoding raw (fragments are located by byte offset)", { url: this.url });
    }
    const store = this.shardedStore();
    const byFile = new Map<string, Array<readonly [bigint, Uint8Array, number]>>();
    for (const it of items) {
      const f = shardLocation(spec, it[0]).filename;
      if (!byFile.has(f)) byFile.set(f, []);
      byFile.get(f)!.push(it);
    }
    const gz = spec.minishardIndexEncoding === "gzip" ? await this.gzip() : undefined;
    for (const [file, list] of byFile) {
      const given = new Set(list.map((x) => x[0]));
      // keep the shard's other segments
      const old = await store.readShard(file, {});
      const all = new Map<bigint, readonly [bigint, Uint8Array, number]>();
      if (old) {
        const oldIds = [...old.keys()].filter((id) => !given.has(id));
        const payloads = await this.multiresPayloads(oldIds);
        for (const id of oldIds) {
          const p = payloads.get(id)!;
          all.set(id, [id, concat(p.data, encodeManifest(p.manifest)), p.data.byteLength]);
        }
      }
      for (const it of list) all.set(it[0], it);
      const sizes = new Map([...all.values()].map(([id, , n]) => [id, n]));
      const shard = await encodeShard(spec, [...all.values()].map(([id, v]) => [id, v] as const), { gzip: gz });
      const fixed = await narrowShardEntries(spec, shard.data, sizes, gz);
      await store.putShard(file, fixed);
    }
    store.invalidate();
  }

  /** Delete the meshes of segids (legacy: manifest and fragments; multires: files / shard entries). */
  async delete(segids: bigint | number | string | Iterable<bigint | number | string>): Promise<void> {
    await this.ready();
    this.checkType();
    const list = (typeof segids === "object" && segids !== null && Symbol.iterator in segids ? [...segids] : [segids as bigint]).map(toId);
    const store = this.writable();
    if (!store.delete) throw new CloudVolumeError("READ_ONLY", `${this.url} cannot delete`, { url: this.url });
    if (this.isMultires && this.meshInfo.sharding) {
      const spec = this.shardingSpec!;
      const sstore = this.shardedStore();
      const files = new Set(list.map((id) => shardLocation(spec, id).filename));
      const drop = new Set(list);
      for (const file of files) {
        const old = await sstore.readShard(file, {});
        if (!old) continue;
        const keep = [...old.keys()].filter((id) => !drop.has(id));
        if (keep.length === 0) { await sstore.deleteShard(file); continue; }
        const payloads = await this.multiresPayloads(keep);
        const gz = spec.minishardIndexEncoding === "gzip" ? await this.gzip() : undefined;
        const items = keep.map((id) => { const p = payloads.get(id)!; return [id, concat(p.data, encodeManifest(p.manifest)), p.data.byteLength] as const; });
        const shard = await encodeShard(spec, items.map(([id, v]) => [id, v] as const), { gzip: gz });
        await sstore.putShard(file, await narrowShardEntries(spec, shard.data, new Map(items.map(([id, , n]) => [id, n])), gz));
      }
      sstore.invalidate();
      return;
    }
    await Promise.all(list.map(async (id) => {
      if (this.isMultires) {
        await store.delete!(this.key(`${id}.index`));
        await store.delete!(this.key(`${id}`));
        return;
      }
      const mkey = this.key(`${id}:0`);
      const raw = await this.read(mkey);
      if (raw) {
        try {
          const names = (JSON.parse(new TextDecoder().decode(raw)) as { fragments?: string[] }).fragments ?? [];
          await Promise.all(names.map((n) => store.delete!(this.key(n))));
        } catch { /* a broken manifest is deleted anyway */ }
      }
      await store.delete!(mkey);
    }));
  }

  /**
   * Encode meshes as files: ply / obj / json of the fused get result, or `precomputed` legacy
   * fragments. Returns name → bytes (one file per segid unless fused).
   */
  async save(segids: bigint | number | string | Iterable<bigint | number | string>, opts: MeshGetOptions & { format?: MeshFileFormat } = {}): Promise<Map<string, Uint8Array>> {
    const format = opts.format ?? "ply";
    const ext = format === "precomputed" ? "" : `.${format}`;
    if (opts.fuse === false) {
      const per = await this.get(segids, { ...opts, fuse: false });
      return new Map([...per].map(([id, m]) => [`${id}${ext}`, encodeMeshFile(m, format)]));
    }
    const list = typeof segids === "object" && segids !== null && Symbol.iterator in segids ? [...segids] : [segids as bigint];
    const mesh = await this.get(list, opts);
    return new Map([[`${list.map(String).join("_")}${ext}`, encodeMeshFile(mesh, format)]]);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * Rewrite the minishard indices of an encoded shard so each key's entry covers only the
 * trailing manifest of its value: offset += dataSize, size -= dataSize.
 */
async function narrowShardEntries(spec: ShardingSpec, shard: Uint8Array, dataSizes: Map<bigint, number>, gz?: ByteCodec): Promise<Uint8Array> {
  const nMini = 2 ** spec.minishardBits;
  const indexLen = 16 * nMini;
  const dv = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const pieces: Array<{ m: number; bytes: Uint8Array }> = [];
  let dataEnd = indexLen;
  const ranges: Array<[number, number]> = [];
  for (let m = 0; m < nMini; m++) {
    const s = Number(dv.getBigUint64(16 * m, true)) + indexLen;
    const e = Number(dv.getBigUint64(16 * m + 8, true)) + indexLen;
    ranges.push([s, e]);
  }
  // Data come before every minishard index in encodeShard's output.
  dataEnd = Math.min(...ranges.filter(([s, e]) => e > s).map(([s]) => s), shard.byteLength);
  for (let m = 0; m < nMini; m++) {
    const [s, e] = ranges[m];
    if (e <= s) continue;
    let raw = shard.subarray(s, e);
    if (spec.minishardIndexEncoding === "gzip") raw = await gz!.decode(raw);
    const n = raw.byteLength / 24;
    const idv = new DataView(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    // decode to absolute (relative to end of shard index) keys/offsets/sizes
    const keys: bigint[] = [];
    const offs: bigint[] = [];
    const sizes: bigint[] = [];
    let key = 0n;
    let off = 0n;
    for (let i = 0; i < n; i++) {
      key += idv.getBigUint64(8 * i, true);
      const delta = idv.getBigUint64(8 * (n + i), true);
      off = (i === 0 ? 0n : off + sizes[i - 1]) + delta;
      sizes.push(idv.getBigUint64(8 * (2 * n + i), true));
      keys.push(key);
      offs.push(off);
    }
    const nOffs = offs.map((o, i) => o + BigInt(dataSizes.get(keys[i]) ?? 0));
    const nSizes = sizes.map((sz, i) => sz - BigInt(dataSizes.get(keys[i]) ?? 0));
    const out = new DataView(new ArrayBuffer(24 * n));
    let prevKey = 0n;
    for (let i = 0; i < n; i++) {
      out.setBigUint64(8 * i, keys[i] - prevKey, true);
      prevKey = keys[i];
      const prevEnd = i === 0 ? 0n : nOffs[i - 1] + nSizes[i - 1];
      out.setBigUint64(8 * (n + i), nOffs[i] - prevEnd, true);
      out.setBigUint64(8 * (2 * n + i), nSizes[i], true);
    }
    let bytes: Uint8Array = new Uint8Array(out.buffer);
    if (spec.minishardIndexEncoding === "gzip") bytes = await gz!.encode(bytes);
    pieces.push({ m, bytes });
  }
  const total = dataEnd + pieces.reduce((s, p) => s + p.bytes.byteLength, 0);
  const result = new Uint8Array(total);
  result.set(shard.subarray(indexLen, dataEnd), indexLen);
  const rdv = new DataView(result.buffer);
  let at = dataEnd;
  for (const p of pieces) {
    result.set(p.bytes, at);
    rdv.setBigUint64(16 * p.m, BigInt(at - indexLen), true);
    rdv.setBigUint64(16 * p.m + 8, BigInt(at + p.bytes.byteLength - indexLen), true);
    at += p.bytes.byteLength;
  }
  return result;
}
