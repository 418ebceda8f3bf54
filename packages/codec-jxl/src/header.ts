import { concatBytes } from "@cloudvolume/core";

/**
 * The few JPEG XL header fields a chunk decoder must check before trusting the pixels:
 * size, sample depth, grey or colour, extra channels (alpha), animation. The WebAssembly
 * decoder we use returns every image as 8-bit RGBA, which hides exactly these facts (a
 * 16-bit file comes back rounded, a grey one replicated, a 3-frame file as its first
 * frame), so we read them here, in JS, before decoding.
 *
 * Field layout from ISO/IEC 18181-1 (JPEG XL core coding system): §9.1 bit reader and
 * U32/Enum/Bool, §A.2 SizeHeader, §A.4 ImageMetadata, §A.5 BitDepth, AnimationHeader,
 * PreviewHeader, ExtraChannelInfo, ColourEncoding; the container (ISO/IEC 18181-2) wraps
 * the codestream in `jxlc` or `jxlp` boxes.
 */

export interface JxlHeader {
  width: number;
  height: number;
  bitsPerSample: number;
  floatSamples: boolean;
  /** 1 for a grey colour space, else 3. */
  colourChannels: 1 | 3;
  /** Extra channel types (0 = alpha, 1 = depth, 2 = spot colour, ...). */
  extraChannels: number[];
  animation: boolean;
  /** Lossy VarDCT images are usually XYB-encoded; decoded grey then drifts by a unit between R, G and B. */
  xybEncoded: boolean;
}

export class JxlHeaderError extends Error {}

const CONTAINER_SIGNATURE = [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

/** The codestream's first bytes (enough for the headers), from a bare codestream or a container. */
function codestreamPrefix(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength >= 2 && bytes[0] === 0xff && bytes[1] === 0x0a) return bytes;
  if (bytes.byteLength < CONTAINER_SIGNATURE.length || CONTAINER_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new JxlHeaderError("neither a JPEG XL codestream (FF 0A) nor a JPEG XL container");
  }
  const parts: Uint8Array[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos + 8 <= bytes.byteLength) {
    let size = dv.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > bytes.byteLength) break;
      const big = dv.getBigUint64(pos + 8);
      if (big > BigInt(bytes.byteLength)) throw new JxlHeaderError(`container box ${type} runs past the end of the data`);
      size = Number(big);
      header = 16;
    } else if (size === 0) size = bytes.byteLength - pos;
    if (size < header || pos + size > bytes.byteLength) throw new JxlHeaderError(`container box ${type} runs past the end of the data`);
    if (type === "jxlc") return bytes.subarray(pos + header, pos + size);
    if (type === "jxlp") parts.push(bytes.subarray(pos + header + 4, pos + size)); // 4-byte part index first
    pos += size;
  }
  if (parts.length === 0) throw new JxlHeaderError("JPEG XL container without a codestream box");
  return concatBytes(parts);
}

/** LSB-first bit reader (18181-1 §9.1). */
class Bits {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.pos >>> 3;
      if (byte >= this.bytes.byteLength) throw new JxlHeaderError("the data ends inside the image header");
      v += ((this.bytes[byte] >>> (this.pos & 7)) & 1) * 2 ** i;
      this.pos++;
    }
    return v;
  }

  bool(): boolean {
    return this.u(1) === 1;
  }

  /** U32(d0, d1, d2, d3): a 2-bit selector, then the chosen distribution: [bits, offset] (bits 0 = the constant offset). */
  u32(d: readonly (readonly [number, number])[]): number {
    const [bits, offset] = d[this.u(2)];
    return (bits === 0 ? 0 : this.u(bits)) + offset;
  }

  enumeration(): number {
    return this.u32([[0, 0], [0, 1], [4, 2], [6, 18]]);
  }
}

const SIZE = [[9, 1], [13, 1], [18, 1], [30, 1]] as const;
/** SizeHeader ratios (18181-1 Table A.1): width = height * num / den. */
const RATIOS = [[0, 0], [1, 1], [12, 10], [4, 3], [3, 2], [16, 9], [5, 4], [2, 1]];

function sizeHeader(b: Bits): [number, number] {
  const small = b.bool();
  const height = small ? (b.u(5) + 1) * 8 : b.u32(SIZE);
  const ratio = b.u(3);
  const width = ratio !== 0 ? Math.floor((height * RATIOS[ratio][0]) / RATIOS[ratio][1]) : small ? (b.u(5) + 1) * 8 : b.u32(SIZE);
  return [width, height];
}

function previewHeader(b: Bits): void {
  const div8 = b.bool();
  const dim = () => (div8 ? b.u32([[0, 16], [0, 32], [5, 1], [9, 33]]) : b.u32([[6, 1], [8, 65], [10, 321], [12, 1345]]));
  dim();
  if (b.u(3) === 0) dim();
}

function animationHeader(b: Bits): void {
  b.u32([[0, 100], [0, 1000], [10, 1], [30, 1]]);
  b.u32([[0, 1], [0, 1001], [8, 1], [10, 1]]);
  b.u32([[0, 0], [3, 0], [16, 0], [32, 0]]);
  b.bool();
}

function bitDepth(b: Bits): { bits: number; float: boolean } {
  if (!b.bool()) return { bits: b.u32([[0, 8], [0, 10], [0, 12], [6, 1]]), float: false };
  const bits = b.u32([[0, 32], [0, 16], [0, 24], [6, 1]]);
  b.u(4);
  return { bits, float: true };
}

function extraChannelInfo(b: Bits): number {
  if (b.bool()) return 0; // all default: 8-bit alpha
  const type = b.enumeration();
  bitDepth(b);
  b.u32([[0, 0], [0, 3], [0, 4], [3, 1]]);
  const nameLength = b.u32([[0, 0], [4, 0], [5, 16], [10, 48]]);
  for (let i = 0; i < nameLength; i++) b.u(8);
  if (type === 0) b.bool();
  if (type === 2) for (let i = 0; i < 4; i++) b.u(16);
  if (type === 5) b.u32([[0, 1], [2, 0], [4, 3], [8, 19]]);
  return type;
}

export function readJxlHeader(bytes: Uint8Array): JxlHeader {
  const cs = codestreamPrefix(bytes);
  if (cs.byteLength < 2 || cs[0] !== 0xff || cs[1] !== 0x0a) throw new JxlHeaderError("the codestream does not start with FF 0A");
  const b = new Bits(cs.subarray(2));
  const [width, height] = sizeHeader(b);
  const header: JxlHeader = { width, height, bitsPerSample: 8, floatSamples: false, colourChannels: 3, extraChannels: [], animation: false, xybEncoded: true };
  if (b.bool()) return header; // ImageMetadata all_default: 8-bit sRGB, XYB, no extra channels
  if (b.bool()) {
    // extra_fields
    b.u(3); // orientation
    if (b.bool()) sizeHeader(b); // intrinsic size
    if (b.bool()) previewHeader(b);
    header.animation = b.bool();
    if (header.animation) animationHeader(b);
  }
  const depth = bitDepth(b);
  header.bitsPerSample = depth.bits;
  header.floatSamples = depth.float;
  b.bool(); // modular_16bit_buffers
  const extra = b.u32([[0, 0], [0, 1], [4, 2], [12, 1]]);
  for (let i = 0; i < extra; i++) header.extraChannels.push(extraChannelInfo(b));
  header.xybEncoded = b.bool();
  if (!b.bool()) {
    // ColourEncoding not all_default: want_icc, then colour_space (kRGB 0, kGrey 1, kXYB 2, kUnknown 3)
    b.bool();
    header.colourChannels = b.enumeration() === 1 ? 1 : 3;
  }
  return header;
}
