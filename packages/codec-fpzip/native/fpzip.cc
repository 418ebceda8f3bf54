// N-API binding of @cloudvolume/codec-fpzip. Decoding uses our own bounds-checked
// decoder (fpzip_decode.hpp); encoding uses Debian's libfpzip, so what we write is the
// same bytes as CloudVolume's fpzip (the same library) writes.
#include <napi.h>
#include "napi_args.hpp"  // @cloudvolume/native/include
#include <fpzip.h>
#include <cstring>
#include <string>
#include <vector>
#include "fpzip_decode.hpp"

namespace {

using cloudvolume_napi::bytesArg;

uint32_t dimArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t v = info[i].As<Napi::Number>().Int64Value();
  if (v < 1 || v > 0x7fffffff) throw Napi::RangeError::New(info.Env(), "fpzip: dimensions must be positive 31-bit integers");
  return uint32_t(v);
}

// readHeader(stream) -> { type: "float"|"double", precision, nx, ny, nz, nf }
Napi::Value ReadHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "stream");
  fpzd::RangeDecoder rd(in.Data(), in.ByteLength());
  fpzd::Header h;
  int err = fpzd::read_header(rd, h);
  if (err) throw Napi::Error::New(env, fpzd::error_text(err));
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", h.type == fpzd::TYPE_FLOAT ? "float" : "double");
  o.Set("precision", h.prec);
  o.Set("nx", h.nx);
  o.Set("ny", h.ny);
  o.Set("nz", h.nz);
  o.Set("nf", h.nf);
  return o;
}

// decode(stream, out, isDouble, nx, ny, nz, nf): fills `out` (exactly the decoded size).
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "stream");
  Napi::Uint8Array out = bytesArg(info, 1, "out");
  bool isDouble = info[2].ToBoolean();
  uint32_t nx = dimArg(info, 3), ny = dimArg(info, 4), nz = dimArg(info, 5), nf = dimArg(info, 6);
  size_t valueBytes = isDouble ? 8 : 4;
  if (out.ByteOffset() % valueBytes) throw Napi::Error::New(env, "fpzip: output buffer is not aligned to the value size");
  fpzd::Header h{};
  int err = fpzd::decode(in.Data(), in.ByteLength(), out.Data(), out.ByteLength(), isDouble ? fpzd::TYPE_DOUBLE : fpzd::TYPE_FLOAT, nx, ny,
                         nz, nf, &h);
  if (err == fpzd::ERR_SHAPE) {
    std::string msg = std::string(fpzd::error_text(err)) + " (stream " + std::to_string(h.nx) + "x" + std::to_string(h.ny) + "x" +
                      std::to_string(h.nz) + "x" + std::to_string(h.nf) + ", expected " + std::to_string(nx) + "x" + std::to_string(ny) +
                      "x" + std::to_string(nz) + "x" + std::to_string(nf) + ")";
    throw Napi::Error::New(env, msg);
  }
  if (err) throw Napi::Error::New(env, fpzd::error_text(err));
  return env.Undefined();
}

// encode(values, isDouble, nx, ny, nz, nf, precision) -> Uint8Array, through libfpzip.
Napi::Value Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array in = bytesArg(info, 0, "values");
  bool isDouble = info[1].ToBoolean();
  uint32_t nx = dimArg(info, 2), ny = dimArg(info, 3), nz = dimArg(info, 4), nf = dimArg(info, 5);
  int prec = info[6].As<Napi::Number>().Int32Value();
  size_t valueBytes = isDouble ? 8 : 4;
  if (size_t(nx) * ny * nz * nf * valueBytes != in.ByteLength())
    throw Napi::RangeError::New(env, "fpzip: the values' size does not match the dimensions");
  if (in.ByteOffset() % valueBytes) throw Napi::Error::New(env, "fpzip: input is not aligned to the value size");
  if (isDouble ? (prec < 0 || prec > 64 || prec % 2 || prec == 2) : (prec < 0 || prec == 1 || prec > 32))
    throw Napi::RangeError::New(env, "fpzip: precision must be 0 (lossless) or 2..32 bits for float32, 4..64 (even) for float64");
  // Incompressible data grows a little; retry with a larger buffer on overflow.
  size_t cap = in.ByteLength() + in.ByteLength() / 8 + 1024;
  // A per-thread buffer that only grows: a fresh one per chunk costs its page faults.
  thread_local std::vector<uint8_t> buf;
  for (int attempt = 0; attempt < 4; attempt++, cap *= 2) {
    if (buf.size() < cap) buf.resize(cap);
    FPZ* fpz = fpzip_write_to_buffer(buf.data(), cap);
    fpz->type = isDouble ? FPZIP_TYPE_DOUBLE : FPZIP_TYPE_FLOAT;
    fpz->prec = prec;
    fpz->nx = int(nx);
    fpz->ny = int(ny);
    fpz->nz = int(nz);
    fpz->nf = int(nf);
    size_t n = 0;
    if (fpzip_write_header(fpz)) n = fpzip_write(fpz, in.Data());
    fpzip_write_close(fpz);
    if (n) return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(buf.data()), n);
    if (fpzip_errno != fpzipErrorBufferOverflow) throw Napi::Error::New(env, std::string("fpzip encode failed: ") + fpzip_errstr[fpzip_errno]);
  }
  throw Napi::Error::New(env, "fpzip encode failed: output larger than expected");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readHeader", Napi::Function::New(env, ReadHeader));
  exports.Set("decode", Napi::Function::New(env, Decode));
  exports.Set("encode", Napi::Function::New(env, Encode));
  return exports;
}

}  // namespace

NODE_API_MODULE(fpzip, Init)
