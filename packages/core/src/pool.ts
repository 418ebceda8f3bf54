/**
 * Reuses decode buffers by exact size. Chunks of one scale mostly share a size,
 * so a cutout decodes into a handful of buffers instead of one allocation per chunk.
 */
export class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>();
  /** Buffers currently in `free`, so a double release cannot hand one buffer to two users. */
  private readonly pooled = new WeakSet<Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  acquire(size: number): Uint8Array {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.pooled.delete(buf);
      this.bytes -= size;
      return buf;
    }
    return new Uint8Array(size);
  }

  release(buf: Uint8Array): void {
    // Only whole, unshared buffers are pooled; views into larger buffers are dropped.
    if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return;
    if (this.pooled.has(buf)) return;
    if (this.bytes + buf.byteLength > this.maxBytes) return;
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, (list = []));
    list.push(buf);
    this.pooled.add(buf);
    this.bytes += buf.byteLength;
  }

  clear(): void {
    for (const list of this.free.values()) for (const b of list) this.pooled.delete(b);
    this.free.clear();
    this.bytes = 0;
  }
}
