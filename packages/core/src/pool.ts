/**
 * Reuses decode buffers by exact size. Chunks of one scale mostly share a size,
 * so a cutout decodes into a handful of buffers instead of one allocation per chunk.
 */
export class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>();
  private bytes = 0;

  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  acquire(size: number): Uint8Array {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.bytes -= size;
      return buf;
    }
    return new Uint8Array(size);
  }

  release(buf: Uint8Array): void {
    // Only whole, unshared buffers are pooled; views into larger buffers are dropped.
    if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return;
    if (this.bytes + buf.byteLength > this.maxBytes) return;
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, (list = []));
    list.push(buf);
    this.bytes += buf.byteLength;
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}
