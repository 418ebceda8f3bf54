// gunzip through Debian's libdeflate (whole-buffer DEFLATE, about twice zlib's inflate
// speed), straight into a caller's buffer: the Node entry of @cloudvolume/codec-gzip
// uses it where it is built and falls back to node:zlib otherwise (src/libdeflate.ts).
//
// Stream rules as node:zlib's gunzip, so either path gives the same bytes and fails on
// the same input: after a member (RFC 1952 2.2: a gzip file is a series of members) a
// zero byte ends the stream (trailing zero padding is ignored), anything else must be
// another member. A member's CRC-32 and ISIZE are checked by libdeflate.
#include <napi.h>
#include "napi_args.hpp"  // @cloudvolume/native/include
#include <libdeflate.h>
#include <string>

namespace {

using cloudvolume_napi::bytesArg;

// One decompressor per thread (the main thread and each libuv pool thread): it holds
// ~32 KiB of tables that are reset per call, so allocating it per chunk would be waste.
libdeflate_decompressor* decompressor() {
  thread_local libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  return d;
}

// Decodes `in` into `out`. Returns the bytes produced, -1 when the stream is longer than
// `out`, or throws std::string for corrupt or truncated input.
int64_t gunzip(const uint8_t* in, size_t inLen, uint8_t* out, size_t outLen) {
  libdeflate_decompressor* d = decompressor();
  if (!d) throw std::string("libdeflate could not allocate a decompressor");
  size_t inPos = 0, outPos = 0;
  do {
    size_t used = 0, produced = 0;
    libdeflate_result r = libdeflate_gzip_decompress_ex(d, in + inPos, inLen - inPos, out + outPos, outLen - outPos, &used, &produced);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) return -1;
    if (r != LIBDEFLATE_SUCCESS) throw std::string(inPos == 0 ? "invalid, truncated or corrupt gzip data" : "invalid, truncated or corrupt gzip member after the first");
    inPos += used;
    outPos += produced;
  } while (inPos < inLen && in[inPos] != 0);
  return int64_t(outPos);
}

// gunzipInto(in, out) -> bytes produced, or -1 when `out` is too small.
Napi::Value GunzipInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "input"), out = bytesArg(info, 1, "output");
  try {
    return Napi::Number::New(env, double(gunzip(in.Data(), in.ByteLength(), out.Data(), out.ByteLength())));
  } catch (const std::string& e) {
    throw Napi::Error::New(env, e);
  }
}

// The same on libuv's thread pool: gunzipAsync(in, out, callback(err, produced)).
class GunzipWorker : public Napi::AsyncWorker {
 public:
  GunzipWorker(Napi::Function cb, Napi::Uint8Array in, Napi::Uint8Array out)
      : Napi::AsyncWorker(cb), in_(in.Data()), inLen_(in.ByteLength()), out_(out.Data()), outLen_(out.ByteLength()) {
    // Keep both buffers alive (and their memory where it is) until the work is done.
    inRef_ = Napi::Persistent(in.As<Napi::Object>());
    outRef_ = Napi::Persistent(out.As<Napi::Object>());
  }
  void Execute() override {
    try {
      produced_ = gunzip(in_, inLen_, out_, outLen_);
    } catch (const std::string& e) {
      SetError(e);
    }
  }
  void OnOK() override { Callback().Call({Env().Null(), Napi::Number::New(Env(), double(produced_))}); }

 private:
  const uint8_t* in_;
  size_t inLen_;
  uint8_t* out_;
  size_t outLen_;
  int64_t produced_ = 0;
  Napi::ObjectReference inRef_, outRef_;
};

Napi::Value GunzipAsync(const Napi::CallbackInfo& info) {
  Napi::Uint8Array in = bytesArg(info, 0, "input"), out = bytesArg(info, 1, "output");
  (new GunzipWorker(info[2].As<Napi::Function>(), in, out))->Queue();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gunzipInto", Napi::Function::New(env, GunzipInto));
  exports.Set("gunzipAsync", Napi::Function::New(env, GunzipAsync));
  return exports;
}

}  // namespace

NODE_API_MODULE(deflate, Init)
