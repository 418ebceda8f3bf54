{
  "targets": [
    {
      "target_name": "compresso",
      "sources": ["native/compresso.cc"],
      "depends": ["native/compresso_core.hpp", "native/compresso_slices.hpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
