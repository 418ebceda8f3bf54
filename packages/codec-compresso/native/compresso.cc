// The compresso codec as a Node addon (node-addon-api): the same algorithm as
// src/decode.ts and src/encode.ts (stream format: src/format.ts), in C++ for speed; the
// algorithm is in compresso_core.hpp. Every offset is checked against the stream length;
// bad input throws an Error whose message the TypeScript side turns into DECODE_FAILED
// naming the chunk.
#include <napi.h>

#include "compresso_slices.hpp"

namespace {

using compresso_core::decode;
using compresso_core::encode;
using compresso_core::fail;

// decode(stream, out, sx, sy, sz, bytesPerVoxel): fills `out`.
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto in = info[0].As<Napi::Uint8Array>();
  auto out = info[1].As<Napi::Uint8Array>();
  size_t sx = info[2].As<Napi::Number>().Uint32Value(), sy = info[3].As<Napi::Number>().Uint32Value(), sz = info[4].As<Napi::Number>().Uint32Value();
  size_t bpv = info[5].As<Napi::Number>().Uint32Value();
  if (out.ByteLength() != sx * sy * sz * bpv || reinterpret_cast<uintptr_t>(out.Data()) % bpv) {
    Napi::Error::New(env, "output buffer has the wrong size or alignment").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  try {
    switch (bpv) {
      case 1: decode<uint8_t>(in.Data(), in.ByteLength(), out.Data(), sx, sy, sz); break;
      case 2: decode<uint16_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint16_t*>(out.Data()), sx, sy, sz); break;
      case 4: decode<uint32_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint32_t*>(out.Data()), sx, sy, sz); break;
      case 8: decode<uint64_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint64_t*>(out.Data()), sx, sy, sz); break;
      default: fail("labels must be 1, 2, 4 or 8 bytes");
    }
  } catch (const std::exception& e) {
    Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// decodeSlice(stream, out, sx, sy, sz, bytesPerVoxel, z): fills `out` (sx * sy voxels) with
// slice z, through the z index; throws where the stream cannot be read a slice at a time.
Napi::Value DecodeSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto in = info[0].As<Napi::Uint8Array>();
  auto out = info[1].As<Napi::Uint8Array>();
  size_t sx = info[2].As<Napi::Number>().Uint32Value(), sy = info[3].As<Napi::Number>().Uint32Value(), sz = info[4].As<Napi::Number>().Uint32Value();
  size_t bpv = info[5].As<Napi::Number>().Uint32Value(), z = info[6].As<Napi::Number>().Uint32Value();
  if (out.ByteLength() != sx * sy * bpv || reinterpret_cast<uintptr_t>(out.Data()) % bpv) {
    Napi::Error::New(env, "output buffer has the wrong size or alignment").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  try {
    switch (bpv) {
      case 1: compresso_core::decodeSlice<uint8_t>(in.Data(), in.ByteLength(), out.Data(), sx, sy, sz, z); break;
      case 2: compresso_core::decodeSlice<uint16_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint16_t*>(out.Data()), sx, sy, sz, z); break;
      case 4: compresso_core::decodeSlice<uint32_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint32_t*>(out.Data()), sx, sy, sz, z); break;
      case 8: compresso_core::decodeSlice<uint64_t>(in.Data(), in.ByteLength(), reinterpret_cast<uint64_t*>(out.Data()), sx, sy, sz, z); break;
      default: fail("labels must be 1, 2, 4 or 8 bytes");
    }
  } catch (const std::exception& e) {
    Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// encode(voxels, sx, sy, sz, bytesPerVoxel): a new Uint8Array.
Napi::Value Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto in = info[0].As<Napi::Uint8Array>();
  size_t sx = info[1].As<Napi::Number>().Uint32Value(), sy = info[2].As<Napi::Number>().Uint32Value(), sz = info[3].As<Napi::Number>().Uint32Value();
  size_t bpv = info[4].As<Napi::Number>().Uint32Value();
  if (in.ByteLength() != sx * sy * sz * bpv || reinterpret_cast<uintptr_t>(in.Data()) % bpv) {
    Napi::Error::New(env, "input buffer has the wrong size or alignment").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint8_t> bytes;
  try {
    switch (bpv) {
      case 1: bytes = encode<uint8_t>(in.Data(), sx, sy, sz); break;
      case 2: bytes = encode<uint16_t>(reinterpret_cast<const uint16_t*>(in.Data()), sx, sy, sz); break;
      case 4: bytes = encode<uint32_t>(reinterpret_cast<const uint32_t*>(in.Data()), sx, sy, sz); break;
      case 8: bytes = encode<uint64_t>(reinterpret_cast<const uint64_t*>(in.Data()), sx, sy, sz); break;
      default: fail("labels must be 1, 2, 4 or 8 bytes");
    }
  } catch (const std::exception& e) {
    Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto result = Napi::Uint8Array::New(env, bytes.size());
  std::memcpy(result.Data(), bytes.data(), bytes.size());
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decode", Napi::Function::New(env, Decode));
  exports.Set("decodeSlice", Napi::Function::New(env, DecodeSlice));
  exports.Set("encode", Napi::Function::New(env, Encode));
  return exports;
}

}  // namespace

NODE_API_MODULE(compresso, Init)
