// PNG through Debian's libspng, the library CloudVolume's pyspng wraps, with its calls
// (encode: SPNG_FMT_PNG samples, compression level png_level, finalized to a buffer;
// decode: SPNG_FMT_PNG, i.e. the file's own format with 16-bit samples in host order), so
// our files are CloudVolume's. Chunk layout as src/png.ts: one picture of width x and
// height y*z, channels interleaved in the picture, planar (x, y, z, channel) in the chunk.
// Pictures whose header does not match the chunk (palette, other depths or colour types),
// or files not ending in IEND, are refused with "MISMATCH": the TypeScript decoder then
// decides, and explains what is wrong.
#include <napi.h>
#include "napi_args.hpp"  // @cloudvolume/native/include
#include "planes.hpp"     // @cloudvolume/native/include
#include <spng.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using cloudvolume_napi::bytesArg;

std::vector<uint8_t>& scratch() {
  thread_local std::vector<uint8_t> s;
  return s;
}

struct Ctx {
  spng_ctx* c;
  explicit Ctx(int flags) : c(spng_ctx_new(flags)) {}
  ~Ctx() { spng_ctx_free(c); }
};

uint8_t colourType(int channels) {
  switch (channels) {
    case 1: return SPNG_COLOR_TYPE_GRAYSCALE;
    case 2: return SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
    case 3: return SPNG_COLOR_TYPE_TRUECOLOR;
    default: return SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
  }
}

// decode(png, out, width, height, channels, depth)
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "png"), out = bytesArg(info, 1, "out");
  const uint32_t width = info[2].As<Napi::Number>().Uint32Value(), height = info[3].As<Napi::Number>().Uint32Value();
  const int channels = info[4].As<Napi::Number>().Int32Value(), depth = info[5].As<Napi::Number>().Int32Value();
  const int bytes = depth == 16 ? 2 : 1;
  const size_t pixels = size_t(width) * height, size = pixels * channels * bytes;
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16) || out.ByteLength() != size) throw Napi::RangeError::New(env, "png: output size does not match the picture");
  // libspng stops at IEND without reading its CRC, so a file cut in its last four bytes
  // would decode; a file that does not end with the (constant) IEND chunk goes to the
  // TypeScript decoder, which knows truncation from trailing data.
  static const uint8_t kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  if (in.ByteLength() < 12 || std::memcmp(in.Data() + in.ByteLength() - 12, kIend, 12) != 0) throw Napi::Error::New(env, "MISMATCH");
  Ctx ctx(0);
  if (!ctx.c) throw Napi::Error::New(env, "libspng could not create a context");
  spng_set_png_buffer(ctx.c, in.Data(), in.ByteLength());
  struct spng_ihdr ihdr;
  int rc = spng_get_ihdr(ctx.c, &ihdr);
  if (rc) throw Napi::Error::New(env, std::string("libspng: ") + spng_strerror(rc));
  if (ihdr.width != width || ihdr.height != height || ihdr.bit_depth != depth || ihdr.color_type != colourType(channels))
    throw Napi::Error::New(env, "MISMATCH");
  size_t decoded = 0;
  rc = spng_decoded_image_size(ctx.c, SPNG_FMT_PNG, &decoded);
  if (rc || decoded != size) throw Napi::Error::New(env, rc ? std::string("libspng: ") + spng_strerror(rc) : std::string("MISMATCH"));
  uint8_t* dst = out.Data();
  if (channels > 1) {
    scratch().resize(size);
    dst = scratch().data();
  }
  rc = spng_decode_image(ctx.c, dst, size, SPNG_FMT_PNG, 0);
  // The image data alone can end before the file does: read on to IEND (and its CRC), so
  // a truncated file is an error, as fast-png makes it.
  if (!rc) rc = spng_decode_chunks(ctx.c);
  if (rc) throw Napi::Error::New(env, std::string("libspng: ") + spng_strerror(rc));
  if (channels > 1) cloudvolume_planes::planarize(dst, out.Data(), pixels, channels, bytes);
  return env.Undefined();
}

// encode(voxels, width, height, channels, depth, level) -> Uint8Array (voxels planar)
Napi::Value Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "voxels");
  const uint32_t width = info[1].As<Napi::Number>().Uint32Value(), height = info[2].As<Napi::Number>().Uint32Value();
  const int channels = info[3].As<Napi::Number>().Int32Value(), depth = info[4].As<Napi::Number>().Int32Value();
  const int level = info[5].As<Napi::Number>().Int32Value();
  const int bytes = depth == 16 ? 2 : 1;
  const size_t pixels = size_t(width) * height, size = pixels * channels * bytes;
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16) || in.ByteLength() != size || level < 0 || level > 9)
    throw Napi::RangeError::New(env, "png: input size, channels, depth or level out of range");
  const uint8_t* src = in.Data();
  if (channels > 1) {
    scratch().resize(size);
    cloudvolume_planes::interleave(src, scratch().data(), pixels, channels, bytes);
    src = scratch().data();
  }
  Ctx ctx(SPNG_CTX_ENCODER);
  if (!ctx.c) throw Napi::Error::New(env, "libspng could not create an encoder");
  spng_set_option(ctx.c, SPNG_ENCODE_TO_BUFFER, 1);
  spng_set_option(ctx.c, SPNG_IMG_COMPRESSION_LEVEL, level);
  struct spng_ihdr ihdr = {};
  ihdr.width = width;
  ihdr.height = height;
  ihdr.bit_depth = uint8_t(depth);
  ihdr.color_type = colourType(channels);
  int rc = spng_set_ihdr(ctx.c, &ihdr);
  if (!rc) rc = spng_encode_image(ctx.c, src, size, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (rc) throw Napi::Error::New(env, std::string("libspng: ") + spng_strerror(rc));
  size_t pngSize = 0;
  int err = 0;
  void* png = spng_get_png_buffer(ctx.c, &pngSize, &err);
  if (!png || err) throw Napi::Error::New(env, std::string("libspng: ") + spng_strerror(err));
  Napi::Buffer<uint8_t> result = Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(png), pngSize);
  free(png);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decode", Napi::Function::New(env, Decode));
  exports.Set("encode", Napi::Function::New(env, Encode));
  return exports;
}

}  // namespace

NODE_API_MODULE(spng, Init)
