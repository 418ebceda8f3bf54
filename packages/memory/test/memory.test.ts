import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LARGE_BUFFER_THRESHOLD, largeBufferAllocator, memoryBackend, memoryStats } from "@cloudvolume/memory";

/**
 * The recycling allocator: large buffers are zeroed, exactly sized and
 * writable; small ones are left to the ordinary allocator; a collected buffer's mapping
 * serves the next allocation, zeroed again (checked in a child process that can force a
 * garbage collection).
 */
const allocate = largeBufferAllocator();
if (process.env.CI && !allocate) throw new Error(`@cloudvolume/memory addon missing under CI: ${memoryBackend().why}`);

describe.skipIf(!allocate)("recycling allocator", () => {
  it("zeroed, exactly sized, writable buffers at and above the threshold; none below", () => {
    expect(allocate!(LARGE_BUFFER_THRESHOLD - 1)).toBeUndefined();
    for (const bytes of [LARGE_BUFFER_THRESHOLD, LARGE_BUFFER_THRESHOLD + 12345, 3 * LARGE_BUFFER_THRESHOLD]) {
      const buf = allocate!(bytes)!;
      expect(buf).toBeInstanceOf(ArrayBuffer);
      expect(buf.byteLength).toBe(bytes);
      const u = new Uint8Array(buf);
      for (let i = 0; i < bytes; i += 4093) if (u[i] !== 0) throw new Error(`byte ${i} is ${u[i]}`);
      u.fill(0xab);
      expect(u[bytes - 1]).toBe(0xab);
      expect(new BigUint64Array(buf, 0, 4).length).toBe(4); // 8-byte aligned
    }
    expect(memoryStats().mapped).toBeGreaterThan(0);
  });

  it("a collected buffer's mapping is reused for the next one, zeroed", () => {
    // The addon itself, in a fresh process (vitest's cannot force a collection).
    const addon = fileURLToPath(new URL("../build/Release/hugepages.node", import.meta.url));
    const script = `
      const { allocate, stats } = require(${JSON.stringify(addon)});
      let a = new Uint8Array(allocate(24 << 20)); a.fill(0xff); a = null;
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 50));
      globalThis.gc();
      const b = new Uint8Array(allocate(20 << 20));
      let nonzero = 0;
      for (let i = 0; i < b.length; i += 511) if (b[i]) nonzero++;
      console.log(JSON.stringify({ nonzero, ...stats() }));
    `;
    const out = execFileSync(process.execPath, ["--expose-gc", "-e", `(async () => { ${script} })()`], { encoding: "utf8" });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    expect(r.nonzero).toBe(0);
    expect(r.reused).toBe(1);
    expect(r.mapped).toBe(1);
  });
});
