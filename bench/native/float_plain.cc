// The plain libraries' own speed, for bench/float-codecs.mjs: decode and encode of the
// same streams and voxels by Debian's libfpzip and libzfp called directly from C++ (no
// Node, no container, no copies), timed like the Node side (repetitions lasting >= 20 ms,
// median of RUNS). Prints one JSON object: { "decode": seconds, "encode": seconds }.
//   float_plain fpzip <stream> <raw> nx ny nz nf runs
//   float_plain zfp <stream> <raw> x y z c runs <mode 0-3> <param>
// For zfp the Fortran x,y,z,c chunk is the field zfpy makes of it: zfp axes c, z, y, x
// with strides x*y*z, x*y, x, 1 (one 4D stream: all dimensions correlated).
#include <fpzip.h>
#include <zfp.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

static std::vector<uint8_t> slurp(const char* p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

template <typename F>
static double per_call(F fn, int runs) {
  using clock = std::chrono::steady_clock;
  long reps = 1;
  for (;;) {
    auto t0 = clock::now();
    for (long i = 0; i < reps; i++) fn();
    if (std::chrono::duration<double>(clock::now() - t0).count() >= 0.02) break;
    reps *= 2;
  }
  std::vector<double> ts;
  for (int r = 0; r < runs; r++) {
    auto t0 = clock::now();
    for (long i = 0; i < reps; i++) fn();
    ts.push_back(std::chrono::duration<double>(clock::now() - t0).count() / reps);
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

int main(int argc, char** argv) {
  if (argc < 9) return 2;
  std::string kind = argv[1];
  std::vector<uint8_t> stream = slurp(argv[2]), raw = slurp(argv[3]);
  int n[4] = {atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7])};
  int runs = atoi(argv[8]);
  std::vector<uint8_t> out(raw.size()), enc(raw.size() * 2 + 4096);
  double dec = 0, en = 0;
  if (kind == "fpzip") {
    dec = per_call([&] {
      FPZ* f = fpzip_read_from_buffer(stream.data());
      fpzip_read_header(f);
      fpzip_read(f, out.data());
      fpzip_read_close(f);
    }, runs);
    en = per_call([&] {
      FPZ* f = fpzip_write_to_buffer(enc.data(), enc.size());
      f->type = FPZIP_TYPE_FLOAT; f->prec = 0; f->nx = n[0]; f->ny = n[1]; f->nz = n[2]; f->nf = n[3];
      fpzip_write_header(f);
      fpzip_write(f, raw.data());
      fpzip_write_close(f);
    }, runs);
  } else {
    int mode = atoi(argv[9]);
    double param = atof(argv[10]);
    auto field = [&](void* p) {
      zfp_field* f = zfp_field_4d(p, zfp_type_float, n[3], n[2], n[1], n[0]);
      zfp_field_set_stride_4d(f, ptrdiff_t(n[0]) * n[1] * n[2], ptrdiff_t(n[0]) * n[1], n[0], 1);
      return f;
    };
    dec = per_call([&] {
      bitstream* s = stream_open(stream.data(), stream.size());
      zfp_stream* z = zfp_stream_open(s);
      zfp_field* h = zfp_field_alloc();
      zfp_read_header(z, h, ZFP_HEADER_FULL);
      zfp_field_free(h);
      zfp_field* f = field(out.data());
      zfp_decompress(z, f);
      zfp_field_free(f); zfp_stream_close(z); stream_close(s);
    }, runs);
    en = per_call([&] {
      zfp_field* f = field(raw.data());
      zfp_stream* z = zfp_stream_open(nullptr);
      if (mode == 3) zfp_stream_set_accuracy(z, param);
      else if (mode == 1) zfp_stream_set_rate(z, param, zfp_type_none, 4, zfp_false);
      else if (mode == 2) zfp_stream_set_precision(z, unsigned(param));
      else zfp_stream_set_reversible(z);
      bitstream* s = stream_open(enc.data(), enc.size());
      zfp_stream_set_bit_stream(z, s);
      zfp_stream_rewind(z);
      zfp_write_header(z, f, ZFP_HEADER_FULL);
      zfp_compress(z, f);
      zfp_field_free(f); zfp_stream_close(z); stream_close(s);
    }, runs);
  }
  printf("{\"decode\": %.9g, \"encode\": %.9g}\n", dec, en);
  return 0;
}
