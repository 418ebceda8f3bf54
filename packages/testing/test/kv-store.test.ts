import { describe, expect, it } from "vitest";
import { CloudVolumeError, checkKey, resolveRange, type GetOptions, type KeyValueStore, type PutOptions, type StoredObject } from "@cloudvolume/core";
import { describeKeyValueStore, keyValueStoreChecks } from "../src/kv-store.js";

/**
 * Tests of the conformance suite itself: a small correct store passes every check,
 * and for every check there is a store with one planted bug that fails it. A check
 * that no bug can fail would pass for any store and prove nothing.
 */

type Bug =
  | "capabilities"
  | "missingIsEmpty"
  | "dropsLastByte"
  | "aliasesBuffers"
  | "ignoresOverwrite"
  | "ignoresRange"
  | "padsPastEnd"
  | "dropsFragment"
  | "noKeyCheck"
  | "listIgnoresPrefix"
  | "listRelativeToPrefix"
  | "deleteIsNoop"
  | "deleteMissingThrows"
  | "existsAlways"
  | "tornWrites"
  | "ignoresAbort"
  | "dropsEncoding"
  | "keepsStaleVariant";

class ReferenceStore implements KeyValueStore {
  readonly url = "ref://";
  readonly capabilities: { write: boolean; list: boolean; rangeReads: boolean };
  private readonly objects = new Map<string, { data: Uint8Array; enc?: string }>();

  constructor(private readonly bug?: Bug, writable = true) {
    this.capabilities = { write: writable, list: true, rangeReads: true };
    if (bug === "capabilities") (this as { list?: unknown }).list = undefined;
  }

  private key(key: string): string {
    if (this.bug === "noKeyCheck") return key;
    const k = checkKey(key);
    return this.bug === "dropsFragment" ? k.split("#")[0] : k;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    return (await this.getObject(key, opts))?.data;
  }

  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    if (opts.signal?.aborted && this.bug !== "ignoresAbort") throw new CloudVolumeError("ABORTED", "aborted");
    const obj = this.objects.get(this.key(key));
    if (!obj) return this.bug === "missingIsEmpty" ? { data: new Uint8Array(0) } : undefined;
    let data: Uint8Array;
    if (!opts.range || this.bug === "ignoresRange") {
      data = this.bug === "aliasesBuffers" ? obj.data : obj.data.slice();
    } else if (this.bug === "padsPastEnd" && "offset" in opts.range) {
      data = new Uint8Array(opts.range.length);
      data.set(obj.data.subarray(opts.range.offset, opts.range.offset + opts.range.length));
    } else {
      data = obj.data.slice(...resolveRange(opts.range, obj.data.byteLength));
    }
    return obj.enc === undefined ? { data } : { data, contentEncoding: obj.enc };
  }

  async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    const k = this.key(key);
    const existing = this.objects.get(k);
    const enc = this.bug === "dropsEncoding" ? undefined : opts.contentEncoding;
    if (existing && this.bug === "ignoresOverwrite") return;
    if (existing && this.bug === "keepsStaleVariant" && existing.enc !== enc) return;
    if (this.bug === "tornWrites") {
      // Truncate, then append in pieces with yields between: O_TRUNC + write() without a rename.
      this.objects.set(k, { data: new Uint8Array(0), enc });
      for (let i = 0; i < data.byteLength; i += 1024) {
        await Promise.resolve();
        const cur = this.objects.get(k)!.data;
        const next = new Uint8Array(cur.byteLength + Math.min(1024, data.byteLength - i));
        next.set(cur);
        next.set(data.subarray(i, i + 1024), cur.byteLength);
        this.objects.set(k, { data: next, enc });
      }
      return;
    }
    let copy = this.bug === "aliasesBuffers" ? data : data.slice();
    if (this.bug === "dropsLastByte" && copy.byteLength > 0) copy = copy.subarray(0, -1);
    this.objects.set(k, { data: copy, enc });
  }

  async delete(key: string): Promise<void> {
    const k = this.key(key);
    if (this.bug === "deleteMissingThrows" && !this.objects.has(k)) throw new Error("no such key");
    if (this.bug !== "deleteIsNoop") this.objects.delete(k);
  }

  async exists(key: string): Promise<boolean> {
    return this.bug === "existsAlways" || this.objects.has(this.key(key));
  }

  async *list(prefix: string): AsyncGenerator<string> {
    if (this.bug !== "noKeyCheck" && prefix !== "") checkKey(prefix);
    for (const k of [...this.objects.keys()]) {
      if (this.bug === "listIgnoresPrefix") yield k;
      else if (k.startsWith(prefix)) yield this.bug === "listRelativeToPrefix" ? k.slice(prefix.length) : k;
    }
  }
}

/** The planted bugs that each check must catch. */
const CAUGHT_BY: Record<string, Bug[]> = {
  "capability flags match the methods the store has": ["capabilities"],
  "a missing key reads as undefined, not an error": ["missingIsEmpty"],
  "put then get returns the same bytes": ["dropsLastByte"],
  "stored bytes do not alias the caller's buffers": ["aliasesBuffers"],
  "put overwrites an existing value completely": ["ignoresOverwrite"],
  "full, ranged, suffix and zero-length reads": ["ignoresRange"],
  "ranges past the end are clipped": ["padsPastEnd"],
  "keys with spaces, #, %, ?, unicode and nested directories round-trip": ["dropsFragment"],
  "keys that would escape the root are rejected with PERMISSION_DENIED": ["noKeyCheck"],
  "list returns exactly the keys under a prefix, relative to the root": ["listIgnoresPrefix", "listRelativeToPrefix"],
  "delete removes a key; deleting a missing key is not an error": ["deleteIsNoop", "deleteMissingThrows"],
  "exists reports presence": ["existsAlways"],
  "100 concurrent writes to one key leave one complete value": ["tornWrites"],
  "an already-aborted signal rejects with ABORTED": ["ignoresAbort"],
  "getObject reports the contentEncoding a value was put with": ["dropsEncoding", "keepsStaleVariant"],
};

// The whole suite, as a store package runs it.
describeKeyValueStore("reference", () => new ReferenceStore());
// A read-only store: the write-dependent checks must be reported as skipped, not passed.
describeKeyValueStore("reference, read-only", () => new ReferenceStore(undefined, false));
// A read-only store with a seed hook (how the HTTP store runs the suite): the read checks run on seeded values.
describeKeyValueStore("reference, read-only, seeded", () => new ReferenceStore(undefined, false), {
  seed: async (store, entries) => {
    for (const { key, data } of entries) await (store as ReferenceStore).put(key, data);
  },
});

describe("the key-value conformance checks", () => {
  it("every check has at least one planted bug it must catch", () => {
    expect(Object.keys(CAUGHT_BY).sort()).toEqual(keyValueStoreChecks.map((c) => c.name).sort());
  });

  it("a seeded read-only store runs the read checks, and they still catch a planted bug", async () => {
    const seeded = keyValueStoreChecks.filter((c) => c.needs.includes("data"));
    expect(seeded.map((c) => c.name)).toContain("full, ranged, suffix and zero-length reads");
    const store = new ReferenceStore("ignoresRange", false);
    const seed = async (_: unknown, entries: ReadonlyArray<{ key: string; data: Uint8Array }>) => {
      for (const { key, data } of entries) await store.put(key, data);
    };
    const check = keyValueStoreChecks.find((c) => c.name === "full, ranged, suffix and zero-length reads")!;
    await expect(check.run(store, seed)).rejects.toThrow();
    await check.run(new ReferenceStore(undefined, false), async (s, entries) => {
      for (const { key, data } of entries) await (s as ReferenceStore).put(key, data);
    });
  });

  for (const check of keyValueStoreChecks) {
    for (const bug of CAUGHT_BY[check.name] ?? []) {
      it(`"${check.name}" fails a store that ${bug}`, async () => {
        let failed = false;
        try {
          await check.run(new ReferenceStore(bug));
        } catch {
          failed = true;
        }
        expect(failed).toBe(true);
      });
    }
  }
});
