import { describe, expect, it } from "vitest";
import { loadAddon } from "@cloudvolume/native";

const compressoSrc = new URL("../../codec-compresso/src/native.ts", import.meta.url).href;

describe("loadAddon", () => {
  it("loads a built addon relative to the calling module", () => {
    const r = loadAddon<{ decode: unknown }>(compressoSrc, "compresso", "rebuild it");
    if (process.env.CI) expect(r.addon, r.why).toBeDefined();
    if (r.addon) {
      expect(typeof r.addon.decode).toBe("function");
      expect(r.why).toMatch(/build\/Release\/compresso\.node/);
    }
  });

  it("says what it tried and how to fix it when the addon is missing", () => {
    const r = loadAddon(import.meta.url, "no-such-addon", "run `pnpm rebuild @example/x`");
    expect(r.addon).toBeUndefined();
    expect(r.why).toContain("../build/Release/no-such-addon.node");
    expect(r.why).toContain("../../build/Release/no-such-addon.node");
    expect(r.why).toMatch(/run `pnpm rebuild @example\/x`$/);
  });

  it("honours CLOUDVOLUME_NO_NATIVE", () => {
    process.env.CLOUDVOLUME_NO_NATIVE = "1";
    try {
      const r = loadAddon(compressoSrc, "compresso", "x");
      expect(r.addon).toBeUndefined();
      expect(r.why).toBe("CLOUDVOLUME_NO_NATIVE is set");
    } finally {
      delete process.env.CLOUDVOLUME_NO_NATIVE;
    }
  });
});
