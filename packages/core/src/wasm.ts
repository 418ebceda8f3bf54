import { CloudVolumeError } from "./errors.js";

/**
 * WebAssembly helpers for codecs built with Emscripten (codec-jpeg's MozJPEG builds,
 * codec-jxl's libjxl encoder). Web-standard only: where the .wasm bytes come from
 * (fetched by the glue, read from disk under Node) is the caller's business, through a
 * WasmSource.
 */

/** How to obtain the compiled module; undefined = let the Emscripten glue fetch the .wasm itself. */
export type WasmSource = () => Promise<WebAssembly.Module>;

/** The Emscripten module-factory options we use. */
export interface EmscriptenFactoryOptions {
  noInitialRun: boolean;
  print: (s: string) => void;
  printErr: (s: string) => void;
  instantiateWasm?: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => WebAssembly.Exports | Record<string, never>;
}

/** An Emscripten module factory (the glue's default export), returning the module `M`. */
export type EmscriptenFactory<M> = (options: EmscriptenFactoryOptions) => Promise<M>;

/** Lines of C output kept per call: a pathological file must not grow `messages` without limit. */
const MAX_MESSAGES = 32;

/**
 * One Emscripten-built WebAssembly codec, instantiated lazily and replaced after any
 * failure.
 *
 * Why replace: these builds leave through JS exceptions when the C code fails (libjpeg's
 * error_exit calls exit(), an abort, a trap, a C++ exception), which skips restoring the
 * WebAssembly stack pointer. Each failure leaks a little stack; measured on the MozJPEG
 * build (codec-jpeg), ~3000 corrupt chunks in a row and the module aborts for good. A
 * fresh instance costs a millisecond or so from a compiled module, so any decode or
 * encode that throws should `discard()` the instance.
 */
export class WasmCodec<M> {
  private current: Promise<M> | undefined;
  /** Lines the C code printed (libjpeg warnings go to stderr) since the last `reset()`. */
  readonly messages: string[] = [];

  /**
   * @param what names the module in errors ("MozJPEG decoder").
   * @param loadFactory imports the Emscripten glue lazily.
   * @param source the compiled module; undefined = the glue fetches the .wasm itself.
   * @param hint appended to the UNAVAILABLE error when the module cannot load: what to do about it.
   */
  constructor(
    private readonly what: string,
    private readonly loadFactory: () => Promise<EmscriptenFactory<M>>,
    private readonly source: WasmSource | undefined,
    private readonly hint: string,
  ) {}

  /** The live instance, creating it on first use. Load failures are UNAVAILABLE and are retried on the next call. */
  get(): Promise<M> {
    if (!this.current) {
      this.current = this.create().catch((err: unknown) => {
        this.current = undefined;
        throw new CloudVolumeError("UNAVAILABLE", `could not load the ${this.what} WebAssembly module: ${err instanceof Error ? err.message : String(err)}. ${this.hint}`, { cause: err });
      });
    }
    return this.current;
  }

  /** Forget the instance (after the C code threw); the next `get()` makes a new one. */
  discard(): void {
    this.current = undefined;
  }

  /** Clear `messages` (before each call into the C code). */
  reset(): void {
    this.messages.length = 0;
  }

  private async create(): Promise<M> {
    const factory = await this.loadFactory();
    const log = (s: string) => {
      if (this.messages.length < MAX_MESSAGES) this.messages.push(s);
    };
    const options: EmscriptenFactoryOptions = { noInitialRun: true, print: log, printErr: log };
    if (!this.source) return factory(options);
    const compiled = await this.source();
    // Asynchronous instantiation (browsers refuse synchronous instantiation of large
    // modules on the main thread; Emscripten accepts a later callback). Its failure
    // cannot reach the factory's promise, so race it in.
    let fail: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    options.instantiateWasm = (imports, done) => {
      WebAssembly.instantiate(compiled, imports).then(done, fail);
      return {};
    };
    return Promise.race([factory(options), failed]);
  }
}

/** A memoised WasmSource: compile the bytes once, on first use; a failure is retried next time. */
export function compileOnce(read: () => Promise<BufferSource>): WasmSource {
  let compiled: Promise<WebAssembly.Module> | undefined;
  return () => {
    compiled ??= read()
      .then((bytes) => WebAssembly.compile(bytes))
      .catch((err: unknown) => {
        compiled = undefined;
        throw err;
      });
    return compiled;
  };
}
