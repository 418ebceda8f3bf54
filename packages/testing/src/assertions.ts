import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "vitest";
import { isCloudVolumeError, type CloudVolumeError, type ErrorCode } from "@cloudvolume/core";

/**
 * Await `p` (or call it) and assert it fails with a CloudVolumeError of `code`,
 * whose message contains `message` (string) or matches it (RegExp). Returns the
 * error so callers can check `key`, `url`, and the like.
 */
export async function expectRejects(p: Promise<unknown> | (() => unknown), code: ErrorCode, message?: string | RegExp): Promise<CloudVolumeError> {
  let error: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}, but it succeeded`).toBeDefined();
  expect(isCloudVolumeError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  if (typeof message === "string") expect((error as Error).message).toContain(message);
  else if (message) expect((error as Error).message).toMatch(message);
  return error as CloudVolumeError;
}

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

const execFileAsync = promisify(execFile);

/**
 * Run a Node script (e.g. the built dist/cli.js) in a child process, as a user
 * would, and return its exit code and output instead of throwing on failure.
 */
export async function runNodeScript(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ScriptResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [script, ...args], { encoding: "utf8", env: opts.env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
