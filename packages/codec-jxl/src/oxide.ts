import { decode as decodePng } from "fast-png";
import { CloudVolumeError, type WasmSource } from "@cloudvolume/core";

/**
 * The JPEG XL decoder: jxl-oxide (a Rust decoder that passes the JPEG XL conformance
 * suite) compiled to WebAssembly. Chosen over @jsquash/jxl's decoder because that one is
 * not exact: it returns pixels through an 8-bit colour transform that moves an
 * occasional sample of a lossless colour image by one (measured: pixel (2, 239, 245)
 * of a libjxl-lossless file came back with R = 1; libjxl itself and jxl-oxide return 2).
 * jxl-oxide also keeps grey as one channel and 16-bit samples as 16 bits.
 *
 * Its WebAssembly API hands the rendered picture over as a PNG only, so we read that
 * with fast-png (already the png codec's library). The detour costs some speed, not
 * exactness: PNG is lossless.
 *
 * wasm-bindgen makes the module a process-wide singleton: the first successful init wins
 * (a later source is ignored) and it cannot be re-instantiated. Corrupt input comes back
 * as a Rust error (a JS exception, the module stays healthy); only a panic, a bug in
 * jxl-oxide, could leave it unusable.
 */

/** What we use of jxl-oxide-wasm (jxl_oxide_wasm.d.ts). */
interface OxideModule {
  default: (init?: { module_or_path: WebAssembly.Module }) => Promise<unknown>;
  JxlImage: new () => OxideImage;
}
interface OxideImage {
  feedBytes(bytes: Uint8Array): number;
  tryInit(): boolean;
  render(keyframe?: number | null): { encodeToPng(): Uint8Array };
  readonly loaded: boolean;
  readonly animated: boolean | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  free(): void;
}

export interface DecodedPicture {
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  depth: number;
  /** Interleaved samples: Uint8Array for 8-bit, Uint16Array (numbers) for 16-bit. */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
}

/** The data cannot be decoded (as opposed to the decoder being unavailable). */
export class JxlDataError extends Error {}

export class OxideDecoder {
  private ready: Promise<OxideModule> | undefined;

  constructor(
    private readonly source: WasmSource | undefined,
    private readonly hint: string,
  ) {}

  private get(): Promise<OxideModule> {
    this.ready ??= (async () => {
      const mod = (await import("jxl-oxide-wasm")) as unknown as OxideModule;
      // Without a source, wasm-bindgen's glue fetches new URL("jxl_oxide_wasm_bg.wasm", import.meta.url).
      await (this.source ? mod.default({ module_or_path: await this.source() }) : mod.default());
      return mod;
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw new CloudVolumeError("UNAVAILABLE", `could not load the jxl-oxide WebAssembly module: ${err instanceof Error ? err.message : String(err)}. ${this.hint}`, { cause: err });
    });
    return this.ready;
  }

  async decode(bytes: Uint8Array): Promise<DecodedPicture> {
    const mod = await this.get();
    const image = new mod.JxlImage();
    let png: Uint8Array;
    try {
      image.feedBytes(bytes);
      if (!image.tryInit()) throw new JxlDataError("the data ends inside the image header");
      if (!image.loaded) throw new JxlDataError("the data ends before the image does: the file is truncated");
      if (image.animated) throw new JxlDataError("the file is an animation, not one picture");
      png = image.render().encodeToPng();
    } catch (err) {
      if (err instanceof JxlDataError) throw err;
      throw new JxlDataError(`jxl-oxide: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      image.free();
    }
    const pic = decodePng(png);
    return { width: pic.width, height: pic.height, channels: pic.channels, depth: pic.depth, data: pic.data };
  }
}
