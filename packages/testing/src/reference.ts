import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * The real Python CloudVolume 12.14.4 (../shared/reference/cloudvolume, installed by
 * .ci/run into /opt/cloudvolume-reference): its interpreter and environment, for tests
 * that check what CloudVolume reads back from us. Undefined when it is not installed; under
 * CI=true tests must then fail, not skip (`requireReference`).
 */
export const REFERENCE_DIR = process.env.CLOUDVOLUME_REFERENCE ?? "/opt/cloudvolume-reference";

export interface Reference {
  python: string;
  env: NodeJS.ProcessEnv;
}

export function reference(): Reference | undefined {
  const python = `${REFERENCE_DIR}/venv/bin/python`;
  if (!existsSync(python)) return undefined;
  const lib = `${REFERENCE_DIR}/lib`;
  return { python, env: { ...process.env, PYTHONNOUSERSITE: "1", LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ? `${lib}:${process.env.LD_LIBRARY_PATH}` : lib } };
}

export const NO_REFERENCE = `no reference CloudVolume at ${REFERENCE_DIR}: run bash ../shared/reference/cloudvolume/install.sh`;

/** The reference, or (under CI) an error saying it is missing; undefined means skip. */
export function requireReference(): Reference | undefined {
  const r = reference();
  if (!r && process.env.CI) throw new Error(NO_REFERENCE);
  return r;
}

/** Run a Python script with the reference interpreter; returns its stdout. */
export function runReference(r: Reference, script: string, args: string[] = []): string {
  return execFileSync(r.python, ["-c", script, ...args], { env: r.env, encoding: "utf8", maxBuffer: 64 << 20 });
}
