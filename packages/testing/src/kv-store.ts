import { describe, expect, it } from "vitest";
import { isCloudVolumeError, type ErrorCode, type KeyValueStore } from "@cloudvolume/core";

/**
 * The key-value store conformance suite (unstorage's `testDriver`, TensorStore's
 * parameterised kvstore tests): written once, run by every storage package with a
 * factory. Each check is a plain async function so the suite can also be run
 * against deliberately broken stores, proving that every check can fail.
 */

/**
 * What a check needs from a store; it is skipped (not passed) when the store lacks one.
 * "data" means values can be placed in the store: it is writable, or the suite was
 * given a `seed` hook (how a read-only store, e.g. over HTTP, gets its read checks).
 */
export type KeyValueStoreFeature = "write" | "data" | "list" | "rangeReads" | "delete" | "exists" | "getObject";

/** Places values behind a store by other means than `put` (files behind an HTTP server...). */
export type KeyValueStoreSeeder = (store: KeyValueStore, entries: ReadonlyArray<{ key: string; data: Uint8Array }>) => Promise<void> | void;

export interface KeyValueStoreCheck {
  readonly name: string;
  readonly needs: readonly KeyValueStoreFeature[];
  /** `seed` places values for checks that need "data" (default: the store's own put). */
  run(store: KeyValueStore, seed?: KeyValueStoreSeeder): Promise<void>;
}

export interface DescribeKeyValueStoreOptions {
  /** Called after every test with the store the factory made (remove temp dirs, buckets...). */
  cleanup?: (store: KeyValueStore) => Promise<void> | void;
  /** For read-only stores: place values behind the store so the read checks can run. */
  seed?: KeyValueStoreSeeder;
}

/** True when `store` offers `feature`, judged by its capability flags AND its methods. */
export function hasFeature(store: KeyValueStore, feature: KeyValueStoreFeature, seed?: KeyValueStoreSeeder): boolean {
  switch (feature) {
    case "data":
      return seed !== undefined || hasFeature(store, "write");
    case "write":
      return store.capabilities.write && typeof store.put === "function";
    case "list":
      return store.capabilities.list && typeof store.list === "function";
    case "rangeReads":
      return store.capabilities.rangeReads;
    case "delete":
      return store.capabilities.write && typeof store.delete === "function";
    case "exists":
      return typeof store.exists === "function";
    case "getObject":
      return typeof store.getObject === "function";
  }
}

/**
 * Register the conformance suite for one store implementation. `factory` is called
 * once per test so tests never see each other's keys; `cleanup` then `close()` run
 * after each test, pass or fail.
 */
export function describeKeyValueStore(
  name: string,
  factory: () => Promise<KeyValueStore> | KeyValueStore,
  opts: DescribeKeyValueStoreOptions = {},
): void {
  describe(`KeyValueStore conformance: ${name}`, () => {
    for (const check of keyValueStoreChecks) {
      it(check.name, async (ctx) => {
        const store = await factory();
        try {
          const lacking = check.needs.filter((f) => !hasFeature(store, f, opts.seed));
          // ctx.skip reports the test as skipped: a store without `list` must not look like it passed the list test.
          if (lacking.length > 0) ctx.skip(`${name} lacks ${lacking.join(", ")}`);
          await check.run(store, opts.seed);
        } finally {
          await opts.cleanup?.(store);
          await store.close?.();
        }
      });
    }
  });
}

// ---------------------------------------------------------------- helpers

/** Deterministic, position-dependent bytes: a shifted or truncated copy never matches. */
function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    // xorshift32: cheap and not periodic at small strides, unlike i % 256.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Compare as plain byte arrays, so a Buffer and a Uint8Array with equal bytes are equal. */
function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array, what: string): void {
  expect(actual, `${what}: got undefined`).toBeDefined();
  expect(actual instanceof Uint8Array, `${what}: not a Uint8Array`).toBe(true);
  expect(actual!.byteLength, `${what}: length`).toBe(expected.byteLength);
  expect(Array.from(actual!), what).toEqual(Array.from(expected));
}

/** Await `fn` and require a CloudVolumeError of `code` (a synchronous throw counts too). */
async function expectCode(fn: () => unknown, code: ErrorCode, what: string): Promise<void> {
  let error: unknown;
  let threw = false;
  try {
    await fn();
  } catch (e) {
    error = e;
    threw = true;
  }
  expect(threw, `${what}: expected a ${code} error, but it succeeded`).toBe(true);
  const got = isCloudVolumeError(error) ? `CloudVolumeError ${error.code}: ${error.message}` : String(error);
  expect(isCloudVolumeError(error, code), `${what}: expected CloudVolumeError ${code}, got ${got}`).toBe(true);
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out.sort();
}

function put(store: KeyValueStore, key: string, data: Uint8Array, contentEncoding?: string): Promise<void> {
  return store.put!(key, data, contentEncoding === undefined ? undefined : { contentEncoding });
}

/** Place values for a read check: through the seeder when given, else with put. */
async function place(store: KeyValueStore, seed: KeyValueStoreSeeder | undefined, entries: Array<[string, Uint8Array]>): Promise<void> {
  if (seed) await seed(store, entries.map(([key, data]) => ({ key, data })));
  else await Promise.all(entries.map(([k, d]) => put(store, k, d)));
}

const MISSING = "no/such/key-3f9c1e";
const ESCAPING_KEYS = ["../x", "a/../../x", "/etc/passwd"];

// ---------------------------------------------------------------- checks

export const keyValueStoreChecks: readonly KeyValueStoreCheck[] = [
  {
    name: "capability flags match the methods the store has",
    needs: [],
    async run(store) {
      const c = store.capabilities;
      expect(typeof store.url, "url").toBe("string");
      expect(typeof store.get, "get").toBe("function");
      if (c.write) expect(typeof store.put, "capabilities.write but no put()").toBe("function");
      if (c.list) expect(typeof store.list, "capabilities.list but no list()").toBe("function");
    },
  },
  {
    name: "a missing key reads as undefined, not an error",
    needs: [],
    async run(store) {
      expect(await store.get(MISSING)).toBeUndefined();
      if (store.capabilities.rangeReads) expect(await store.get(MISSING, { range: { offset: 0, length: 4 } })).toBeUndefined();
      if (store.getObject) expect(await store.getObject(MISSING)).toBeUndefined();
    },
  },
  {
    name: "put then get returns the same bytes",
    needs: ["write"],
    async run(store) {
      const data = pattern(1000, 2);
      await put(store, "roundtrip.bin", data);
      expectBytes(await store.get("roundtrip.bin"), data, "get after put");
      const empty = new Uint8Array(0);
      await put(store, "empty.bin", empty);
      expectBytes(await store.get("empty.bin"), empty, "an empty value is present, not missing");
    },
  },
  {
    name: "stored bytes do not alias the caller's buffers",
    needs: ["write"],
    async run(store) {
      const data = pattern(64, 3);
      const expected = data.slice();
      await put(store, "alias.bin", data);
      data.fill(0);
      expectBytes(await store.get("alias.bin"), expected, "after mutating the buffer passed to put");
      const first = await store.get("alias.bin");
      first!.fill(0xee);
      expectBytes(await store.get("alias.bin"), expected, "after mutating a buffer returned by get");
    },
  },
  {
    name: "put overwrites an existing value completely",
    needs: ["write"],
    async run(store) {
      await put(store, "over.bin", pattern(500, 4));
      const shorter = pattern(20, 5);
      await put(store, "over.bin", shorter);
      // A store that writes without truncating would leave the old tail here.
      expectBytes(await store.get("over.bin"), shorter, "get after overwrite");
    },
  },
  {
    name: "full, ranged, suffix and zero-length reads",
    needs: ["data", "rangeReads"],
    async run(store, seed) {
      const data = pattern(100, 6);
      await place(store, seed, [["range.bin", data]]);
      expectBytes(await store.get("range.bin", {}), data, "no range");
      expectBytes(await store.get("range.bin", { range: { offset: 10, length: 25 } }), data.subarray(10, 35), "offset 10 length 25");
      expectBytes(await store.get("range.bin", { range: { offset: 0, length: 100 } }), data, "the whole object as a range");
      expectBytes(await store.get("range.bin", { range: { suffixLength: 7 } }), data.subarray(93), "last 7 bytes");
      expectBytes(await store.get("range.bin", { range: { offset: 40, length: 0 } }), new Uint8Array(0), "zero-length range");
      expectBytes(await store.get("range.bin", { range: { suffixLength: 0 } }), new Uint8Array(0), "zero-length suffix");
    },
  },
  {
    name: "ranges past the end are clipped",
    needs: ["data", "rangeReads"],
    async run(store, seed) {
      const data = pattern(50, 7);
      await place(store, seed, [["clip.bin", data]]);
      expectBytes(await store.get("clip.bin", { range: { offset: 45, length: 20 } }), data.subarray(45), "range over the end");
      expectBytes(await store.get("clip.bin", { range: { offset: 50, length: 5 } }), new Uint8Array(0), "range at the end");
      expectBytes(await store.get("clip.bin", { range: { offset: 80, length: 5 } }), new Uint8Array(0), "range after the end");
      expectBytes(await store.get("clip.bin", { range: { suffixLength: 500 } }), data, "suffix longer than the object");
    },
  },
  {
    name: "keys with spaces, #, %, ?, unicode and nested directories round-trip",
    needs: ["data"],
    async run(store, seed) {
      // Pairs that collide if a store URL-decodes, drops a fragment or a query string.
      const keys = [
        "with space/a b.bin",
        "with%20space/a%20b.bin",
        "frag#1",
        "frag#2",
        "query?x=1",
        "query?x=2",
        "percent%",
        "unicode/ñandú-数据-🧠.bin",
        "a/b/c/d/e/deep.bin",
      ];
      await place(store, seed, keys.map((k, i): [string, Uint8Array] => [k, pattern(30 + i, 100 + i)]));
      for (const [i, k] of keys.entries()) expectBytes(await store.get(k), pattern(30 + i, 100 + i), `key ${JSON.stringify(k)}`);
      if (hasFeature(store, "list")) expect(await collect(store.list!("")), "list of every key").toEqual([...keys].sort());
    },
  },
  {
    name: "keys that would escape the root are rejected with PERMISSION_DENIED",
    needs: [],
    async run(store) {
      for (const key of ESCAPING_KEYS) {
        await expectCode(() => store.get(key), "PERMISSION_DENIED", `get(${JSON.stringify(key)})`);
        if (store.getObject) await expectCode(() => store.getObject!(key), "PERMISSION_DENIED", `getObject(${JSON.stringify(key)})`);
        if (hasFeature(store, "write")) await expectCode(() => store.put!(key, pattern(4)), "PERMISSION_DENIED", `put(${JSON.stringify(key)})`);
        if (hasFeature(store, "delete")) await expectCode(() => store.delete!(key), "PERMISSION_DENIED", `delete(${JSON.stringify(key)})`);
        if (hasFeature(store, "list")) await expectCode(() => collect(store.list!(key)), "PERMISSION_DENIED", `list(${JSON.stringify(key)})`);
      }
    },
  },
  {
    name: "list returns exactly the keys under a prefix, relative to the root",
    needs: ["write", "list"],
    async run(store) {
      const keys = ["list/a/1", "list/a/2", "list/a/sub/3", "list/ab", "list/b/1", "other/x", "listing"];
      await Promise.all(keys.map((k) => put(store, k, pattern(8))));
      expect(await collect(store.list!("list/a/")), "list/a/").toEqual(["list/a/1", "list/a/2", "list/a/sub/3"]);
      // A prefix is a string prefix, not a directory: "list/a" also matches "list/ab".
      expect(await collect(store.list!("list/a")), "list/a").toEqual(["list/a/1", "list/a/2", "list/a/sub/3", "list/ab"]);
      expect(await collect(store.list!("list/")), "list/").toEqual(["list/a/1", "list/a/2", "list/a/sub/3", "list/ab", "list/b/1"]);
      expect(await collect(store.list!("")), "everything").toEqual([...keys].sort());
      expect(await collect(store.list!("nothing/here/")), "an empty prefix").toEqual([]);
    },
  },
  {
    name: "delete removes a key; deleting a missing key is not an error",
    needs: ["write", "delete"],
    async run(store) {
      await put(store, "del/x", pattern(10));
      await put(store, "del/y", pattern(10, 9));
      await store.delete!("del/x");
      expect(await store.get("del/x"), "get after delete").toBeUndefined();
      if (store.getObject) expect(await store.getObject("del/x"), "getObject after delete").toBeUndefined();
      expectBytes(await store.get("del/y"), pattern(10, 9), "a sibling survives");
      await store.delete!("del/x");
      await store.delete!(MISSING);
    },
  },
  {
    name: "exists reports presence",
    needs: ["write", "exists"],
    async run(store) {
      expect(await store.exists!(MISSING)).toBe(false);
      await put(store, "exists.bin", pattern(3));
      expect(await store.exists!("exists.bin")).toBe(true);
    },
  },
  {
    name: "100 concurrent writes to one key leave one complete value",
    needs: ["write"],
    async run(store) {
      // Value i is `i` repeated, with a length unique to i: a torn write (mixed bytes,
      // or one writer's bytes with another's length) cannot pass the check below.
      const lengthOf = (i: number) => 8192 + i * 131;
      const values = Array.from({ length: 100 }, (_, i) => new Uint8Array(lengthOf(i)).fill(i));
      await Promise.all(values.map((v) => put(store, "race.bin", v)));
      const got = await store.get("race.bin");
      expect(got, "value after concurrent writes").toBeDefined();
      const winner = got![0];
      expect(winner, "first byte names a writer").toBeLessThan(100);
      expect(got!.byteLength, `length of writer ${winner}'s value`).toBe(lengthOf(winner));
      const foreign = got!.findIndex((b) => b !== winner);
      expect(foreign, `byte ${foreign} came from another writer`).toBe(-1);
    },
  },
  {
    name: "an already-aborted signal rejects with ABORTED",
    needs: [],
    async run(store, seed) {
      const ac = new AbortController();
      ac.abort();
      const signal = ac.signal;
      await expectCode(() => store.get(MISSING, { signal }), "ABORTED", "get of a missing key");
      if (store.getObject) await expectCode(() => store.getObject!(MISSING, { signal }), "ABORTED", "getObject of a missing key");
      if (hasFeature(store, "data", seed)) {
        await place(store, seed, [["abort.bin", pattern(10)]]);
        await expectCode(() => store.get("abort.bin", { signal }), "ABORTED", "get of a present key");
        if (store.getObject) await expectCode(() => store.getObject!("abort.bin", { signal }), "ABORTED", "getObject of a present key");
      }
    },
  },
  {
    name: "getObject reports the contentEncoding a value was put with",
    needs: ["write", "getObject"],
    async run(store) {
      // Starts like a gzip member; the store must neither decode nor re-encode it.
      const gz = new Uint8Array([0x1f, 0x8b, 8, 0, ...pattern(40, 11)]);
      await put(store, "enc/a", gz, "gzip");
      const a = await store.getObject!("enc/a");
      expect(a, "getObject of a gzip value").toBeDefined();
      expectBytes(a!.data, gz, "gzip value bytes");
      expect(a!.contentEncoding).toBe("gzip");

      const plain = pattern(40, 12);
      await put(store, "enc/b", plain);
      const b = await store.getObject!("enc/b");
      expectBytes(b?.data, plain, "plain value bytes");
      expect([undefined, "identity"], "a plain value has no encoding").toContain(b!.contentEncoding);

      // Re-writing with another encoding replaces the value: no stale variant may win.
      const gz2 = new Uint8Array([0x1f, 0x8b, 8, 0, ...pattern(25, 13)]);
      await put(store, "enc/b", gz2, "gzip");
      const c = await store.getObject!("enc/b");
      expectBytes(c?.data, gz2, "value re-written with gzip");
      expect(c!.contentEncoding).toBe("gzip");
    },
  },
];
