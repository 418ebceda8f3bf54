import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { Context, isCloudVolumeError, parseUrl, type ErrorCode } from "@cloudvolume/core";
import { describeKeyValueStore, fixturePath, readGroundTruth, tempDir } from "@cloudvolume/testing";
import { FileStore, createFileStore, fileStorage, resolveFilePath } from "@cloudvolume/storage-file";

describeKeyValueStore("file", () => new FileStore(tempDir("cv-file-kv-")), {
  cleanup: (store) => rmSync((store as FileStore).root, { recursive: true, force: true }),
});

const dirs: string[] = [];
function freshDir(): string {
  const d = tempDir("cv-file-");
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir`, relative, forward slashes (independent of FileStore.list). */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1).split("\\").join("/"))
    .sort();
}

async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

async function expectCode(fn: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  const e = await errorOf(fn);
  expect(isCloudVolumeError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
}

async function keys(store: FileStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list(prefix)) out.push(k);
  return out.sort();
}

describe("FileStore reads layers written by Python CloudVolume", () => {
  const gzipLayer = fixturePath("pc_image_u8_raw_gzip");
  const chunk = "4_4_40/0-32_0-32_0-16";

  it("getObject finds <key>.gz and reports gzip, bytes still encoded", async () => {
    const store = new FileStore(gzipLayer);
    const obj = await store.getObject(chunk);
    expect(obj?.contentEncoding).toBe("gzip");
    expect(Buffer.from(obj!.data).equals(readFileSync(join(gzipLayer, `${chunk}.gz`)))).toBe(true);
    // The decoded chunk is the first 32x32x16 corner of the ground truth (Fortran order).
    const raw = gunzipSync(obj!.data);
    expect(raw.byteLength).toBe(32 * 32 * 16);
    const gt = readGroundTruth("pc_image_u8_raw_gzip");
    const [sx, sy] = gt.shape;
    for (const [x, y, z] of [[0, 0, 0], [31, 0, 0], [5, 17, 9], [31, 31, 15]]) {
      expect(raw[x + 32 * y + 1024 * z]).toBe(gt.bytes[x + sx * y + sx * sy * z]);
    }
  });

  it("get reads exactly the named file: the bare chunk name is missing, the .gz name is not", async () => {
    const store = new FileStore(gzipLayer);
    expect(await store.get(chunk)).toBeUndefined();
    expect((await store.get(`${chunk}.gz`))?.byteLength).toBe(readFileSync(join(gzipLayer, `${chunk}.gz`)).byteLength);
    const info = JSON.parse(new TextDecoder().decode(await store.get("info")));
    expect(info.scales[0].key).toBe("4_4_40");
    expect(await store.exists(chunk)).toBe(true);
  });

  it("getObject of a brotli layer reports br; of an uncompressed layer, no encoding", async () => {
    const br = await new FileStore(fixturePath("pc_image_u8_raw_br")).getObject(chunk);
    expect(br?.contentEncoding).toBe("br");
    const raw = await new FileStore(fixturePath("pc_image_u8_raw")).getObject(chunk);
    expect(raw?.contentEncoding).toBeUndefined();
    expect(raw?.data.byteLength).toBe(32 * 32 * 16);
  });

  it("lists by partial file name, returning stored names with suffixes", async () => {
    const store = new FileStore(gzipLayer);
    const expected = readdirSync(join(gzipLayer, "4_4_40"))
      .filter((n) => n.startsWith("0-32_0-32_"))
      .map((n) => `4_4_40/${n}`)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(await keys(store, "4_4_40/0-32_0-32_")).toEqual(expected);
    expect(await keys(store, "in")).toEqual(["info"]);
  });

  it("a range of a fixture reads just those bytes", async () => {
    const store = new FileStore(gzipLayer);
    const whole = readFileSync(join(gzipLayer, `${chunk}.gz`));
    const head = await store.getObject(chunk, { range: { offset: 0, length: 2 } });
    expect([...head!.data]).toEqual([0x1f, 0x8b]);
    const tail = await store.get(`${chunk}.gz`, { range: { suffixLength: 8 } });
    expect(Buffer.from(tail!).equals(whole.subarray(whole.byteLength - 8))).toBe(true);
  });
});

describe("FileStore writes", () => {
  it("atomic writes leave no temporary files behind", async () => {
    const root = freshDir();
    const store = new FileStore(root);
    await Promise.all([
      store.put("a", new Uint8Array([1])),
      store.put("x/y/z.bin", new Uint8Array(100_000)),
      store.put("x/y/z.bin", new Uint8Array(50_000)),
      store.put("g", new Uint8Array([2]), { contentEncoding: "gzip" }),
    ]);
    expect(filesUnder(root)).toEqual(["a", "g.gz", "x/y/z.bin"]);
  });

  it("a reader never sees a partly written value while the key is rewritten", async () => {
    const root = freshDir();
    const writer = new FileStore(root);
    const reader = new FileStore(root);
    const big = new Uint8Array(3 << 20).fill(0xaa);
    const small = new Uint8Array(1 << 20).fill(0x55);
    await writer.put("v", small);
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 20; i++) await writer.put("v", i % 2 ? small : big);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const got = (await reader.get("v"))!;
      const whole = (got.byteLength === big.byteLength && got.every((b) => b === 0xaa)) || (got.byteLength === small.byteLength && got.every((b) => b === 0x55));
      expect(whole, `read ${reads}: ${got.byteLength} bytes, not one whole value`).toBe(true);
      reads++;
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
  });

  it("a write under a path that is a file fails clearly and leaves nothing behind", async () => {
    const root = freshDir();
    writeFileSync(join(root, "blocker"), "x");
    const store = new FileStore(root);
    const e = await errorOf(() => store.put("blocker/chunk", new Uint8Array([1, 2, 3])));
    expect(isCloudVolumeError(e, "IO_ERROR"), String(e)).toBe(true);
    expect((e as Error).message).toContain('"blocker/chunk"');
    expect((e as Error).message).toMatch(/not a directory/);
    expect((e as { key?: string }).key).toBe("blocker/chunk");
    expect(filesUnder(root)).toEqual(["blocker"]);
  });

  it("a failed rename (a directory has the key's name) removes its temporary file", async () => {
    const root = freshDir();
    mkdirSync(join(root, "taken", "child"), { recursive: true });
    writeFileSync(join(root, "taken", "child", "f"), "x");
    const store = new FileStore(root);
    const e = await errorOf(() => store.put("taken/child", new Uint8Array(10)));
    expect(isCloudVolumeError(e, "IO_ERROR"), String(e)).toBe(true);
    expect((e as Error).message).toContain('"taken/child"');
    expect(readdirSync(join(root, "taken"))).toEqual(["child"]);
    expect(filesUnder(root)).toEqual(["taken/child/f"]);
  });

  it("re-writing a key with another encoding removes the stale variants", async () => {
    const root = freshDir();
    const store = new FileStore(root);
    await store.put("k", new Uint8Array([1]));
    expect(filesUnder(root)).toEqual(["k"]);
    await store.put("k", new Uint8Array([2]), { contentEncoding: "gzip" });
    expect(filesUnder(root)).toEqual(["k.gz"]);
    await store.put("k", new Uint8Array([3]), { contentEncoding: "br" });
    expect(filesUnder(root)).toEqual(["k.br"]);
    await store.put("k", new Uint8Array([4]), { contentEncoding: "zstd" });
    expect(filesUnder(root)).toEqual(["k.zstd"]);
    await store.put("k", new Uint8Array([5]), { contentEncoding: "identity" });
    expect(filesUnder(root)).toEqual(["k"]);
    expect(await store.getObject("k")).toEqual({ data: new Uint8Array([5]) });
  });

  it("concurrent writes of one key with different encodings leave exactly one variant", async () => {
    const root = freshDir();
    const a = new FileStore(root);
    const b = new FileStore(root);
    const encodings = [undefined, "gzip", "br", "zstd"];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).put("k", new Uint8Array([i]), { contentEncoding: encodings[i % 4] })));
    expect(filesUnder(root)).toHaveLength(1);
  });

  it("delete removes every variant; exists sees any variant; a directory is not a key", async () => {
    const root = freshDir();
    for (const n of ["k", "k.gz", "k.br", "k.zstd", "keep"]) writeFileSync(join(root, n), n);
    const store = new FileStore(root);
    await store.delete("k");
    expect(filesUnder(root)).toEqual(["keep"]);
    writeFileSync(join(root, "z.zstd"), "z");
    expect(await store.exists("z")).toBe(true);
    mkdirSync(join(root, "dir"));
    expect(await store.get("dir")).toBeUndefined();
    expect(await store.getObject("dir")).toBeUndefined();
    expect(await store.exists("dir")).toBe(false);
    await store.delete("dir"); // a directory is not a variant of the key: left alone
    expect(existsSync(join(root, "dir"))).toBe(true);
  });

  it("list skips temporary files of in-flight writes", async () => {
    const root = freshDir();
    const store = new FileStore(root);
    await store.put("d/real", new Uint8Array([1]));
    writeFileSync(join(root, "d", ".real.1234.0123456789abcdef.tmp"), "partial");
    expect(await keys(store, "")).toEqual(["d/real"]);
    expect(await keys(store, "d/")).toEqual(["d/real"]);
  });

  it("escaping keys write nothing outside the root", async () => {
    const parent = freshDir();
    const store = new FileStore(join(parent, "root"));
    await expectCode(() => store.put("../escaped", new Uint8Array([1])), "PERMISSION_DENIED");
    await expectCode(() => store.put("a/../../escaped", new Uint8Array([1])), "PERMISSION_DENIED");
    expect(readdirSync(parent)).toEqual([]);
  });

  it("rejects an unknown contentEncoding and malformed ranges with INVALID_ARGUMENT", async () => {
    const store = new FileStore(freshDir());
    await expectCode(() => store.put("k", new Uint8Array([1]), { contentEncoding: "deflate" }), "INVALID_ARGUMENT");
    await store.put("k", new Uint8Array([1, 2, 3]));
    await expectCode(() => store.get("k", { range: { offset: -1, length: 2 } }), "INVALID_ARGUMENT");
    await expectCode(() => store.get("k", { range: { suffixLength: 1.5 } }), "INVALID_ARGUMENT");
    await expectCode(() => store.get(""), "INVALID_ARGUMENT");
  });

  it("reads a range far into a large sparse file without reading the rest", async () => {
    const root = freshDir();
    const size = 5 * 2 ** 30; // past 4 GiB: positions must not be truncated to 32 bits
    const fh = await open(join(root, "big"), "w");
    await fh.truncate(size);
    await fh.write(new Uint8Array([9, 8, 7, 6]), 0, 4, size - 4);
    await fh.close();
    const store = new FileStore(root);
    expect([...(await store.get("big", { range: { suffixLength: 4 } }))!]).toEqual([9, 8, 7, 6]);
    expect([...(await store.get("big", { range: { offset: size - 3, length: 100 } }))!]).toEqual([8, 7, 6]);
  });

  it.skipIf(process.getuid?.() === 0)("maps EACCES to PERMISSION_DENIED", async () => {
    const root = freshDir();
    writeFileSync(join(root, "secret"), "x");
    chmodSync(join(root, "secret"), 0o000);
    await expectCode(() => new FileStore(root).get("secret"), "PERMISSION_DENIED");
  });
});

describe("fileStorage plugin: cloudpath to directory", () => {
  it("maps file:///abs, file://rel, bare relative paths and ~", async () => {
    const factory = await fileStorage().load();
    const ctx = new Context({ plugins: [] });
    const rootOf = async (url: string) => ((await factory(parseUrl(url), ctx)) as FileStore).root;
    expect(await rootOf("file:///abs/dir")).toBe("/abs/dir");
    expect(await rootOf("file:///abs/dir/")).toBe("/abs/dir");
    expect(await rootOf("file://rel/dir")).toBe(resolve(process.cwd(), "rel/dir"));
    expect(await rootOf("rel/dir")).toBe(resolve(process.cwd(), "rel/dir"));
    expect(await rootOf("./rel")).toBe(resolve(process.cwd(), "rel"));
    expect(await rootOf("precomputed://file:///abs/layer")).toBe("/abs/layer");
    expect(await rootOf("file://~/data")).toBe(join(homedir(), "data"));
    expect(await rootOf("~")).toBe(homedir());
    expect(resolveFilePath("a/b", "/base")).toBe("/base/a/b");
    expect(() => resolveFilePath("")).toThrow(/empty/);
  });

  it("a Context opens a FileStore through the plugin", async () => {
    const root = freshDir();
    const ctx = new Context({ plugins: [fileStorage()] });
    const store = await ctx.storage(`file://${root}`);
    expect(store).toBeInstanceOf(FileStore);
    expect(store.url).toBe(`file://${root}`);
    await store.put!("k", new Uint8Array([1]));
    expect([...(await createFileStore(parseUrl(root)).get("k"))!]).toEqual([1]);
  });

  it("the descriptor names its protocol and package", () => {
    const p = fileStorage();
    expect(p.kind).toBe("storage");
    expect(p.protocols).toEqual(["file"]);
    expect(p.package).toBe("@cloudvolume/storage-file");
  });
});
