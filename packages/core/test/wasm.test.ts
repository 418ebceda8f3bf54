import { describe, expect, it } from "vitest";
import { isCloudVolumeError } from "../src/errors.js";
import { WasmCodec, compileOnce, type EmscriptenFactory, type EmscriptenFactoryOptions } from "../src/wasm.js";

/** (module (func (export "ans") (result i32) i32.const 42)) */
const ANSWER = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type section: () -> i32
  0x03, 0x02, 0x01, 0x00, // function section
  0x07, 0x07, 0x01, 0x03, 0x61, 0x6e, 0x73, 0x00, 0x00, // export "ans"
  0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b, // code: i32.const 42
]);
/** (module (import "m" "f" (func))): instantiating it without imports fails. */
const NEEDS_IMPORT = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00,
]);

interface Fake {
  id: number;
  options: EmscriptenFactoryOptions;
  answer?: number;
}

/** A stand-in for Emscripten glue: counts instances; with instantiateWasm, instantiates through it as the glue does. */
function fakeFactory(): { factory: EmscriptenFactory<Fake>; made: () => number } {
  let made = 0;
  const factory: EmscriptenFactory<Fake> = (options) => {
    const id = ++made;
    if (!options.instantiateWasm) return Promise.resolve({ id, options });
    return new Promise((resolve) => {
      options.instantiateWasm!({}, (instance) => resolve({ id, options, answer: (instance.exports.ans as () => number)() }));
    });
  };
  return { factory, made: () => made };
}

describe("WasmCodec", () => {
  it("creates the instance lazily and once, with noInitialRun", async () => {
    const { factory, made } = fakeFactory();
    const codec = new WasmCodec("test", async () => factory, undefined, "");
    expect(made()).toBe(0);
    const a = await codec.get();
    const b = await codec.get();
    expect(a).toBe(b);
    expect(made()).toBe(1);
    expect(a.options.noInitialRun).toBe(true);
    expect(a.options.instantiateWasm).toBeUndefined();
  });

  it("discard() makes the next get() build a fresh instance", async () => {
    const { factory } = fakeFactory();
    const codec = new WasmCodec("test", async () => factory, undefined, "");
    const first = await codec.get();
    codec.discard();
    const second = await codec.get();
    expect(second).not.toBe(first);
    expect(second.id).toBe(2);
  });

  it("collects printed lines, at most 32, until reset()", async () => {
    const { factory } = fakeFactory();
    const codec = new WasmCodec("test", async () => factory, undefined, "");
    const mod = await codec.get();
    mod.options.print("warning one");
    mod.options.printErr("warning two");
    expect(codec.messages).toEqual(["warning one", "warning two"]);
    for (let i = 0; i < 100; i++) mod.options.printErr(`w${i}`);
    expect(codec.messages.length).toBe(32);
    codec.reset();
    expect(codec.messages).toEqual([]);
  });

  it("instantiates a compiled source through instantiateWasm", async () => {
    const { factory } = fakeFactory();
    const codec = new WasmCodec("test", async () => factory, compileOnce(async () => ANSWER), "");
    expect((await codec.get()).answer).toBe(42);
  });

  it("a failed load is UNAVAILABLE with the hint, and is retried on the next get()", async () => {
    const { factory } = fakeFactory();
    let fail = true;
    const codec = new WasmCodec(
      "MozJPEG decoder",
      async () => {
        if (fail) throw new Error("glue missing");
        return factory;
      },
      undefined,
      "Reinstall.",
    );
    const err = await codec.get().catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "UNAVAILABLE")).toBe(true);
    expect((err as Error).message).toBe("could not load the MozJPEG decoder WebAssembly module: glue missing. Reinstall.");
    expect(((err as Error).cause as Error).message).toBe("glue missing");
    fail = false;
    expect((await codec.get()).id).toBe(1);
  });

  it("a failing instantiation rejects get() (raced in) instead of hanging", async () => {
    const { factory } = fakeFactory();
    const codec = new WasmCodec("test", async () => factory, compileOnce(async () => NEEDS_IMPORT), "hint");
    const err = await codec.get().catch((e: unknown) => e);
    expect(isCloudVolumeError(err, "UNAVAILABLE")).toBe(true);
    expect((err as Error).message).toMatch(/^could not load the test WebAssembly module: .*import.* hint$/i);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });
});

describe("compileOnce", () => {
  it("reads and compiles once, on first use", async () => {
    let reads = 0;
    const source = compileOnce(async () => {
      reads++;
      return ANSWER;
    });
    expect(reads).toBe(0);
    const [a, b] = await Promise.all([source(), source()]);
    expect(a).toBeInstanceOf(WebAssembly.Module);
    expect(a).toBe(b);
    expect(await source()).toBe(a);
    expect(reads).toBe(1);
  });

  it("does not cache a failure", async () => {
    let reads = 0;
    const source = compileOnce(async () => (++reads === 1 ? Uint8Array.from([1, 2, 3]) : ANSWER));
    await expect(source()).rejects.toBeInstanceOf(WebAssembly.CompileError);
    expect(await source()).toBeInstanceOf(WebAssembly.Module);
    expect(reads).toBe(2);
  });
});
