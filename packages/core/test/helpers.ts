import { expect } from "vitest";
import { isCloudVolumeError, type ErrorCode } from "../src/errors.js";

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): { int(lo: number, hi: number): number; next(): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** Integer in [lo, hi] inclusive. */
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { int, next };
}

/** Assert that `fn` throws a CloudVolumeError with `code`; returns the error. */
export function expectCode(fn: () => unknown, code: ErrorCode): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected a ${code} error`).toBeDefined();
  expect(isCloudVolumeError(thrown), `expected a CloudVolumeError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
  return thrown as Error;
}

/** Assert that `p` rejects with a CloudVolumeError with `code`; returns the error. */
export async function expectRejectCode(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let thrown: unknown;
  let resolved = false;
  try {
    await p;
    resolved = true;
  } catch (e) {
    thrown = e;
  }
  expect(resolved, `expected rejection with ${code}`).toBe(false);
  expect(isCloudVolumeError(thrown), `expected a CloudVolumeError, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
  return thrown as Error;
}

export const tick = () => new Promise<void>((r) => setTimeout(r, 0));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
