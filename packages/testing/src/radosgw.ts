import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";

/**
 * The local S3 server the S3 tests run against: Ceph's radosgw, started by
 * scripts/start-radosgw.sh (which .ci/run calls). The script writes
 * `<repo>/.tmp/radosgw.env`; RADOSGW_ENDPOINT / RADOSGW_ACCESS_KEY_ID /
 * RADOSGW_SECRET_ACCESS_KEY in the environment win over that file.
 */
export interface RadosgwEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const RADOSGW_ENV_FILE = resolve(REPO_ROOT, ".tmp", "radosgw.env");

/** The running radosgw's endpoint and test keys, or undefined when none was started. */
export function radosgwEnv(): RadosgwEnv | undefined {
  const vars: Record<string, string | undefined> = {};
  if (existsSync(RADOSGW_ENV_FILE)) {
    for (const line of readFileSync(RADOSGW_ENV_FILE, "utf8").split("\n")) {
      const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) vars[m[1]] = m[2].trim();
    }
  }
  const endpoint = process.env.RADOSGW_ENDPOINT || vars.RADOSGW_ENDPOINT;
  const accessKeyId = process.env.RADOSGW_ACCESS_KEY_ID || vars.RADOSGW_ACCESS_KEY_ID;
  const secretAccessKey = process.env.RADOSGW_SECRET_ACCESS_KEY || vars.RADOSGW_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) return undefined;
  return { endpoint, accessKeyId, secretAccessKey };
}

export const RADOSGW_FAILURE_FILE = resolve(REPO_ROOT, ".tmp", "radosgw.failed");

/** Why there is no radosgw: the start script's own account of its last failure, when it left one. */
function missingMessage(): string {
  const base = `no radosgw: run scripts/start-radosgw.sh (it writes ${RADOSGW_ENV_FILE})`;
  if (!existsSync(RADOSGW_FAILURE_FILE)) return base;
  return `${base}\nthe last start failed:\n${readFileSync(RADOSGW_FAILURE_FILE, "utf8").slice(-4000)}`;
}

/**
 * `describe` for tests that need radosgw. Without one, CI (CI=true) gets a FAILING test
 * saying so (a CI run must never pass by skipping its S3 tests); elsewhere the block
 * is reported as skipped with the same message.
 */
export function describeRadosgw(name: string, fn: (env: RadosgwEnv) => void): void {
  const env = radosgwEnv();
  if (env) {
    describe(name, () => fn(env));
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it("needs a running radosgw", () => {
        throw new Error(missingMessage());
      });
    });
  } else {
    describe.skip(`${name} (no radosgw: run scripts/start-radosgw.sh)`, () => {
      it("needs a running radosgw", () => undefined);
    });
  }
}

/** A bucket name no other run uses (S3 rules: 3-63 chars of a-z, 0-9 and -). */
export function uniqueBucketName(prefix = "cv-test"): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}-${Date.now().toString(36)}-${process.pid.toString(36)}-${rand}`.toLowerCase().slice(0, 63);
}
