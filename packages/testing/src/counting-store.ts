import type { GetOptions, KeyValueStore, PutOptions, StorageFactory, StoragePlugin, StoredObject } from "@cloudvolume/core";

export type CountedOp = "get" | "getObject" | "put" | "delete" | "exists" | "list";

/** One call seen by a CountingStore. */
export interface CountedCall {
  op: CountedOp;
  key: string;
  /** The byte range of a ranged read. */
  range?: GetOptions["range"];
}

/**
 * A KeyValueStore wrapper that records every call, so tests can say how much a cache
 * saved: "a second read of the same chunk makes zero remote reads". Wrap the remote
 * store (or every store a storage plugin creates, with countingStorage).
 */
export class CountingStore implements KeyValueStore {
  readonly url: string;
  readonly capabilities: KeyValueStore["capabilities"];
  /** Every call, in order. */
  readonly calls: CountedCall[] = [];

  constructor(readonly inner: KeyValueStore) {
    this.url = inner.url;
    this.capabilities = inner.capabilities;
    // Offer only the optional methods the inner store has (callers feature-test them).
    if (!inner.getObject) (this as { getObject?: unknown }).getObject = undefined;
    if (!inner.put) (this as { put?: unknown }).put = undefined;
    if (!inner.delete) (this as { delete?: unknown }).delete = undefined;
    if (!inner.exists) (this as { exists?: unknown }).exists = undefined;
    if (!inner.list) (this as { list?: unknown }).list = undefined;
  }

  /** Reads (get + getObject), optionally only of keys matching `filter` (a prefix or a predicate). */
  reads(filter?: string | ((key: string) => boolean)): number {
    return this.count(["get", "getObject"], filter);
  }

  /** Writes (put + delete), optionally only of matching keys. */
  writes(filter?: string | ((key: string) => boolean)): number {
    return this.count(["put", "delete"], filter);
  }

  /** Calls of some ops, optionally only of matching keys. */
  count(ops: readonly CountedOp[], filter?: string | ((key: string) => boolean)): number {
    const match = typeof filter === "string" ? (k: string) => k.startsWith(filter) : filter ?? (() => true);
    return this.calls.filter((c) => ops.includes(c.op) && match(c.key)).length;
  }

  /** Keys read, in order. */
  readKeys(): string[] {
    return this.calls.filter((c) => c.op === "get" || c.op === "getObject").map((c) => c.key);
  }

  /** Forget the calls seen so far. */
  reset(): void {
    this.calls.length = 0;
  }

  get(key: string, opts?: GetOptions): Promise<Uint8Array | undefined> {
    this.record("get", key, opts);
    return this.inner.get(key, opts);
  }

  getObject(key: string, opts?: GetOptions): Promise<StoredObject | undefined> {
    this.record("getObject", key, opts);
    return this.inner.getObject!(key, opts);
  }

  put(key: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    this.record("put", key);
    return this.inner.put!(key, data, opts);
  }

  delete(key: string): Promise<void> {
    this.record("delete", key);
    return this.inner.delete!(key);
  }

  exists(key: string): Promise<boolean> {
    this.record("exists", key);
    return this.inner.exists!(key);
  }

  list(prefix: string = ""): AsyncIterable<string> {
    this.record("list", prefix);
    return this.inner.list!(prefix);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private record(op: CountedOp, key: string, opts?: GetOptions): void {
    this.calls.push(opts?.range ? { op, key, range: opts.range } : { op, key });
  }
}

/**
 * `plugin` with every store it creates wrapped in a CountingStore, each pushed to
 * `stores` as it is made (the last one is usually the volume's).
 */
export function countingStorage(plugin: StoragePlugin, stores: CountingStore[] = []): StoragePlugin & { stores: CountingStore[] } {
  return {
    kind: "storage",
    protocols: plugin.protocols,
    package: plugin.package,
    stores,
    async load(): Promise<StorageFactory> {
      const factory = await plugin.load();
      return async (url, ctx) => {
        const store = new CountingStore(await factory(url, ctx));
        stores.push(store);
        return store;
      };
    },
  };
}
