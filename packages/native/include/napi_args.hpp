// Argument checks shared by the codec packages' node-addon-api bindings.
#pragma once
#include <napi.h>
#include <string>

namespace cloudvolume_napi {

// info[i] as a Uint8Array, or a TypeError naming the argument.
inline Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint8Array");
  return info[i].As<Napi::Uint8Array>();
}

}  // namespace cloudvolume_napi
