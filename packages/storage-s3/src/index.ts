import type { StorageFactory, StoragePlugin } from "@cloudvolume/core";
import { S3_PACKAGE, buildAliasTable, type S3StorageOptions } from "./common.js";

/**
 * Browser / worker / edge entry (the package's `default` export condition). There is
 * no file system here: aliases come from the `aliases` option (plus matrix:// and
 * tigerdata://) and credentials from the `secrets` option, else requests go unsigned
 * (public buckets). Node resolves the `node` condition to ./node.ts, which also reads
 * CloudVolume's aliases.json and secrets directory.
 */
export {
  OFFICIAL_ALIASES,
  parseAliasHost,
  parseSecrets,
  resolveLocation,
  secretFileNames,
  type AliasTarget,
  type S3Credentials,
  type S3Location,
  type S3Secrets,
  type S3SecretsObject,
  type S3StorageOptions,
} from "./common.js";
// The store itself (and the AWS SDK behind it) is the `@cloudvolume/storage-s3/store`
// subpath, so importing the descriptor never loads the SDK.
export type { S3PutOptions, S3StoreOptions, S3ClientSettings } from "./s3-store.js";

/** A storage plugin descriptor that also tells which protocols it took from where. */
export interface S3StoragePlugin extends StoragePlugin {
  /** Entries of the alias sources that were left out, and why (malformed file, not an S3 host, ...). */
  readonly aliasProblems: readonly string[];
}

/**
 * The S3 storage plugin: `s3://bucket/path`, `s3://https://host/bucket/path`,
 * `matrix://`, `tigerdata://` and every alias given in `opts.aliases`. The AWS SDK is
 * imported by load(), on first use.
 */
export function s3Storage(opts: S3StorageOptions = {}): S3StoragePlugin {
  const table = buildAliasTable(opts.aliases ? [{ from: "the aliases option", entries: opts.aliases }] : []);
  return {
    kind: "storage",
    protocols: ["s3", ...table.aliases.keys()],
    package: S3_PACKAGE,
    aliasProblems: table.problems,
    async load(): Promise<StorageFactory> {
      const { createS3Factory } = await import("./factory.js");
      return createS3Factory({ options: opts, aliases: table.aliases, lookup: async () => ({ source: "anonymous access (no secrets option)" }) });
    },
  };
}
