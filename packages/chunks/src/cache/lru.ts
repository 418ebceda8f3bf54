import { CloudVolumeError } from "@cloudvolume/core";

/** What the byte-budgeted LRU holds: bytes in some typed-array form. */
export type LruValue = ArrayBufferView | ArrayBuffer;

/**
 * A least-recently-used map with a budget in bytes, the counterpart of CloudVolume's
 * `LRU(size, size_in_bytes=True)` (cloudvolume/lru.py) behind `vol.lru`.
 *
 * Byte accounting is exact where CloudVolume's is an estimate: `nbytes` is the sum of the
 * `byteLength` of the values held, and every value held owns its whole buffer. A view
 * into a larger buffer (a `subarray`, a typed array over part of an ArrayBuffer, a
 * DataView) is copied into a buffer of its own when it is stored, so holding it never
 * keeps the larger buffer alive behind the count. Python's `sys.getsizeof` counts a
 * numpy view's header and not its data, and re-setting an existing key there leaves the
 * old size in `nbytes`; neither happens here.
 *
 * Budget rules (as CloudVolume): 0 disables the LRU (`set` keeps nothing), `resize` to
 * a smaller budget evicts least-recently-used entries until the rest fits. One
 * difference: a value larger than the whole budget is not stored (CloudVolume stores it
 * and then evicts everything, itself last), so it does not flush the other entries.
 */
export class LRU<K = string> {
  /** Insertion order of a Map is recency order here: every hit re-inserts, so the first key is the least recently used. */
  private readonly entries = new Map<K, LruValue>();
  private budget: number;
  private used = 0;

  constructor(size = 0) {
    this.budget = checkSize(size);
  }

  /** The budget in bytes (CloudVolume's `lru.size`). */
  get size(): number {
    return this.budget;
  }

  /** Number of entries (CloudVolume's `len(lru)`). */
  get length(): number {
    return this.entries.size;
  }

  /** Bytes held: the sum of the values' byteLength, each value owning its buffer. */
  get nbytes(): number {
    return this.used;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value, marking it most recently used; undefined when absent. */
  get(key: K): LruValue | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  /** The value without changing its recency. */
  peek(key: K): LruValue | undefined {
    return this.entries.get(key);
  }

  /**
   * Store `value` as the most recently used entry, replacing any value of `key`, then
   * evict least-recently-used entries until `nbytes <= size`. Returns false when nothing
   * was stored (the LRU is off, or the value alone exceeds the budget).
   */
  set(key: K, value: LruValue): boolean {
    this.delete(key);
    const owned = ownBuffer(value);
    const bytes = owned.byteLength;
    if (this.budget === 0 || bytes > this.budget) return false;
    this.entries.set(key, owned);
    this.used += bytes;
    this.evict();
    return true;
  }

  /** Remove one entry; true when it was there. */
  delete(key: K): boolean {
    const v = this.entries.get(key);
    if (v === undefined) return false;
    this.entries.delete(key);
    this.used -= v.byteLength;
    return true;
  }

  /** Remove and return one entry (CloudVolume's `lru.pop`). */
  pop(key: K): LruValue | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) this.delete(key);
    return v;
  }

  /** Remove every entry whose key matches; returns how many went. */
  deleteWhere(pred: (key: K) => boolean): number {
    let n = 0;
    for (const k of [...this.entries.keys()]) if (pred(k) && this.delete(k)) n++;
    return n;
  }

  /** Change the budget. A smaller one evicts least-recently-used entries; 0 empties and disables the LRU. */
  resize(size: number): void {
    this.budget = checkSize(size);
    if (this.budget === 0) this.clear();
    else this.evict();
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  /** [key, value] pairs from least to most recently used. */
  entriesInOrder(): IterableIterator<[K, LruValue]> {
    return this.entries.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, LruValue]> {
    return this.entries.entries();
  }

  private evict(): void {
    if (this.used <= this.budget) return;
    for (const [k, v] of this.entries) {
      this.entries.delete(k);
      this.used -= v.byteLength;
      if (this.used <= this.budget) break;
    }
  }
}

function checkSize(size: number): number {
  if (typeof size !== "number" || !Number.isFinite(size) || size < 0) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `the LRU budget must be a non-negative number of bytes, got ${String(size)}`);
  }
  return Math.floor(size);
}

/**
 * `value` if it owns its whole buffer, else a copy that does: a view held by the LRU
 * must not keep a larger buffer alive (or share memory someone else may overwrite).
 * Shared buffers are copied too, for the second reason.
 */
function ownBuffer(value: LruValue): LruValue {
  if (value instanceof ArrayBuffer) return value;
  if (!ArrayBuffer.isView(value)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", "the LRU holds typed arrays, DataViews or ArrayBuffers");
  }
  const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer;
  if (whole) return value;
  const copy = new ArrayBuffer(value.byteLength);
  new Uint8Array(copy).set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (value instanceof DataView) return new DataView(copy);
  const Ctor = value.constructor as new (buffer: ArrayBuffer) => ArrayBufferView;
  return new Ctor(copy);
}
