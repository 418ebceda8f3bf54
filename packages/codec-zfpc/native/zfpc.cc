// N-API binding of @cloudvolume/codec-zfpc: one zfp stream at a time, decoded into or
// encoded from a strided view of the chunk buffer (the zfpc container itself is parsed
// and written in TypeScript, src/container.ts).
#include <napi.h>
#include "napi_args.hpp"  // @cloudvolume/native/include
#include "zfp_stream.hpp"

namespace {

using cloudvolume_napi::bytesArg;

// (type, dims[], strides[], offset) at info[i..i+3]
zfps::View viewArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  zfps::View v{};
  v.type = info[i].As<Napi::Number>().Int32Value();
  if (v.type < 1 || v.type > 4) throw Napi::RangeError::New(env, "zfp: unknown value type");
  Napi::Array dims = info[i + 1].As<Napi::Array>(), strides = info[i + 2].As<Napi::Array>();
  v.ndims = dims.Length();
  if (v.ndims < 1 || v.ndims > 4 || strides.Length() != v.ndims) throw Napi::RangeError::New(env, "zfp: 1 to 4 dimensions, with a stride each");
  for (unsigned d = 0; d < v.ndims; d++) {
    int64_t n = dims.Get(d).As<Napi::Number>().Int64Value(), s = strides.Get(d).As<Napi::Number>().Int64Value();
    if (n < 1 || s < 1) throw Napi::RangeError::New(env, "zfp: dimensions and strides must be positive");
    v.n[d] = size_t(n);
    v.stride[d] = ptrdiff_t(s);
  }
  int64_t off = info[i + 3].As<Napi::Number>().Int64Value();
  if (off < 0) throw Napi::RangeError::New(env, "zfp: negative offset");
  v.offset = size_t(off);
  return v;
}

// decodeStream(stream, out, type, dims, strides, offset)
Napi::Value DecodeStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "stream");
  Napi::Uint8Array out = bytesArg(info, 1, "out");
  zfps::View v = viewArg(info, 2);
  size_t vb = zfps::type_bytes(v.type);
  if (out.ByteOffset() % vb) throw Napi::Error::New(env, "zfp: output buffer is not aligned to the value size");
  std::string err = zfps::decode(in.Data(), in.ByteLength(), out.Data(), out.ByteLength() / vb, v);
  if (!err.empty()) throw Napi::Error::New(env, err);
  return env.Undefined();
}

// encodeStream(values, type, dims, strides, offset, mode, param) -> Uint8Array
Napi::Value EncodeStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "values");
  zfps::View v = viewArg(info, 1);
  size_t vb = zfps::type_bytes(v.type);
  if (in.ByteOffset() % vb) throw Napi::Error::New(env, "zfp: input is not aligned to the value size");
  int mode = info[5].As<Napi::Number>().Int32Value();
  double param = info[6].As<Napi::Number>().DoubleValue();
  if (mode < zfps::REVERSIBLE || mode > zfps::ACCURACY) throw Napi::RangeError::New(env, "zfp: unknown mode");
  try {
    auto bytes = zfps::encode(in.Data(), in.ByteLength() / vb, v, zfps::Mode(mode), param);
    return Napi::Buffer<uint8_t>::Copy(env, bytes.first, bytes.second);
  } catch (const std::string& e) {
    throw Napi::Error::New(env, e);
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeStream", Napi::Function::New(env, DecodeStream));
  exports.Set("encodeStream", Napi::Function::New(env, EncodeStream));
  return exports;
}

}  // namespace

NODE_API_MODULE(zfpc, Init)
