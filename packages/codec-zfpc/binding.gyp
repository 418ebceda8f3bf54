{
  "targets": [
    {
      "target_name": "zfpc",
      "sources": ["native/zfpc.cc"],
      "depends": ["native/zfp_stream.hpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!(node -p \"require('path').join(require('path').dirname(require.resolve('@cloudvolume/native/package.json')), 'include')\")"],
      "libraries": ["-lzfp"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
