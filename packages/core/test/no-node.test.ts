import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("the package source uses no Node built-ins (it must bundle for browsers)", () => {
  const dir = new URL("../src/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), "utf8");
    expect(text, f).not.toMatch(/from\s+["']node:|import\(["']node:|require\(|\bprocess\.|\bBuffer\.\w+\(/);
  }
});
