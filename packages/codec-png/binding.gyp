{
  "targets": [
    {
      "target_name": "spng",
      "sources": ["native/spng.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["-lspng"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
