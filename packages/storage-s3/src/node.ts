import type { StorageFactory } from "@cloudvolume/core";
import { S3_PACKAGE, type S3StorageOptions } from "./common.js";
import type { S3StoragePlugin } from "./index.js";
import { cloudVolumeDir, readAliasTable, secretsLookup } from "./node-config.js";

/**
 * Node entry (the package's `node` export condition): as the default entry, and the
 * descriptor also reads CloudVolume's configuration from disk:
 *
 * - aliases, synchronously when s3Storage() is called (a descriptor must know its
 *   protocols up front): `$CLOUD_VOLUME_DIR/aliases.json` (default
 *   `~/.cloudvolume/aliases.json`) and `~/.cloudfiles/aliases.json`, in CloudFiles' form
 *   `{"local": {"host": "s3://http://127.0.0.1:7480/"}}` or `{"local": {"host": "http://127.0.0.1:7480"}}`.
 * - secrets, when a store is opened, from `$CLOUD_VOLUME_DIR/secrets` then
 *   `~/.cloudfiles/secrets`: `<bucket>-aws-secret.json`, `aws-secret.json` for s3://;
 *   `<bucket>-<alias>-secret.json`, `<alias>-secret.json` for an alias (matrix,
 *   tigerdata, yours), user aliases then falling back to the aws files; then
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; else anonymous.
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
  type S3StoragePlugin,
  type S3PutOptions,
  type S3StoreOptions,
  type S3ClientSettings,
} from "./index.js";
export { cloudVolumeDir, readAliasTable } from "./node-config.js";

let warned = false;

export function s3Storage(opts: S3StorageOptions = {}): S3StoragePlugin {
  const dir = cloudVolumeDir(opts.cloudVolumeDir);
  const table = readAliasTable(dir, opts.aliases);
  if (table.problems.length > 0 && !warned) {
    warned = true;
    process.emitWarning(`${S3_PACKAGE}: ${table.problems.join("; ")}`, { code: "CLOUDVOLUME_S3_ALIASES" });
  }
  return {
    kind: "storage",
    protocols: ["s3", ...table.aliases.keys()],
    package: S3_PACKAGE,
    aliasProblems: table.problems,
    async load(): Promise<StorageFactory> {
      const { createS3Factory } = await import("./factory.js");
      const env = process.env.AWS_DEFAULT_REGION || process.env.AWS_REGION || undefined;
      return createS3Factory({ options: opts, aliases: table.aliases, lookup: secretsLookup(dir), envRegion: env });
    },
  };
}
