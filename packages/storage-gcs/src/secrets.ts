import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CloudVolumeError } from "@cloudvolume/core";

/**
 * Google credentials as CloudVolume takes them: a parsed key file (service account or
 * authorized user), the same as a JSON string, or an OAuth2 access token (a string
 * that is not JSON, or `{ token }` / `{ access_token }`).
 */
export type GoogleSecrets = string | Record<string, unknown>;

export type ResolvedGoogleCredentials =
  /** A key file's JSON, handed to google-auth-library. */
  | { kind: "credentials"; credentials: Record<string, unknown>; projectId?: string; source: string }
  /** A bearer token, sent as is. */
  | { kind: "token"; token: string; source: string }
  /** Nothing configured: the library's default credentials (or none, against a custom endpoint). */
  | { kind: "default"; source: "default" };

export interface ResolveOptions {
  /** Explicit secrets (the `secrets` option); files are not read when given. */
  secrets?: GoogleSecrets;
  /** Environment to read CLOUD_VOLUME_DIR from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Home directory (default os.homedir()). */
  home?: string;
}

/**
 * Where CloudVolume keeps secrets: `$CLOUD_VOLUME_DIR/secrets`, default
 * `~/.cloudvolume/secrets`, then CloudFiles' `~/.cloudfiles/secrets` (CloudFiles'
 * secretpath() falls back the same way).
 */
export function secretDirectories(opts: Pick<ResolveOptions, "env" | "home"> = {}): string[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const primary = env.CLOUD_VOLUME_DIR ? join(env.CLOUD_VOLUME_DIR, "secrets") : join(home, ".cloudvolume", "secrets");
  return [primary, join(home, ".cloudfiles", "secrets")];
}

/**
 * Credentials for `bucket`: the `secrets` option if given, else the first of
 * `<bucket>-google-secret.json` and `google-secret.json` found in the secret
 * directories (bucket-specific first, as CloudFiles' google_credentials does), else
 * the library defaults. Errors name the file, never its content.
 */
export function resolveGoogleCredentials(bucket: string, opts: ResolveOptions = {}): ResolvedGoogleCredentials {
  if (opts.secrets !== undefined && opts.secrets !== null) return fromValue(opts.secrets, "the secrets option");
  const names = bucket ? [`${bucket}-google-secret.json`, "google-secret.json"] : ["google-secret.json"];
  for (const name of names) {
    for (const dir of secretDirectories(opts)) {
      const path = join(dir, name);
      if (!existsSync(path)) continue;
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (cause) {
        throw new CloudVolumeError("PERMISSION_DENIED", `cannot read the Google secret file ${path}: ${(cause as NodeJS.ErrnoException).code ?? "read error"}`, { url: path });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Never echo the content: it is a secret, and JSON.parse's message quotes it.
        throw new CloudVolumeError("INVALID_ARGUMENT", `the Google secret file ${path} is not valid JSON`, { url: path });
      }
      return fromValue(parsed as GoogleSecrets, path);
    }
  }
  return { kind: "default", source: "default" };
}

function fromValue(secrets: GoogleSecrets, source: string): ResolvedGoogleCredentials {
  if (typeof secrets === "string") {
    const s = secrets.trim();
    if (s.startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        throw new CloudVolumeError("INVALID_ARGUMENT", `Google secrets from ${source} look like JSON but do not parse`);
      }
      return fromValue(parsed as Record<string, unknown>, source);
    }
    if (s === "") throw new CloudVolumeError("INVALID_ARGUMENT", `Google secrets from ${source} are an empty string`);
    return { kind: "token", token: s, source };
  }
  if (typeof secrets !== "object" || secrets === null || Array.isArray(secrets)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `Google secrets from ${source} must be a key file object, its JSON, or an access token string`);
  }
  const token = secrets.token ?? secrets.access_token;
  if (typeof token === "string" && token !== "") return { kind: "token", token, source };
  if (typeof secrets.type !== "string" && typeof secrets.private_key !== "string" && typeof secrets.refresh_token !== "string") {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `Google secrets from ${source} are neither a service account / authorized user key file (no "type", "private_key" or "refresh_token") nor a token`,
    );
  }
  const projectId = typeof secrets.project_id === "string" ? secrets.project_id : typeof secrets.quota_project_id === "string" ? secrets.quota_project_id : undefined;
  return { kind: "credentials", credentials: secrets, projectId, source };
}

/** The strings to scrub from anything we report: the token, private key and refresh token. */
export function secretValues(c: ResolvedGoogleCredentials): string[] {
  if (c.kind === "token") return [c.token];
  if (c.kind === "credentials") {
    return ["private_key", "refresh_token", "client_secret", "private_key_id"]
      .map((k) => c.credentials[k])
      .filter((v): v is string => typeof v === "string" && v.length >= 8);
  }
  return [];
}
