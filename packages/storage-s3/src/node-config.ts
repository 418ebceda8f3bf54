import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CloudVolumeError } from "@cloudvolume/core";
import { buildAliasTable, parseSecrets, secretFileNames, type AliasTable, type S3Location } from "./common.js";
import type { FoundCredentials } from "./factory.js";

/**
 * Node-only configuration: CloudVolume's directory layout on disk. Read by the Node
 * entry's s3Storage(); the browser entry never imports this file.
 *
 *   $CLOUD_VOLUME_DIR (default ~/.cloudvolume)/aliases.json, then ~/.cloudfiles/aliases.json
 *   $CLOUD_VOLUME_DIR/secrets/<name>, then ~/.cloudfiles/secrets/<name>
 */

function home(): string {
  return process.env.HOME || homedir();
}

/** `opts.cloudVolumeDir`, else $CLOUD_VOLUME_DIR, else ~/.cloudvolume. */
export function cloudVolumeDir(explicit?: string): string {
  if (explicit) return resolve(explicit);
  const env = process.env.CLOUD_VOLUME_DIR;
  return env ? resolve(env) : join(home(), ".cloudvolume");
}

/** CloudFiles' directory (~/.cloudfiles): aliases and secrets are also read from there. */
export function cloudFilesDir(): string {
  return join(home(), ".cloudfiles");
}

/**
 * The alias files, read synchronously: the plugin descriptor must list its protocols
 * when it is created, before anything is awaited. A missing or empty file is no alias;
 * a malformed one is reported in `problems` (and as a process warning by the caller),
 * not thrown, so a broken aliases.json cannot stop file:// or gs:// from working.
 * `extra` (the aliases option) wins over the files, and $CLOUD_VOLUME_DIR over ~/.cloudfiles.
 */
export function readAliasTable(dir: string, extra?: Readonly<Record<string, unknown>>): AliasTable {
  const sources: Array<{ from: string; entries: Readonly<Record<string, unknown>> }> = [];
  const problems: string[] = [];
  // Lowest precedence first: later sources overwrite.
  for (const file of [join(cloudFilesDir(), "aliases.json"), join(dir, "aliases.json")]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // absent or unreadable: no aliases from it
    }
    if (text.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push(`${file} is not valid JSON; its aliases are ignored`);
      continue;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      problems.push(`${file} must hold an object {"alias": {"host": "..."}}; ignored`);
      continue;
    }
    sources.push({ from: file, entries: parsed as Record<string, unknown> });
  }
  if (extra) sources.push({ from: "the aliases option", entries: extra });
  const table = buildAliasTable(sources);
  return { aliases: table.aliases, problems: [...problems, ...table.problems] };
}

/**
 * Credentials for a location, CloudFiles' order: for each candidate name (bucket's
 * file, then the service's; user aliases then the aws files), $CLOUD_VOLUME_DIR/secrets
 * before ~/.cloudfiles/secrets; then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; else
 * anonymous. Each file is read once per plugin instance.
 */
export function secretsLookup(dir: string): (loc: S3Location) => Promise<FoundCredentials> {
  const cache = new Map<string, Promise<FoundCredentials | undefined>>();
  const readOne = (file: string): Promise<FoundCredentials | undefined> => {
    let p = cache.get(file);
    if (!p) {
      p = (async () => {
        if (!existsSync(file)) return undefined;
        let text: string;
        try {
          text = await readFile(file, "utf8");
        } catch (cause) {
          const code = (cause as { code?: string }).code ?? "unreadable";
          throw new CloudVolumeError("PERMISSION_DENIED", `cannot read S3 secrets file ${file} (${code})`);
        }
        return { credentials: parseSecrets(text, file), source: `the secrets in ${file}` };
      })();
      // A failed read is not cached: fixing the file should work without a restart.
      p.catch(() => cache.delete(file));
      cache.set(file, p);
    }
    return p;
  };
  return async (loc) => {
    const dirs = [join(dir, "secrets"), join(cloudFilesDir(), "secrets")];
    for (const name of secretFileNames(loc)) {
      for (const d of dirs) {
        const found = await readOne(join(d, name));
        if (found) return found;
      }
    }
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION } = process.env;
    if (AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY) {
      return {
        credentials: parseSecrets({ AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION }, "the environment"),
        source: "the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables",
      };
    }
    const tried = secretFileNames(loc).join(", ");
    return { source: `anonymous access (no ${tried} in ${dirs.join(" or ")}, no AWS_ACCESS_KEY_ID in the environment)` };
  };
}
