import { describe, expect, it } from "vitest";
import { checkKey, joinKey, resolveRange } from "../src/storage.js";
import { expectCode } from "./helpers.js";

describe("checkKey", () => {
  it("rejects keys that escape the root", () => {
    for (const k of ["..", "a/../..", "a/..", "../a", "./a", "a/./b", "/abs", "/", "a\\b", "..\\..\\x", "a/b\\..", "a\0b"]) {
      const e = expectCode(() => checkKey(k, "file:///root"), "PERMISSION_DENIED");
      expect((e as unknown as { url: string }).url).toBe("file:///root");
      expect((e as unknown as { key: string }).key).toBe(k);
    }
  });

  it("rejects non-strings", () => {
    expectCode(() => checkKey(5 as never), "INVALID_ARGUMENT");
  });

  it("normalises empty segments", () => {
    expect(checkKey("a//b")).toBe("a/b");
    expect(checkKey("a///b//c/")).toBe("a/b/c");
    expect(checkKey("info")).toBe("info");
    expect(checkKey("8_8_8/0-64_0-64_0-64")).toBe("8_8_8/0-64_0-64_0-64");
  });

  it("allows dots inside names", () => {
    expect(checkKey("a/..b/c..")).toBe("a/..b/c..");
    expect(checkKey(".hidden/...")).toBe(".hidden/...");
  });
});

describe("joinKey", () => {
  it("joins with single slashes", () => {
    expect(joinKey("a", "b")).toBe("a/b");
    expect(joinKey("a/", "/b", "", "c")).toBe("a/b/c");
    expect(joinKey("", "x")).toBe("x");
  });
});

describe("resolveRange", () => {
  it("offset + length", () => {
    expect(resolveRange({ offset: 2, length: 3 }, 10)).toEqual([2, 5]);
    expect(resolveRange({ offset: 0, length: 10 }, 10)).toEqual([0, 10]);
  });
  it("clips ranges running past the end", () => {
    expect(resolveRange({ offset: 8, length: 5 }, 10)).toEqual([8, 10]);
    expect(resolveRange({ offset: 12, length: 5 }, 10)).toEqual([10, 10]);
    expect(resolveRange({ offset: 10, length: 0 }, 10)).toEqual([10, 10]);
  });
  it("suffix ranges", () => {
    expect(resolveRange({ suffixLength: 4 }, 10)).toEqual([6, 10]);
    expect(resolveRange({ suffixLength: 10 }, 10)).toEqual([0, 10]);
    expect(resolveRange({ suffixLength: 25 }, 10)).toEqual([0, 10]);
    expect(resolveRange({ suffixLength: 0 }, 10)).toEqual([10, 10]);
  });
  it("rejects negative or fractional values", () => {
    expectCode(() => resolveRange({ offset: -1, length: 3 }, 10), "INVALID_ARGUMENT");
    expectCode(() => resolveRange({ offset: 1, length: -3 }, 10), "INVALID_ARGUMENT");
    expectCode(() => resolveRange({ suffixLength: -2 }, 10), "INVALID_ARGUMENT");
    expectCode(() => resolveRange({ offset: 1.5, length: 3 }, 10), "INVALID_ARGUMENT");
    expectCode(() => resolveRange({ offset: NaN, length: 3 }, 10), "INVALID_ARGUMENT");
  });
});
