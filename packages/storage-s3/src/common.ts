import { CloudVolumeError, KNOWN_FORMATS, checkKey } from "@cloudvolume/core";

/**
 * Shared by both entries (browser and Node): option types, CloudFiles' alias rules,
 * secrets parsing and cloudpath -> (endpoint, bucket, prefix). No Node built-ins and
 * no AWS SDK here: the descriptor imports this eagerly, the SDK loads with the store.
 */

export const S3_PACKAGE = "@cloudvolume/storage-s3";

/**
 * CloudFiles' official aliases (cloudfiles/paths.py OFFICIAL_ALIASES): `matrix://b/p`
 * is `s3://https://s3-hpcrc.rc.princeton.edu/b/p`, and likewise for tigerdata.
 */
export const OFFICIAL_ALIASES: Readonly<Record<string, string>> = {
  matrix: "https://s3-hpcrc.rc.princeton.edu",
  tigerdata: "https://tigerdata.princeton.edu",
};

/** Protocols an alias may not take over (CloudFiles' BASE_ALLOWED_PROTOCOLS), nor format names. */
const RESERVED = new Set(["gs", "file", "s3", "http", "https", "mem", ...KNOWN_FORMATS]);

/** A name usable as a cloudpath scheme: core's parseUrl lower-cases protocols. */
const ALIAS_NAME = /^[a-z][a-z0-9+.-]*$/;

/** Credentials as CloudVolume's secret files hold them, or in the SDK's own spelling. */
export interface S3SecretsObject {
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
  AWS_DEFAULT_REGION?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
}

/** An S3 secrets object, or that object as a JSON string. */
export type S3Secrets = S3SecretsObject | string;

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region?: string;
}

/** Where an alias points: an S3 endpoint (undefined: AWS) and a path prefix ("" or "bucket/dir/"). */
export interface AliasTarget {
  readonly endpoint?: string;
  readonly prefix: string;
}

export interface S3StorageOptions {
  /**
   * Credentials for every request of this plugin instead of secret files: an object
   * with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (optionally AWS_SESSION_TOKEN,
   * AWS_DEFAULT_REGION), or that object as a JSON string. S3 signs each request with
   * a key pair, so a bare token is refused.
   */
  secrets?: S3Secrets;
  /** Endpoint for `s3://` cloudpaths, e.g. "http://127.0.0.1:7480". Default: AWS. */
  endpoint?: string;
  /** Signing region when neither the secrets nor AWS_DEFAULT_REGION / AWS_REGION give one. Default us-east-1. */
  region?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`). Default: true for every endpoint
   * but AWS's own, where virtual-hosted addressing is the rule.
   */
  forcePathStyle?: boolean;
  /**
   * More aliases, on top of matrix://, tigerdata:// and (under Node) the aliases.json
   * files: name -> host, as CloudFiles' aliases.json writes them (`{ host: "s3://https://host/" }`)
   * or a plain endpoint ("http://127.0.0.1:7480").
   */
  aliases?: Readonly<Record<string, string | { host: string }>>;
  /**
   * Node only: the CloudVolume directory holding `aliases.json` and `secrets/`.
   * Default `$CLOUD_VOLUME_DIR`, else `~/.cloudvolume`.
   */
  cloudVolumeDir?: string;
  /** Give up connecting after this long (ms; retried as UNAVAILABLE). Default 10 000. */
  connectionTimeoutMs?: number;
  /** Give up on a connection idle this long mid-request (ms; retried as UNAVAILABLE). Default 30 000. */
  socketTimeoutMs?: number;
  /** Sockets per endpoint. Default 64: above the Context's default of 32 requests per protocol. */
  maxSockets?: number;
}

/**
 * Parse an alias host. Accepted, as CloudFiles' aliases.json or by hand:
 * `s3://https://host[:port]/[prefix]`, `https://host[:port]/[prefix]` (http too), and
 * `s3://bucket/prefix` (AWS). Anything else (gs://, file://, ...) is not an S3 alias:
 * undefined.
 */
export function parseAliasHost(host: string): AliasTarget | undefined {
  if (typeof host !== "string") return undefined;
  let rest = host.trim();
  let s3 = false;
  if (/^s3:\/\//i.test(rest)) {
    rest = rest.slice(5);
    s3 = true;
  }
  const http = /^(https?:\/\/[^/?#]+)\/*(.*)$/i.exec(rest);
  if (http) return { endpoint: http[1].toLowerCase().startsWith("https") ? `https${http[1].slice(5)}` : `http${http[1].slice(4)}`, prefix: prefixOf(http[2]) };
  if (!s3 || rest.includes("://")) return undefined;
  return { prefix: prefixOf(rest) };
}

function prefixOf(path: string): string {
  const p = path.replace(/^\/+/, "").replace(/\/+$/, "");
  return p === "" ? "" : `${p}/`;
}

export interface AliasTable {
  readonly aliases: ReadonlyMap<string, AliasTarget>;
  /** Why an entry was left out (for a warning); never contains secrets, aliases hold none. */
  readonly problems: readonly string[];
}

/**
 * Merge alias sources, later ones winning (official, then files, then code), as
 * CloudFiles' add_alias overwrites. Entries that are not S3 hosts, or that would take
 * over a base protocol or a format, are left out and reported in `problems`.
 */
export function buildAliasTable(sources: ReadonlyArray<{ from: string; entries: Readonly<Record<string, unknown>> }>): AliasTable {
  const aliases = new Map<string, AliasTarget>();
  const problems: string[] = [];
  for (const [name, endpoint] of Object.entries(OFFICIAL_ALIASES)) aliases.set(name, { endpoint, prefix: "" });
  for (const { from, entries } of sources) {
    for (const [rawName, value] of Object.entries(entries)) {
      const name = rawName.toLowerCase();
      if (!ALIAS_NAME.test(name)) {
        problems.push(`${from}: alias ${JSON.stringify(rawName)} is not a usable protocol name (letters, digits, + . -, starting with a letter)`);
        continue;
      }
      if (RESERVED.has(name)) {
        problems.push(`${from}: alias ${JSON.stringify(rawName)} would override a built-in protocol or format; ignored`);
        continue;
      }
      const host = typeof value === "string" ? value : typeof value === "object" && value !== null ? (value as { host?: unknown }).host : undefined;
      if (typeof host !== "string") {
        problems.push(`${from}: alias ${JSON.stringify(rawName)} needs {"host": "..."}`);
        continue;
      }
      const target = parseAliasHost(host);
      if (!target) {
        problems.push(`${from}: alias ${JSON.stringify(rawName)} -> ${JSON.stringify(host)} is not an S3 host (use s3://https://host/ or https://host); ignored by ${S3_PACKAGE}`);
        continue;
      }
      aliases.set(name, target);
    }
  }
  return { aliases, problems };
}

/**
 * Secrets from an option value or a file's text. `source` names where they came from
 * for error messages; the values themselves never appear in any message (not even
 * JSON.parse's, which quotes the text it failed on).
 */
export function parseSecrets(value: unknown, source: string): S3Credentials {
  let obj = value;
  if (typeof value === "string") {
    try {
      obj = JSON.parse(value);
    } catch {
      throw new CloudVolumeError(
        "INVALID_ARGUMENT",
        `S3 secrets from ${source} are not JSON: give {"AWS_ACCESS_KEY_ID": ..., "AWS_SECRET_ACCESS_KEY": ...} (S3 signs requests with a key pair, so a bare token is not enough)`,
      );
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `S3 secrets from ${source} must be an object with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  const o = obj as S3SecretsObject;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const accessKeyId = str(o.AWS_ACCESS_KEY_ID) ?? str(o.accessKeyId);
  const secretAccessKey = str(o.AWS_SECRET_ACCESS_KEY) ?? str(o.secretAccessKey);
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const missing = [accessKeyId === undefined ? "AWS_ACCESS_KEY_ID" : "", secretAccessKey === undefined ? "AWS_SECRET_ACCESS_KEY" : ""].filter(Boolean).join(" and ");
    throw new CloudVolumeError("INVALID_ARGUMENT", `S3 secrets from ${source} lack ${missing}`);
  }
  const sessionToken = str(o.AWS_SESSION_TOKEN) ?? str(o.sessionToken);
  const region = str(o.AWS_DEFAULT_REGION) ?? str(o.region);
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), ...(region ? { region } : {}) };
}

/** Where one cloudpath lives. */
export interface S3Location {
  /** undefined: AWS. */
  readonly endpoint?: string;
  readonly bucket: string;
  /** "" or "dir/sub" (no slashes at either end). */
  readonly prefix: string;
  /** Name for secret files: "aws" for s3://, the alias otherwise (CloudFiles' service). */
  readonly service: string;
  /** True for user aliases, whose secrets fall back to the aws-secret.json files. */
  readonly userAlias: boolean;
}

/**
 * `s3://bucket/p`, `s3://https://host/bucket/p` (CloudFiles' explicit endpoint form)
 * and `<alias>://bucket/p` -> endpoint, bucket and prefix.
 */
export function resolveLocation(protocol: string, path: string, aliases: ReadonlyMap<string, AliasTarget>, defaultEndpoint?: string): S3Location {
  const url = `${protocol}://${path}`;
  let endpoint: string | undefined;
  let rest = path;
  let service = "aws";
  let userAlias = false;
  if (protocol === "s3") {
    const explicit = /^(https?:\/\/[^/?#]+)\/*(.*)$/i.exec(rest);
    if (explicit) {
      endpoint = explicit[1];
      rest = explicit[2];
    } else {
      endpoint = defaultEndpoint;
    }
  } else {
    const target = aliases.get(protocol);
    if (!target) throw new CloudVolumeError("UNSUPPORTED_SCHEME", `no S3 alias named "${protocol}": add it to aliases.json ({"${protocol}": {"host": "s3://https://host/"}})`, { url });
    endpoint = target.endpoint;
    rest = target.prefix + rest;
    service = protocol;
    userAlias = !(protocol in OFFICIAL_ALIASES);
  }
  // checkKey refuses `..` and friends: a cloudpath may not climb out of its bucket.
  const clean = checkKey(rest.replace(/^\/+/, ""), url);
  const slash = clean.indexOf("/");
  const bucket = slash < 0 ? clean : clean.slice(0, slash);
  const prefix = slash < 0 ? "" : clean.slice(slash + 1);
  if (bucket === "") throw new CloudVolumeError("INVALID_ARGUMENT", `S3 cloudpath ${JSON.stringify(url)} needs a bucket: ${protocol}://<bucket>/<path>`, { url });
  return { endpoint: endpoint?.replace(/\/+$/, ""), bucket, prefix, service, userAlias };
}

/**
 * Secret file names to try, in order (CloudFiles' aws_credentials: the bucket's file,
 * then the service's). User aliases then fall back to the plain AWS files, so one
 * aws-secret.json serves a private S3-compatible server too; matrix and tigerdata do
 * not, so AWS keys are never sent to those hosts by accident.
 */
export function secretFileNames(loc: Pick<S3Location, "service" | "bucket" | "userAlias">): string[] {
  const names = [`${loc.bucket}-${loc.service}-secret.json`, `${loc.service}-secret.json`];
  if (loc.userAlias) names.push(`${loc.bucket}-aws-secret.json`, "aws-secret.json");
  return names;
}
