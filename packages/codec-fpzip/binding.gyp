{
  "targets": [
    {
      "target_name": "fpzip",
      "sources": ["native/fpzip.cc"],
      "depends": ["native/fpzip_decode.hpp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!(node -p \"require('path').join(require('path').dirname(require.resolve('@cloudvolume/native/package.json')), 'include')\")"],
      "libraries": ["-lfpzip"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
