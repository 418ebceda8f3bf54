import { CloudVolumeError, WasmCodec, checkDecodeOutput, checkEncodeInput, checkPictureSize, chunkDecodeFailed, chunkEncodeFailed, chunkErrorContext, deinterleave, describeChunk, encodeIntParam, type ArrayCodec, type ChunkSpec, type EmscriptenFactory, type WasmSource } from "@cloudvolume/core";
import { DEFAULT_JPEG_QUALITY, JPEG_NAME } from "./common.js";

/**
 * The Precomputed `jpeg` encoding (shared/spec/precomputed.md, "Image codecs"): uint8,
 * 1 or 3 channels; the chunk is one JPEG of width x and height y*z (z slices stacked
 * vertically), RGB interleaved per pixel for 3 channels.
 *
 * Library: @jsquash/jpeg, MozJPEG (a libjpeg-turbo fork) compiled to WebAssembly. Its
 * decoder is libjpeg-turbo's (islow IDCT, fancy upsampling), the same code CloudVolume
 * decodes with (simplejpeg) and Pillow uses: on the shared fixtures it is bit-exact with
 * both. Its encoder writes true grayscale JPEGs for one channel (jpeg-js cannot).
 *
 * What CloudVolume does (cloudvolume/chunks.py): encode_jpeg = as2d() (the picture
 * above) then simplejpeg.encode_jpeg(quality=jpeg_quality or 85; colorspace GRAY with
 * colorsubsampling GRAY for 1 channel, RGB with simplejpeg's default subsampling for 3).
 * That default is 4:4:4 (fixtures/pc_image_rgb_jpeg: every component is sampled 1x1),
 * so we write 4:4:4 too, with the standard (Annex K) quantisation tables, baseline.
 * Differences: MozJPEG's encoder always uses trellis quantisation (the @jsquash build
 * cannot turn it off), so this codec's bytes differ from libjpeg-turbo's while staying a
 * plain baseline JPEG (Node's entry uses libturbojpeg itself where built: turbo.ts,
 * CloudVolume's bytes); and CloudVolume's decode_jpeg reshapes the interleaved RGB picture as
 * if it were planar, scrambling 3-channel chunks (see the WARNING in the fixture's
 * expected.json). We de-interleave, which is what its encoder wrote.
 */

/** What the @jsquash MozJPEG builds export (codec/dec/mozjpeg_dec.d.ts, codec/enc/mozjpeg_enc.d.ts). */
interface DecoderModule {
  decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null;
}
interface EncoderModule {
  encode(data: Uint8ClampedArray, width: number, height: number, options: MozJpegOptions): Uint8Array;
}
interface MozJpegOptions {
  quality: number;
  baseline: boolean;
  arithmetic: boolean;
  progressive: boolean;
  optimize_coding: boolean;
  smoothing: number;
  color_space: number;
  quant_table: number;
  trellis_multipass: boolean;
  trellis_opt_zero: boolean;
  trellis_opt_table: boolean;
  trellis_loops: number;
  auto_subsample: boolean;
  chroma_subsample: number;
  separate_chroma_quality: boolean;
  chroma_quality: number;
}

/** libjpeg's J_COLOR_SPACE values the encoder takes. */
const JCS_GRAYSCALE = 1;
const JCS_YCbCr = 3;
/** JPEG's frame header holds 16-bit dimensions (ITU T.81 B.2.2). */
const MAX_JPEG_DIMENSION = 65535;

/** Where the compiled modules come from; absent = the glue code fetches them (bundler URLs). */
export interface JpegWasmSources {
  /** @jsquash/jpeg's codec/dec/mozjpeg_dec.wasm. */
  decoder?: WasmSource;
  /** @jsquash/jpeg's codec/enc/mozjpeg_enc.wasm. */
  encoder?: WasmSource;
  /** Appended to the UNAVAILABLE error when a module cannot load: what to do about it. */
  hint?: string;
}

export interface Geometry {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: number;
}

function geometry(chunk: ChunkSpec, op: "decode" | "encode"): Geometry {
  if (chunk.dtype !== "uint8") {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `jpeg ${op} of ${describeChunk(chunk)}: the jpeg encoding holds uint8 voxels only; check data_type and the scale's encoding in info (png holds uint16)`,
      chunkErrorContext(chunk),
    );
  }
  if (chunk.channels !== 1 && chunk.channels !== 3) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `jpeg ${op} of ${describeChunk(chunk)}: the jpeg encoding holds 1 (grayscale) or 3 (RGB) channels; check num_channels in info`,
      chunkErrorContext(chunk),
    );
  }
  const [x, y, z] = chunk.shape;
  if (![x, y, z].every((d) => Number.isInteger(d) && d > 0)) {
    throw new CloudVolumeError("INVALID_ARGUMENT", `jpeg ${op} of ${describeChunk(chunk)}: not a valid chunk shape`, chunkErrorContext(chunk));
  }
  if (x > MAX_JPEG_DIMENSION || y * z > MAX_JPEG_DIMENSION) {
    throw new CloudVolumeError(
      "INVALID_ARGUMENT",
      `jpeg ${op} of ${describeChunk(chunk)}: the picture would be ${x}x${y * z} pixels, and JPEG allows at most ${MAX_JPEG_DIMENSION} per side; use a smaller chunk size`,
      chunkErrorContext(chunk),
    );
  }
  return { width: x, height: y * z, channels: chunk.channels, pixels: x * y * z };
}

/** `jpeg_quality` from the scale, default 85 like CloudVolume; simplejpeg accepts 1-100. */
export function jpegQuality(chunk: ChunkSpec): number {
  return encodeIntParam(JPEG_NAME, chunk, "jpeg_quality", 1, 100, DEFAULT_JPEG_QUALITY);
}

export interface JpegFrame {
  /** SOFn marker (0xc0 baseline, 0xc2 progressive, ...). */
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: number;
}

class Malformed extends Error {}

/**
 * The frame header of a JPEG stream (ITU T.81 B.2), found by walking marker segments from
 * SOI. Read in JS before the WebAssembly decoder sees the bytes, so garbage, the wrong
 * chunk's picture or a CMYK/12-bit file fails here, cheaply and with a clear message,
 * without touching (and leaking from) the C decoder.
 */
export function readJpegFrame(bytes: Uint8Array): JpegFrame {
  const n = bytes.byteLength;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Malformed("no JPEG start-of-image marker (FF D8)");
  let pos = 2;
  for (;;) {
    if (pos >= n) throw new Malformed("no frame header (SOFn) before the end of the data");
    if (bytes[pos] !== 0xff) throw new Malformed(`expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16)}`);
    while (pos < n && bytes[pos] === 0xff) pos++; // fill bytes (B.1.1.2)
    if (pos >= n) throw new Malformed("data ends inside a marker");
    const marker = bytes[pos++];
    if (marker === 0xd9) throw new Malformed("end-of-image marker before any frame header");
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // TEM, RSTn: no length
    if (pos + 2 > n) throw new Malformed("data ends inside a segment length");
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2 || pos + length > n) throw new Malformed(`segment 0xff${marker.toString(16)} of ${length} bytes runs past the end of the data`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (length < 8) throw new Malformed("frame header too short");
      return {
        marker,
        precision: bytes[pos + 2],
        height: (bytes[pos + 3] << 8) | bytes[pos + 4],
        width: (bytes[pos + 5] << 8) | bytes[pos + 6],
        components: bytes[pos + 7],
      };
    }
    pos += length;
  }
}

/**
 * True when the stream ends with the end-of-image marker (trailing zero padding allowed).
 * libjpeg decodes a truncated file with only a warning, filling the rest with gray; a
 * complete stream always ends in FF D9, and entropy-coded data can never contain it
 * (T.81 B.1.1.5: an FF there is always followed by 00 or RSTn).
 */
function endsWithEoi(bytes: Uint8Array): boolean {
  let end = bytes.byteLength;
  while (end > 2 && bytes[end - 1] === 0) end--;
  return end >= 4 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
}

/**
 * This MozJPEG build labels the lone component of a grayscale frame 2x1-sampled. With one
 * component the factors change nothing (T.81 A.1.1: its size is X * H/Hmax = X, and
 * A.2.2: a one-component scan is non-interleaved, one block per MCU), so rewriting them
 * to 1x1, what libjpeg-turbo and simplejpeg write, leaves every decoded pixel as it was.
 */
function normaliseGraySampling(file: Uint8Array): void {
  const frame = readJpegFrame(file);
  if (frame.components !== 1) return;
  let pos = 2;
  for (;;) {
    while (file[pos] === 0xff) pos++;
    const marker = file[pos++];
    if (marker === frame.marker) {
      file[pos + 9] = 0x11; // length(2) precision(1) height(2) width(2) Nf(1) C1(1), then H1|V1
      return;
    }
    pos += (file[pos] << 8) | file[pos + 1];
  }
}

/**
 * Every check before a decoder sees the bytes (both decoders: this WebAssembly one and
 * the libturbojpeg addon): the layer holds jpeg-able voxels, `out` (if given) is the
 * chunk's size, and the frame header is an 8-bit picture of the chunk's size and channel
 * count, ending with EOI. Returns the picture's geometry.
 */
export function checkJpegChunk(bytes: Uint8Array, chunk: ChunkSpec, out: Uint8Array | undefined): Geometry {
  const fail = (what: string, cause?: unknown) => chunkDecodeFailed(JPEG_NAME, chunk, what, cause);
  const g = geometry(chunk, "decode");
  checkDecodeOutput(JPEG_NAME, chunk, out, g.pixels * g.channels);
  if (bytes.byteLength === 0) throw fail("the file is empty");
  let frame: JpegFrame;
  try {
    frame = readJpegFrame(bytes);
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    throw fail(`not a valid JPEG file: ${err.message}`, err);
  }
  checkPictureSize(JPEG_NAME, chunk, frame.width, frame.height);
  if (frame.components !== g.channels) {
    throw fail(`the picture has ${frame.components} colour component(s), the layer has ${g.channels} channel(s); check num_channels in info`);
  }
  if (frame.precision !== 8) throw fail(`the picture has ${frame.precision}-bit samples; uint8 chunks are 8-bit JPEGs`);
  if (!endsWithEoi(bytes)) throw fail("the data does not end with the JPEG end-of-image marker (FF D9): the file is truncated");
  return g;
}

/** The picture geometry of a chunk to encode, checked (uint8, 1 or 3 channels, JPEG's size limits). */
export function jpegEncodeGeometry(chunk: ChunkSpec): Geometry {
  return geometry(chunk, "encode");
}

export function createJpegCodec(sources: JpegWasmSources = {}): ArrayCodec {
  const hint = sources.hint ?? "";
  const decoder = new WasmCodec<DecoderModule>(
    "MozJPEG decoder",
    async () => (await import("@jsquash/jpeg/codec/dec/mozjpeg_dec.js")).default as unknown as EmscriptenFactory<DecoderModule>,
    sources.decoder,
    hint,
  );
  const encoder = new WasmCodec<EncoderModule>(
    "MozJPEG encoder",
    async () => (await import("@jsquash/jpeg/codec/enc/mozjpeg_enc.js")).default as unknown as EmscriptenFactory<EncoderModule>,
    sources.encoder,
    hint,
  );

  const decodeFailed = (chunk: ChunkSpec, what: string, cause?: unknown) => chunkDecodeFailed(JPEG_NAME, chunk, what, cause);

  return {
    name: JPEG_NAME,

    async decode(bytes: Uint8Array, chunk: ChunkSpec, out?: Uint8Array): Promise<Uint8Array> {
      const g = checkJpegChunk(bytes, chunk, out);
      const size = g.pixels * g.channels;
      const mod = await decoder.get();
      decoder.reset();
      let img: ReturnType<DecoderModule["decode"]>;
      try {
        img = mod.decode(bytes, false);
      } catch (err) {
        decoder.discard();
        const said = decoder.messages.join("; ");
        throw decodeFailed(chunk, `libjpeg rejected the data${said ? `: ${said}` : ""}`, err);
      }
      // libjpeg reports recoverable corruption (a premature end, bad Huffman codes) as
      // warnings and paints the damage gray; for voxel data that is a failed decode.
      if (!img || decoder.messages.length > 0) {
        throw decodeFailed(chunk, `libjpeg: ${decoder.messages.join("; ") || "decoding failed"}`);
      }
      if (img.width !== g.width || img.height !== g.height || img.data.length !== g.pixels * 4) {
        throw decodeFailed(chunk, `the decoder returned a ${img.width}x${img.height} picture, expected ${g.width}x${g.height}`);
      }
      const target = out ?? new Uint8Array(size);
      // The decoder always returns RGBA; gray comes back replicated into R, G and B.
      deinterleave(img.data, 4, g.channels, g.pixels, target);
      return target;
    },

    async encode(voxels: Uint8Array, chunk: ChunkSpec): Promise<Uint8Array> {
      const g = geometry(chunk, "encode");
      const n = g.pixels;
      checkEncodeInput(JPEG_NAME, chunk, voxels, n * g.channels);
      const quality = jpegQuality(chunk);
      // The encoder reads RGBA. For one channel, R = G = B = v, and libjpeg's RGB -> gray
      // weights sum to exactly 1.0 in fixed point (19595 + 38470 + 7471 = 65536), so the
      // grayscale JPEG it writes holds v itself.
      const rgba = new Uint8ClampedArray(n * 4);
      if (g.channels === 1) {
        for (let p = 0, s = 0; p < n; p++, s += 4) {
          const v = voxels[p];
          rgba[s] = v;
          rgba[s + 1] = v;
          rgba[s + 2] = v;
        }
      } else {
        for (let p = 0, s = 0; p < n; p++, s += 4) {
          rgba[s] = voxels[p];
          rgba[s + 1] = voxels[n + p];
          rgba[s + 2] = voxels[2 * n + p];
        }
      }
      const options: MozJpegOptions = {
        quality,
        baseline: true,
        arithmetic: false,
        progressive: false,
        optimize_coding: true,
        smoothing: 0,
        color_space: g.channels === 1 ? JCS_GRAYSCALE : JCS_YCbCr,
        quant_table: 0, // ITU T.81 Annex K tables, as libjpeg-turbo / simplejpeg
        trellis_multipass: false,
        trellis_opt_zero: false,
        trellis_opt_table: false,
        trellis_loops: 1,
        auto_subsample: false,
        chroma_subsample: 1, // 4:4:4, as simplejpeg's default (see the file comment)
        separate_chroma_quality: false,
        chroma_quality: quality,
      };
      const mod = await encoder.get();
      encoder.reset();
      try {
        const file = new Uint8Array(mod.encode(rgba, g.width, g.height, options));
        if (g.channels === 1) normaliseGraySampling(file);
        return file;
      } catch (err) {
        encoder.discard();
        const said = encoder.messages.length ? ` (${encoder.messages.join("; ")})` : "";
        throw chunkEncodeFailed(JPEG_NAME, chunk, `${err instanceof Error ? err.message : String(err)}${said}`, err);
      }
    },
  };
}
