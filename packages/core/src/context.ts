import type { ArrayCodec, ByteCodec } from "./codec.js";
import { CloudVolumeError } from "./errors.js";
import { Limiter } from "./limiter.js";
import { PROVIDERS, type CodecPlugin, type CompressionPlugin, type FormatPlugin, type Plugin, type StoragePlugin } from "./plugin.js";
import type { FormatDriver } from "./format.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import type { KeyValueStore } from "./storage.js";
import { parseUrl, type ParsedUrl } from "./url.js";

export interface ContextOptions {
  /** Every plugin this context may use. Nothing is registered globally. */
  plugins: readonly Plugin[];
  /** Concurrent requests per storage protocol; `default` applies to the rest. */
  concurrency?: Partial<Record<string, number>> & { default?: number };
  retry?: Partial<RetryPolicy>;
  /**
   * An allocator for large outputs (a cutout's buffer): a zeroed ArrayBuffer of exactly
   * `bytes`, or undefined to use an ordinary one. Node's bundle passes a recycling
   * allocator (@cloudvolume/memory); core itself has none.
   */
  allocate?: (bytes: number) => ArrayBuffer | undefined;
}

/** Something a Context holds for its users and releases on close(). */
export interface ContextResource {
  close(): Promise<void> | void;
}

const DEFAULT_CONCURRENCY: Record<string, number> = { default: 32, file: 16, mem: 64 };

/**
 * Holds the plugins, per-protocol concurrency limits and the retry policy. Create
 * one and share it: every volume opened from it shares its limits (TensorStore's
 * Context, outside the dataset spec).
 */
export class Context {
  readonly plugins: readonly Plugin[];
  readonly retry: RetryPolicy;
  /** ContextOptions.allocate, if given. */
  readonly allocate?: (bytes: number) => ArrayBuffer | undefined;
  private readonly concurrency: Record<string, number>;
  private readonly limiters = new Map<string, Limiter>();
  /** Loaded implementations by plugin descriptor (not by package: one package may ship several plugins). */
  private readonly loaded = new Map<Plugin, Promise<unknown>>();
  /** Context-wide resources (a worker pool, ...) by name; see resource(). */
  private readonly resources = new Map<string, ContextResource>();

  constructor(opts: ContextOptions) {
    if (!opts || !Array.isArray(opts.plugins)) throw new CloudVolumeError("INVALID_ARGUMENT", "Context needs { plugins: [...] }");
    this.plugins = [...opts.plugins];
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
    this.concurrency = { ...DEFAULT_CONCURRENCY };
    for (const [k, v] of Object.entries(opts.concurrency ?? {})) if (v !== undefined) this.concurrency[k] = v;
    if (opts.allocate) this.allocate = opts.allocate;
  }

  /** A new context with the same settings and extra plugins (listed first, so they win). */
  with(plugins: readonly Plugin[]): Context {
    return new Context({ plugins: [...plugins, ...this.plugins], concurrency: this.concurrency, retry: this.retry, allocate: this.allocate });
  }

  parse(url: string): ParsedUrl {
    const formats = new Set<string>(["precomputed", "graphene", "zarr", "zarr2", "zarr3", "n5", "boss"]);
    for (const p of this.plugins) if (p.kind === "format") for (const n of p.names) formats.add(n);
    const protocols = this.plugins.flatMap((p) => (p.kind === "storage" ? p.protocols : []));
    return parseUrl(url, { formats: [...formats], protocols });
  }

  /** The limiter shared by every request of one protocol. */
  limiter(protocol: string): Limiter {
    let l = this.limiters.get(protocol);
    if (!l) {
      l = new Limiter(this.concurrency[protocol] ?? this.concurrency.default ?? 32);
      this.limiters.set(protocol, l);
    }
    return l;
  }

  concurrencyOf(protocol: string): number {
    return this.concurrency[protocol] ?? this.concurrency.default ?? 32;
  }

  async storage(url: string | ParsedUrl): Promise<KeyValueStore> {
    const parsed = typeof url === "string" ? this.parse(url) : url;
    const plugin = this.plugins.find((p): p is StoragePlugin => p.kind === "storage" && p.protocols.includes(parsed.protocol));
    if (!plugin) throw missing("storage", parsed.protocol, "UNSUPPORTED_SCHEME", parsed.storageUrl);
    const factory = await this.load(plugin);
    return factory(parsed, this);
  }

  async codec(name: string): Promise<ArrayCodec> {
    const plugin = this.plugins.find((p): p is CodecPlugin => p.kind === "codec" && p.names.includes(name));
    if (!plugin) throw missing("codec", name, "UNKNOWN_CODEC");
    return this.load(plugin);
  }

  /** A byte codec by name or Content-Encoding value; undefined for identity. */
  async compression(name: string | undefined): Promise<ByteCodec | undefined> {
    if (name === undefined || name === "" || name === "identity" || name === "raw" || name === "none") return undefined;
    const plugin = this.plugins.find((p): p is CompressionPlugin => p.kind === "compression" && p.names.includes(name));
    if (!plugin) throw missing("compression", name, "UNKNOWN_CODEC");
    return this.load(plugin);
  }

  hasCompression(name: string): boolean {
    return this.plugins.some((p) => p.kind === "compression" && p.names.includes(name));
  }

  /** The driver of a format, by one of its names ("precomputed", "zarr", ...). */
  async format(name: string): Promise<FormatDriver> {
    const plugin = this.plugins.find((p): p is FormatPlugin => p.kind === "format" && p.names.includes(name));
    if (!plugin) throw missing("format", name, "UNSUPPORTED_SCHEME");
    const driver = await this.load(plugin);
    if (!driver || typeof driver.open !== "function") {
      throw new CloudVolumeError("UNAVAILABLE", `format plugin ${plugin.package} (${name}) loaded something that is not a FormatDriver (no open(ctx, url, opts))`);
    }
    return driver;
  }

  /** True when some format plugin answers to `name`. */
  hasFormat(name: string): boolean {
    return this.plugins.some((p) => p.kind === "format" && p.names.includes(name));
  }

  /**
   * A resource shared by everything opened from this context (TensorStore's context
   * resources), e.g. a worker pool: made by `create` on first use, released by close().
   */
  resource<T extends ContextResource>(name: string, create: () => T): T;
  /** The resource `name` if it was made (and not closed since). */
  resource<T extends ContextResource>(name: string): T | undefined;
  resource<T extends ContextResource>(name: string, create?: () => T): T | undefined {
    let r = this.resources.get(name) as T | undefined;
    if (!r && create) this.resources.set(name, (r = create()));
    return r;
  }

  /**
   * Release the context's resources (worker threads, ...). The context stays usable:
   * a resource needed again is made anew.
   */
  async close(): Promise<void> {
    const all = [...this.resources.values()];
    this.resources.clear();
    await Promise.all(all.map((r) => r.close()));
  }

  private load<P extends Plugin>(plugin: P): Promise<Awaited<ReturnType<P["load"]>>> {
    type T = Awaited<ReturnType<P["load"]>>;
    let p = this.loaded.get(plugin) as Promise<T> | undefined;
    if (!p) {
      // `new Promise` also turns a synchronous throw from load() into a rejection.
      p = new Promise<T>((resolve) => resolve(plugin.load() as Promise<T>)).catch((cause) => {
        this.loaded.delete(plugin);
        throw new CloudVolumeError("UNAVAILABLE", `plugin ${plugin.package} failed to load: ${(cause as Error)?.message ?? cause}`, { cause });
      });
      this.loaded.set(plugin, p);
    }
    return p;
  }
}

function missing(kind: string, name: string, code: "UNSUPPORTED_SCHEME" | "UNKNOWN_CODEC", url?: string): CloudVolumeError {
  const pkg = PROVIDERS[`${kind}:${name}`];
  // Name every way a plugin gets in: the Context, CloudVolume.open's `plugins`, and the CLI.
  const how = "pass its plugin in `plugins` (new Context({ plugins }) or CloudVolume.open(url, { plugins })), or to the CLI with --plugin <module> or CLOUDVOLUME_PLUGINS";
  const hint = pkg ? `install ${pkg} and ${how}` : `no known package provides it; ${how}`;
  return new CloudVolumeError(code, `no ${kind} plugin for "${name}": ${hint}`, { url });
}
