/*
 * Large buffers recycled when collected (native/hugepages.cc; transparent huge pages with
 * CLOUDVOLUME_HUGEPAGES=1), for the outputs a cutout allocates: CloudVolume's Node entry
 * passes `largeBufferAllocator()` to its Context. Where the addon is missing (another OS,
 * a failed build, CLOUDVOLUME_NO_NATIVE=1) or a mapping fails, allocations are ordinary.
 */
import { lazyAddon } from "@cloudvolume/native";

interface NativeMemory {
  allocate(bytes: number): ArrayBuffer | undefined;
  stats(): MemoryStats;
  hugePages: boolean;
}

/** Mappings made, allocations served from recycled mappings, and bytes held idle now. */
export interface MemoryStats {
  mapped: number;
  reused: number;
  idleBytes: number;
}

const addon = lazyAddon<NativeMemory>(import.meta.url, "hugepages", "run `pnpm rebuild @cloudvolume/memory` with g++, make and python3 installed");

/** Below this a buffer is left to the ordinary allocator. */
export const LARGE_BUFFER_THRESHOLD = 8 << 20;

/**
 * An allocator for Context's `allocate` option: a zeroed ArrayBuffer of `bytes` from a
 * recycled mapping, or undefined (the caller allocates normally) for small sizes or when
 * no mapping can be made. Undefined itself when the addon is not built.
 */
export function largeBufferAllocator(): ((bytes: number) => ArrayBuffer | undefined) | undefined {
  const native = addon.get();
  if (!native) return undefined;
  return (bytes) => (bytes >= LARGE_BUFFER_THRESHOLD ? native.allocate(bytes) : undefined);
}

/** Whether the allocator is available (and with huge pages), and where from or why not. */
export function memoryBackend(): { backend: "recycled" | "recycled, huge pages" | "default"; why: string } {
  const { loaded, why } = addon.status();
  return { backend: !loaded ? "default" : addon.get()!.hugePages ? "recycled, huge pages" : "recycled", why };
}

/** The allocator's counters (all zero without the addon). */
export function memoryStats(): MemoryStats {
  return addon.get()?.stats() ?? { mapped: 0, reused: 0, idleBytes: 0 };
}
