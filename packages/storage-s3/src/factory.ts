import type { S3Client } from "@aws-sdk/client-s3";
import type { ParsedUrl, StorageFactory } from "@cloudvolume/core";
import { parseSecrets, resolveLocation, type AliasTarget, type S3Credentials, type S3Location, type S3StorageOptions } from "./common.js";
import { S3Store, createS3Client } from "./s3-store.js";

/** Credentials for one location and a description of where they came from (for messages). */
export interface FoundCredentials {
  credentials?: S3Credentials;
  source: string;
}

export type CredentialLookup = (loc: S3Location) => Promise<FoundCredentials>;

export interface FactorySettings {
  options: S3StorageOptions;
  aliases: ReadonlyMap<string, AliasTarget>;
  /** Secrets from files or the environment (Node); browsers find none and go anonymous. */
  lookup: CredentialLookup;
  /** AWS_DEFAULT_REGION / AWS_REGION where there is an environment. */
  envRegion?: string;
}

/**
 * The StorageFactory behind s3Storage(): cloudpath -> S3Store. Clients are shared by
 * every store with the same endpoint, region and credentials, so a volume's many
 * stores (and many volumes) reuse one connection pool.
 */
export function createS3Factory(settings: FactorySettings): StorageFactory {
  const { options, aliases, lookup } = settings;
  const clients = new Map<string, S3Client>();
  return async (url: ParsedUrl) => {
    const loc = resolveLocation(url.protocol, url.path, aliases, options.endpoint);
    // Parsed here, not in load(): the Context reports a failing load() as UNAVAILABLE
    // (retryable), but a malformed secrets option is the caller's INVALID_ARGUMENT.
    const found: FoundCredentials =
      options.secrets !== undefined ? { credentials: parseSecrets(options.secrets, "the secrets option"), source: "the secrets option" } : await lookup(loc);
    const creds = found.credentials;
    const region = creds?.region ?? options.region ?? settings.envRegion ?? "us-east-1";
    const forcePathStyle = options.forcePathStyle ?? loc.endpoint !== undefined;
    const id = [loc.endpoint ?? "aws", region, forcePathStyle, creds?.accessKeyId ?? "", creds?.secretAccessKey ?? "", creds?.sessionToken ?? ""].join("\n");
    let client = clients.get(id);
    if (!client) {
      client = createS3Client({
        endpoint: loc.endpoint,
        region,
        forcePathStyle,
        credentials: creds,
        connectionTimeoutMs: options.connectionTimeoutMs,
        socketTimeoutMs: options.socketTimeoutMs,
        maxSockets: options.maxSockets,
      });
      clients.set(id, client);
    }
    return new S3Store({
      client,
      bucket: loc.bucket,
      prefix: loc.prefix,
      url: url.storageUrl,
      credentialSource: found.source,
      redact: creds ? [creds.secretAccessKey, ...(creds.sessionToken ? [creds.sessionToken] : [])] : [],
    });
  };
}
