// JPEG through Debian's libturbojpeg (libjpeg-turbo 2.1), the library CloudVolume's
// simplejpeg wraps: same defaults (accurate integer DCT both ways, fancy upsampling,
// standard Huffman tables, 4:4:4 for RGB, true grayscale for one channel), so the bytes
// we write are simplejpeg's and the voxels we read are its. Chunk layout as src/jpeg.ts:
// one picture of width x and height y*z; 3 channels interleaved in the picture, planar
// (x, y, z, channel) in the chunk. The TypeScript side checks the frame header first.
#include <napi.h>
#include "napi_args.hpp"  // @cloudvolume/native/include
#include "planes.hpp"     // @cloudvolume/native/include
#include <turbojpeg.h>
#include <cstring>
#include <string>
#include <vector>

namespace {

using cloudvolume_napi::bytesArg;

// One handle per thread and direction (a handle is not thread-safe, and creating one
// costs more than a small chunk).
tjhandle decompressor() {
  thread_local tjhandle h = tjInitDecompress();
  return h;
}
tjhandle compressor() {
  thread_local tjhandle h = tjInitCompress();
  return h;
}
std::vector<uint8_t>& scratch() {
  thread_local std::vector<uint8_t> s;
  return s;
}

// decode(jpeg, out, width, height, channels): `out` is width*height*channels bytes,
// planar. Corrupt data that libjpeg would paint over (a warning) is an error here.
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "jpeg"), out = bytesArg(info, 1, "out");
  const int width = info[2].As<Napi::Number>().Int32Value(), height = info[3].As<Napi::Number>().Int32Value();
  const int channels = info[4].As<Napi::Number>().Int32Value();
  const size_t pixels = size_t(width) * size_t(height);
  if ((channels != 1 && channels != 3) || width <= 0 || height <= 0 || out.ByteLength() != pixels * channels)
    throw Napi::RangeError::New(env, "jpeg: output size does not match the picture");
  tjhandle h = decompressor();
  if (!h) throw Napi::Error::New(env, "libturbojpeg could not create a decompressor");
  int w = 0, hh = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(h, in.Data(), in.ByteLength(), &w, &hh, &subsamp, &colorspace) != 0)
    throw Napi::Error::New(env, std::string("libjpeg: ") + tjGetErrorStr2(h));
  if (w != width || hh != height)
    throw Napi::Error::New(env, "the picture is " + std::to_string(w) + "x" + std::to_string(hh) + ", expected " + std::to_string(width) + "x" + std::to_string(height));
  uint8_t* dst = out.Data();
  if (channels == 3) {
    scratch().resize(pixels * 3);
    dst = scratch().data();
  }
  const int rc = tjDecompress2(h, in.Data(), in.ByteLength(), dst, width, width * channels, height, channels == 1 ? TJPF_GRAY : TJPF_RGB, 0);
  if (rc != 0) throw Napi::Error::New(env, std::string("libjpeg: ") + tjGetErrorStr2(h));  // warnings too: damaged data
  if (channels == 3) cloudvolume_planes::planarize(dst, out.Data(), pixels, 3, 1);
  return env.Undefined();
}

// encode(voxels, width, height, channels, quality) -> Uint8Array (voxels planar).
Napi::Value Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "voxels");
  const int width = info[1].As<Napi::Number>().Int32Value(), height = info[2].As<Napi::Number>().Int32Value();
  const int channels = info[3].As<Napi::Number>().Int32Value(), quality = info[4].As<Napi::Number>().Int32Value();
  const size_t pixels = size_t(width) * size_t(height);
  if ((channels != 1 && channels != 3) || width <= 0 || height <= 0 || in.ByteLength() != pixels * channels || quality < 1 || quality > 100)
    throw Napi::RangeError::New(env, "jpeg: input size, channels or quality out of range");
  const uint8_t* src = in.Data();
  if (channels == 3) {
    std::vector<uint8_t>& s = scratch();
    s.resize(pixels * 3);
    cloudvolume_planes::interleave(src, s.data(), pixels, 3, 1);
    src = s.data();
  }
  tjhandle h = compressor();
  if (!h) throw Napi::Error::New(env, "libturbojpeg could not create a compressor");
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (tjCompress2(h, src, width, width * channels, height, channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &size, channels == 1 ? TJSAMP_GRAY : TJSAMP_444, quality, 0) != 0) {
    std::string msg = std::string("libjpeg: ") + tjGetErrorStr2(h);
    tjFree(jpeg);
    throw Napi::Error::New(env, msg);
  }
  Napi::Buffer<uint8_t> result = Napi::Buffer<uint8_t>::Copy(env, jpeg, size);
  tjFree(jpeg);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decode", Napi::Function::New(env, Decode));
  exports.Set("encode", Napi::Function::New(env, Encode));
  return exports;
}

}  // namespace

NODE_API_MODULE(turbojpeg, Init)
