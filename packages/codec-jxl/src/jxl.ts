import { CloudVolumeError, WasmCodec, checkDecodeOutput, checkEncodeInput, checkPictureSize, chunkDecodeFailed, chunkEncodeFailed, chunkErrorContext, deinterleave, describeChunk, encodeIntParam, type ArrayCodec, type ChunkSpec, type EmscriptenFactory, type WasmSource } from "@cloudvolume/core";
import { DEFAULT_JXL_EFFORT, DEFAULT_JXL_QUALITY, JXL_NAME } from "./common.js";
import { JxlHeaderError, readJxlHeader, type JxlHeader } from "./header.js";
import { JxlDataError, OxideDecoder, type DecodedPicture } from "./oxide.js";

/**
 * The Precomputed `jxl` (JPEG XL) encoding (shared/spec/precomputed.md, "Image codecs"):
 * the chunk is one picture of width x and height y*z, z slices stacked vertically,
 * channels interleaved. uint8 with 1 (grey), 3 (RGB) or 4 (RGBA) channels; uint16 too
 * for decoding.
 *
 * Libraries: decode on jxl-oxide (oxide.ts says why not @jsquash/jxl's decoder: it is
 * not exact for colour); encode on @jsquash/jxl, libjxl compiled to WebAssembly (the
 * single-threaded build, so it runs without cross-origin isolation or workers). That
 * encoder takes 8-bit RGBA only: no uint16 encoding, and one channel is written as an
 * RGBA picture with R = G = B and alpha 255 (lossless coding makes the copies nearly
 * free). readJxlHeader (header.ts) checks size, bit depth, grey or colour, alpha and
 * frames in JS before any WebAssembly runs.
 *
 * What CloudVolume does (cloudvolume/chunks.py encode_jpegxl / decode_jpegxl, on
 * imagecodecs): it names the encoding "jpegxl", uint8 only, 1 or 3 channels; level
 * default 85 (lossy), lossless at >= 100; grey files for 1 channel. We read its grey
 * files, lossless and lossy (test/fixtures). Its 1-channel decode cannot read our RGBA
 * files (it reshapes the RGBA array to the 1-channel chunk shape and fails). For 3
 * channels it hands imagecodecs a planar (3, height, width) array, which libjxl stores as
 * three grey frames; we report such a file as DECODE_FAILED, and write an ordinary RGB
 * picture as the spec says.
 */

interface EncoderModule {
  encode(data: Uint8ClampedArray, width: number, height: number, options: JxlOptions): Uint8Array | null;
}
/** @jsquash/jxl's EncodeOptions (codec/enc/jxl_enc.d.ts). */
interface JxlOptions {
  effort: number;
  quality: number;
  progressive: boolean;
  epf: number;
  lossyPalette: boolean;
  decodingSpeedTier: number;
  photonNoiseIso: number;
  lossyModular: boolean;
  lossless: boolean;
}

/** Where the compiled modules come from; absent = the glue code fetches them (bundler URLs). */
export interface JxlWasmSources {
  /** jxl-oxide-wasm's jxl_oxide_wasm_bg.wasm (a process-wide singleton: only the first init counts). */
  decoder?: WasmSource;
  /** @jsquash/jxl's codec/enc/jxl_enc.wasm (the single-threaded build). */
  encoder?: WasmSource;
  /** Appended to the UNAVAILABLE error when a module cannot load: what to do about it. */
  hint?: string;
}

interface Geometry {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  pixels: number;
  depth: 8 | 16;
}

function geometry(chunk: ChunkSpec, op: "decode" | "encode"): Geometry {
  const { dtype } = chunk;
  if (dtype !== "uint8" && !(dtype === "uint16" && op === "decode")) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      op === "decode"
        ? `jxl decode of ${describeChunk(chunk)}: the jxl codec reads uint8 and uint16 voxels only; check data_type and the scale's encoding in info`
        : `jxl encode of ${describeChunk(chunk)}: the jxl codec writes uint8 voxels only (its WebAssembly libjxl encoder is 8-bit); ` +
            "check data_type and the scale's encoding in info (png stores uint16 losslessly)",
      chunkErrorContext(chunk),
    );
  }
  const c = chunk.channels;
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `jxl ${op} of ${describeChunk(chunk)}: the jxl encoding holds 1 (grey), 3 (RGB) or 4 (RGBA) channels; check num_channels in info`,
      chunkErrorContext(chunk),
    );
  }
  const [x, y, z] = chunk.shape;
  if (![x, y, z].every((d) => Number.isInteger(d) && d > 0) || x > 0x3fffffff || y * z > 0x3fffffff) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `jxl ${op} of ${describeChunk(chunk)}: not a valid chunk shape for a JPEG XL picture`, chunkErrorContext(chunk));
  }
  return { width: x, height: y * z, channels: c, pixels: x * y * z, depth: dtype === "uint8" ? 8 : 16 };
}

/** `jxl_quality` (1-100, 100 = lossless; default lossless) and `jxl_effort` (1-9, default 7) from the scale. */
export function jxlSettings(chunk: ChunkSpec): { quality: number; effort: number; lossless: boolean } {
  const quality = encodeIntParam(JXL_NAME, chunk, "jxl_quality", 1, 100, DEFAULT_JXL_QUALITY);
  return { quality, effort: encodeIntParam(JXL_NAME, chunk, "jxl_effort", 1, 9, DEFAULT_JXL_EFFORT), lossless: quality >= 100 };
}

/**
 * Largest |R-G| or |B-G| accepted when a colour-coded picture is read as one grey channel.
 * Our own encoder writes grey as R = G = B; lossless coding keeps them equal, lossy XYB
 * coding lets them drift by one unit (measured: max 1 at quality 50-95).
 */
const GREY_DRIFT_XYB = 2;

export function createJxlCodec(sources: JxlWasmSources = {}): ArrayCodec {
  const hint = sources.hint ?? "";
  const decoder = new OxideDecoder(sources.decoder, hint);
  const encoder = new WasmCodec<EncoderModule>(
    "libjxl encoder",
    async () => (await import("@jsquash/jxl/codec/enc/jxl_enc.js")).default as unknown as EmscriptenFactory<EncoderModule>,
    sources.encoder,
    hint,
  );

  const decodeFailed = (chunk: ChunkSpec, what: string, cause?: unknown) => chunkDecodeFailed(JXL_NAME, chunk, what, cause);

  function checkHeader(h: JxlHeader, g: Geometry, chunk: ChunkSpec): void {
    checkPictureSize(JXL_NAME, chunk, h.width, h.height);
    if (h.floatSamples || h.bitsPerSample !== g.depth) {
      throw decodeFailed(chunk, `the picture has ${h.bitsPerSample}-bit ${h.floatSamples ? "float" : "integer"} samples; ${chunk.dtype} chunks are ${g.depth}-bit pictures`);
    }
    if (h.animation) {
      throw decodeFailed(
        chunk,
        "the file holds several frames, not one picture; CloudVolume writes 3-channel jpegxl chunks that way (one grey frame per channel), " +
          "which this decoder cannot read: rewrite the layer with RGB pictures",
      );
    }
    const alpha = h.extraChannels.includes(0);
    if (g.channels === 1) return; // grey, or colour checked for greyness after decoding
    if (h.colourChannels !== 3) throw decodeFailed(chunk, `the picture is grey (one channel), the layer has ${g.channels}; check num_channels in info`);
    if (g.channels === 4 && !alpha) throw decodeFailed(chunk, "the picture is RGB without alpha, the layer has 4 channels; check num_channels in info");
  }

  return {
    name: JXL_NAME,

    async decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Promise<Uint8Array> {
      const g = geometry(chunk, "decode");
      const size = g.pixels * g.channels;
      checkDecodeOutput(JXL_NAME, chunk, out, size * (g.depth / 8));
      if (bytes.byteLength === 0) throw decodeFailed(chunk, "the file is empty");
      let header: JxlHeader;
      try {
        header = readJxlHeader(bytes);
      } catch (err) {
        if (!(err instanceof JxlHeaderError)) throw err;
        throw decodeFailed(chunk, `not a valid JPEG XL file: ${err.message}`, err);
      }
      checkHeader(header, g, chunk);

      let pic: DecodedPicture;
      try {
        pic = await decoder.decode(bytes);
      } catch (err) {
        if (!(err instanceof JxlDataError)) throw err;
        throw decodeFailed(chunk, err.message, err.cause ?? err);
      }
      const sampleBytes = g.depth / 8;
      if (pic.width !== g.width || pic.height !== g.height || pic.depth !== g.depth || pic.data.length !== g.pixels * pic.channels) {
        throw decodeFailed(chunk, `the decoder returned a ${pic.width}x${pic.height} ${pic.depth}-bit picture, expected ${g.width}x${g.height} ${g.depth}-bit`);
      }
      const target = out ?? new Uint8Array(size * sampleBytes);
      // Write through a typed view of `target` (host order, as the rest of the library reads it).
      const aligned = target.byteOffset % sampleBytes === 0;
      const planar = g.depth === 8 ? target : aligned ? new Uint16Array(target.buffer, target.byteOffset, size) : new Uint16Array(size);
      if (g.channels === 1 && pic.channels >= 3) {
        // A colour-coded picture (our own encoder writes grey that way): take G and make
        // sure it really is grey, so a colour image in a 1-channel layer fails loudly.
        const limit = header.xybEncoded ? GREY_DRIFT_XYB : 0;
        const px = pic.data;
        const stride = pic.channels;
        let worst = 0;
        for (let p = 0, s = 0; p < g.pixels; p++, s += stride) {
          const gr = px[s + 1];
          planar[p] = gr;
          const d = Math.max(Math.abs(px[s] - gr), Math.abs(px[s + 2] - gr));
          if (d > worst) worst = d;
        }
        if (worst > limit) {
          throw decodeFailed(chunk, `the picture is in colour (R, G and B differ by up to ${worst}), the layer has 1 channel; check num_channels in info`);
        }
      } else if (pic.channels === g.channels || (g.channels === 1 && pic.channels === 2) || (g.channels === 3 && pic.channels === 4)) {
        // Same layout, or an alpha channel the layer does not have (ignored).
        deinterleave(pic.data, pic.channels, g.channels, g.pixels, planar);
      } else {
        throw decodeFailed(chunk, `the decoder returned ${pic.channels} channel(s), the layer has ${g.channels}`);
      }
      if (planar.buffer !== target.buffer) target.set(new Uint8Array(planar.buffer, planar.byteOffset, planar.byteLength));
      return target;
    },

    async encode(voxels: Uint8Array, chunk: ChunkSpec): Promise<Uint8Array> {
      const g = geometry(chunk, "encode");
      const n = g.pixels;
      checkEncodeInput(JXL_NAME, chunk, voxels, n * g.channels);
      const { quality, effort, lossless } = jxlSettings(chunk);
      const rgba = new Uint8ClampedArray(n * 4);
      for (let p = 0, s = 0; p < n; p++, s += 4) {
        if (g.channels === 1) {
          const v = voxels[p];
          rgba[s] = v;
          rgba[s + 1] = v;
          rgba[s + 2] = v;
        } else {
          rgba[s] = voxels[p];
          rgba[s + 1] = voxels[n + p];
          rgba[s + 2] = voxels[2 * n + p];
        }
        rgba[s + 3] = g.channels === 4 ? voxels[3 * n + p] : 255;
      }
      const options: JxlOptions = {
        effort,
        quality,
        progressive: false,
        epf: -1,
        lossyPalette: false,
        decodingSpeedTier: 0,
        photonNoiseIso: 0,
        lossyModular: false,
        lossless,
      };
      const mod = await encoder.get();
      encoder.reset();
      let file: Uint8Array | null;
      try {
        file = mod.encode(rgba, g.width, g.height, options);
      } catch (err) {
        encoder.discard();
        throw chunkEncodeFailed(JXL_NAME, chunk, err instanceof Error ? err.message : String(err), err);
      }
      if (!file) throw chunkEncodeFailed(JXL_NAME, chunk, "libjxl returned nothing");
      return new Uint8Array(file);
    },
  };
}
