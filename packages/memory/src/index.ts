/*
 * Large buffers on transparent huge pages, recycled when collected (native/hugepages.cc),
 * for the outputs a cutout allocates: CloudVolume's Node entry passes
 * `hugePageAllocator()` to its Context.
 * Where the addon is missing (another OS, a failed build, CLOUDVOLUME_NO_NATIVE=1) or
 * the kernel declines, allocations are ordinary ones.
 */
import { lazyAddon } from "@cloudvolume/native";

interface NativeMemory {
  allocate(bytes: number): ArrayBuffer | undefined;
  stats(): MemoryStats;
  hugePageBytes: number;
}

/** Mappings made, allocations served from recycled mappings, and bytes held idle now. */
export interface MemoryStats {
  mapped: number;
  reused: number;
  idleBytes: number;
}

const addon = lazyAddon<NativeMemory>(import.meta.url, "hugepages", "run `pnpm rebuild @cloudvolume/memory` with g++, make and python3 installed");

/** Below this a buffer is left to the ordinary allocator (a few huge pages at least). */
export const HUGE_PAGE_THRESHOLD = 8 << 20;

/**
 * An allocator for Context's `allocate` option: a zeroed ArrayBuffer of `bytes` on huge
 * pages, or undefined (the caller allocates normally) for small sizes or when the
 * mapping fails. Undefined itself when the addon is not built.
 */
export function hugePageAllocator(): ((bytes: number) => ArrayBuffer | undefined) | undefined {
  const native = addon.get();
  if (!native) return undefined;
  return (bytes) => (bytes >= HUGE_PAGE_THRESHOLD ? native.allocate(bytes) : undefined);
}

/** Whether the huge-page allocator is available, and where from or why not. */
export function memoryBackend(): { backend: "huge-pages" | "default"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: loaded ? "huge-pages" : "default", why };
}

/** The allocator's counters (all zero without the addon). */
export function memoryStats(): MemoryStats {
  return addon.get()?.stats() ?? { mapped: 0, reused: 0, idleBytes: 0 };
}
