import { randomBytes } from "node:crypto";
import { mkdir, open, opendir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve, sep } from "node:path";
import {
  CloudVolumeError,
  checkKey,
  isCloudVolumeError,
  resolveRange,
  type ByteRange,
  type GetOptions,
  type KeyValueStore,
  type ParsedUrl,
  type PutOptions,
  type StoredObject,
} from "@cloudvolume/core";
import { readWholeFile } from "./native-read.js";

/**
 * On-disk names of one key, in the order getObject tries them. CloudFiles' file://
 * backend stores a compressed object as `<key>.gz` / `.br` / `.zstd` instead of
 * recording Content-Encoding, so the suffix IS the encoding. (CloudFiles itself
 * tries the suffixes before the bare name; we try the bare name first, which is
 * safe because put removes the other variants of a key it writes.)
 */
const VARIANTS: ReadonlyArray<readonly [suffix: string, encoding: string | undefined]> = [
  ["", undefined],
  [".gz", "gzip"],
  [".br", "br"],
  [".zstd", "zstd"],
];

/** Explanations for the fs error codes a user can act on; the code itself stays in the message. */
const REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: "a parent of it is a file, not a directory (ENOTDIR)",
  EEXIST: "a parent of it is a file, not a directory (EEXIST)",
  EISDIR: "a directory has that name (EISDIR)",
  ENOTEMPTY: "a non-empty directory has that name (ENOTEMPTY)",
  ENOSPC: "no space left on device (ENOSPC)",
  EDQUOT: "disk quota exceeded (EDQUOT)",
  EROFS: "the file system is read-only (EROFS)",
  ENAMETOOLONG: "the file name is too long (ENAMETOOLONG)",
  EMFILE: "too many open files; lower the file:// concurrency of the Context (EMFILE)",
  EACCES: "permission denied (EACCES)",
  EPERM: "operation not permitted (EPERM)",
};

/** Temporary files of in-flight writes: `.<name>.<pid>.<random>.tmp`; list() hides them. */
const TEMP_NAME = /^\..*\.\d+\.[0-9a-f]{16}\.tmp$/;

function tempName(target: string): string {
  // Only a prefix of the target name: a key close to NAME_MAX must not fail because of
  // the decoration. 40 UTF-16 units are at most 160 bytes of UTF-8.
  return `.${basename(target).slice(0, 40)}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`;
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Absent for a reader: the name does not exist, or a parent of it is a file. */
function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Writes of one path are serialised within this process so that two puts of the same
 * key with different encodings cannot each delete the other's file (A writes x.gz, B
 * writes x, A removes x, B removes x.gz: nothing left). Module-level on purpose: two
 * FileStore objects over the same directory must share it. Writers in other processes
 * are not covered; the temp-file-and-rename still keeps every file whole for them.
 */
const writesInFlight = new Map<string, Promise<void>>();

async function serialized<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const previous = writesInFlight.get(path) ?? Promise.resolve();
  const run = previous.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  writesInFlight.set(path, tail);
  try {
    return await run;
  } finally {
    if (writesInFlight.get(path) === tail) writesInFlight.delete(path);
  }
}

/** Remove a file if there is one; a directory of that name is not a variant of a key. */
async function unlinkFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    const code = errnoCode(err);
    if (isMissing(err) || code === "EISDIR") return;
    // macOS reports EPERM, not EISDIR, when unlinking a directory.
    if (code === "EPERM" && (await stat(path).then((s) => s.isDirectory(), () => false))) return;
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function checkRange(range: ByteRange, key: string, url: string): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  const valid = "suffixLength" in range ? ok(range.suffixLength) : ok(range.offset) && ok(range.length);
  if (!valid) throw new CloudVolumeError("INVALID_ARGUMENT", `invalid byte range ${JSON.stringify(range)} for key ${JSON.stringify(key)}: offsets and lengths must be non-negative integers`, { key, url });
}

/**
 * Read a whole file or a range of it. Only the requested bytes are read (positional
 * reads on one handle), so a 4 KiB range of a 1 GiB shard file costs 4 KiB.
 * A missing file or a directory is `undefined`.
 */
async function readFileRange(path: string, range: ByteRange | undefined): Promise<Uint8Array | undefined> {
  // A whole file in one pool job where the addon is built (native-read.ts).
  const whole = range ? null : readWholeFile(path);
  if (whole) return whole;
  let handle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if (isMissing(err) || errnoCode(err) === "EISDIR") return undefined;
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const [start, end] = range ? resolveRange(range, info.size) : [0, info.size];
    const out = new Uint8Array(end - start);
    let filled = 0;
    while (filled < out.byteLength) {
      const { bytesRead } = await handle.read(out, filled, out.byteLength - filled, start + filled);
      if (bytesRead === 0) break; // the file shrank under us: return what it had
      filled += bytesRead;
    }
    return filled === out.byteLength ? out : out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * `path` of a file:// cloudpath as a directory: `/abs` stays, `~` and `~/x` are the
 * home directory, anything else is relative to `cwd` (CloudVolume's rule for
 * `file://rel/dir` and bare paths).
 */
export function resolveFilePath(path: string, cwd: string = process.cwd()): string {
  if (typeof path !== "string" || path.trim() === "") {
    // Refuse rather than silently using the working directory as a dataset.
    throw new CloudVolumeError("INVALID_ARGUMENT", "file:// path is empty: give a directory, e.g. file:///data/layer or ./layer");
  }
  let p = path;
  if (p === "~" || p.startsWith("~/")) p = join(homedir(), p.slice(1));
  return resolve(cwd, p);
}

/**
 * A directory as a KeyValueStore, laid out like CloudFiles' local backend so that
 * layers written by Python CloudVolume read here and vice versa.
 */
export class FileStore implements KeyValueStore {
  /** Absolute directory every key lives under. */
  readonly root: string;
  readonly url: string;
  readonly capabilities = { write: true, list: true, rangeReads: true } as const;
  private readonly rootWithSep: string;

  constructor(root: string) {
    if (typeof root !== "string" || root === "") throw new CloudVolumeError("INVALID_ARGUMENT", "FileStore needs a root directory");
    this.root = resolve(root);
    this.rootWithSep = this.root.endsWith(sep) ? this.root : this.root + sep;
    // Not percent-encoded: cloudpaths carry paths verbatim (core's parseUrl does not decode).
    this.url = `file://${this.root}`;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array | undefined> {
    this.throwIfAborted(opts.signal, key);
    const { key: k, path } = this.locate(key);
    if (opts.range) checkRange(opts.range, k, this.url);
    try {
      return await readFileRange(path, opts.range);
    } catch (err) {
      throw this.fail(err, "read", k);
    }
  }

  /** The first variant found of `<key>`, `<key>.gz`, `<key>.br`, `<key>.zstd`, still encoded. */
  async getObject(key: string, opts: GetOptions = {}): Promise<StoredObject | undefined> {
    this.throwIfAborted(opts.signal, key);
    const { key: k, path } = this.locate(key);
    if (opts.range) checkRange(opts.range, k, this.url);
    for (const [suffix, encoding] of VARIANTS) {
      let data: Uint8Array | undefined;
      try {
        data = await readFileRange(path + suffix, opts.range);
      } catch (err) {
        throw this.fail(err, "read", k + suffix);
      }
      if (data !== undefined) return encoding === undefined ? { data } : { data, contentEncoding: encoding };
      this.throwIfAborted(opts.signal, key);
    }
    return undefined;
  }

  /**
   * Write atomically: the bytes go to a temporary file in the same directory, then a
   * rename (atomic within one file system) puts them in place, so a reader sees the
   * old value or the new one, never a prefix. No fsync: like CloudFiles we promise
   * atomic visibility, not durability across a power cut.
   */
  async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    const { key: k, path } = this.locate(key);
    if (!(data instanceof Uint8Array)) throw new CloudVolumeError("INVALID_ARGUMENT", `put of key ${JSON.stringify(k)}: data must be a Uint8Array`, { key: k, url: this.url });
    const suffix = this.suffixFor(opts.contentEncoding, k);
    const target = path + suffix;
    await serialized(path, async () => {
      const dir = dirname(target);
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw this.fail(err, "write", k);
      }
      const temp = join(dir, tempName(target));
      try {
        // "wx": a fresh file; never reuse (and never follow) something already at the temp name.
        await writeFile(temp, data, { flag: "wx" });
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw this.fail(err, "write", k);
      }
      // Only after the new file is in place: until here readers still find the old value.
      for (const [other] of VARIANTS) {
        if (other === suffix) continue;
        try {
          await unlinkFile(path + other);
        } catch (err) {
          throw this.fail(err, "remove the stale variant of", k + other);
        }
      }
    });
  }

  /** Remove `<key>` and every suffix variant of it. A missing key is not an error. */
  async delete(key: string): Promise<void> {
    const { key: k, path } = this.locate(key);
    await serialized(path, async () => {
      for (const [suffix] of VARIANTS) {
        try {
          await unlinkFile(path + suffix);
        } catch (err) {
          throw this.fail(err, "delete", k + suffix);
        }
      }
    });
  }

  async exists(key: string): Promise<boolean> {
    const { key: k, path } = this.locate(key);
    for (const [suffix] of VARIANTS) {
      try {
        if (await isFile(path + suffix)) return true;
      } catch (err) {
        throw this.fail(err, "stat", k + suffix);
      }
    }
    return false;
  }

  /**
   * Keys under `prefix` as stored on disk (with any .gz/.br/.zstd suffix), relative to
   * the root, with forward slashes. `prefix` is a string prefix: `4_4_40/0-` matches
   * the files of that directory whose names start with `0-`. Streams directory entries
   * (opendir), so a scale with millions of chunks is not read into memory at once.
   */
  async *list(prefix: string = ""): AsyncGenerator<string> {
    const p = this.normalizePrefix(prefix);
    const slash = p.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : p.slice(0, slash);
    const namePrefix = p.slice(slash + 1);
    const dirPath = dirKey === "" ? this.root : this.locate(dirKey).path;
    yield* this.walk(dirPath, dirKey, namePrefix);
  }

  private async *walk(dirPath: string, dirKey: string, namePrefix: string): AsyncGenerator<string> {
    let dir;
    try {
      dir = await opendir(dirPath);
    } catch (err) {
      if (isMissing(err)) return;
      throw this.fail(err, "list", dirKey);
    }
    // for-await closes the Dir handle when the loop ends, throws, or the consumer stops early.
    for await (const entry of dir) {
      if (namePrefix !== "" && !entry.name.startsWith(namePrefix)) continue;
      const key = dirKey === "" ? entry.name : `${dirKey}/${entry.name}`;
      const full = join(dirPath, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(full, key, "");
      } else if (TEMP_NAME.test(entry.name)) {
        continue;
      } else if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(full).catch(() => false)))) {
        // Symlinked directories are not followed: a link loop must not hang a listing.
        yield key;
      }
    }
  }

  /** Key -> absolute path, refusing anything that would land outside the root. */
  private locate(key: string): { key: string; path: string } {
    const k = checkKey(key, this.url);
    if (k === "") throw new CloudVolumeError("INVALID_ARGUMENT", "empty key", { key, url: this.url });
    const path = resolve(this.root, ...k.split("/"));
    // checkKey already refuses `..` and absolute keys; this second check is the one
    // that does not depend on how the platform parses paths.
    if (!path.startsWith(this.rootWithSep)) {
      throw new CloudVolumeError("PERMISSION_DENIED", `key ${JSON.stringify(key)} resolves outside the storage root`, { key, url: this.url });
    }
    return { key: k, path };
  }

  /** checkKey drops a trailing slash, but for a prefix it matters ("a/" is not "a"). */
  private normalizePrefix(prefix: string): string {
    if (prefix === "") return "";
    const p = checkKey(prefix, this.url);
    return p !== "" && prefix.endsWith("/") ? `${p}/` : p;
  }

  private suffixFor(encoding: string | undefined, key: string): string {
    if (encoding === undefined || encoding === "" || encoding === "identity" || encoding === "none") return "";
    for (const [suffix, name] of VARIANTS) if (name === encoding) return suffix;
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `cannot store key ${JSON.stringify(key)} with contentEncoding "${encoding}" on disk: use gzip, br, zstd or none (CloudFiles' file suffixes)`,
      { key, url: this.url },
    );
  }

  private throwIfAborted(signal: AbortSignal | undefined, key: string): void {
    if (signal?.aborted) throw new CloudVolumeError("ABORTED", `read of key ${JSON.stringify(key)} was aborted`, { key, url: this.url, cause: signal.reason });
  }

  private fail(err: unknown, op: string, key: string): CloudVolumeError {
    if (isCloudVolumeError(err)) return err;
    const code = errnoCode(err);
    const why = code !== undefined ? (REASONS[code] ?? code) : String((err as Error)?.message ?? err);
    const message = `cannot ${op} key ${JSON.stringify(key)} in ${this.url}: ${why}`;
    const context = { key, url: this.url, cause: err };
    if (code === "EACCES" || code === "EPERM") return new CloudVolumeError("PERMISSION_DENIED", message, context);
    if (code === "EROFS") return new CloudVolumeError("READ_ONLY", message, context);
    return new CloudVolumeError("IO_ERROR", message, context);
  }
}

/** The StorageFactory behind fileStorage(): a file:// (or bare-path) cloudpath to a FileStore. */
export function createFileStore(url: ParsedUrl): FileStore {
  return new FileStore(resolveFilePath(url.path));
}
