// Developer check of fpzip_decode.hpp against libfpzip (not part of the addon):
//   g++ -std=c++17 -O2 native/check_decoder.cc -lfpzip -o build/check_decoder && build/check_decoder [files...]
// Encodes random and smooth arrays with libfpzip at every precision (float and double,
// several shapes and field counts), decodes them with libfpzip and with ours, and
// compares the bits; then each file given (an fpzip stream) the same way. With
// `--bench file` it times both decoders on that stream instead.
#include <fpzip.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>
#include "fpzip_decode.hpp"

static std::vector<uint8_t> encode_lib(const void* data, int type, int prec, int nx, int ny, int nz, int nf, size_t bytes) {
  std::vector<uint8_t> buf(bytes * 2 + 1024);
  FPZ* f = fpzip_write_to_buffer(buf.data(), buf.size());
  f->type = type; f->prec = prec; f->nx = nx; f->ny = ny; f->nz = nz; f->nf = nf;
  size_t n = fpzip_write_header(f) ? fpzip_write(f, data) : 0;
  fpzip_write_close(f);
  buf.resize(n);
  return buf;
}

static bool decode_lib(const std::vector<uint8_t>& s, std::vector<uint8_t>& out, FPZ& hdr) {
  FPZ* f = fpzip_read_from_buffer(s.data());
  bool ok = fpzip_read_header(f);
  hdr = *f;
  if (ok) {
    size_t vb = f->type == FPZIP_TYPE_FLOAT ? 4 : 8;
    out.assign(size_t(f->nx) * f->ny * f->nz * f->nf * vb, 0);
    ok = fpzip_read(f, out.data()) != 0;
  }
  fpzip_read_close(f);
  return ok;
}

static bool compare(const std::vector<uint8_t>& s, const char* what) {
  std::vector<uint8_t> ref; FPZ h;
  if (!decode_lib(s, ref, h)) { printf("libfpzip failed on %s\n", what); return false; }
  std::vector<uint8_t> ours(ref.size());
  size_t used = 0;
  int err = fpzd::decode(s.data(), s.size(), ours.data(), ours.size(), h.type, h.nx, h.ny, h.nz, h.nf, nullptr, &used);
  if (err) { printf("FAIL %s: %s\n", what, fpzd::error_text(err)); return false; }
  if (ours != ref) { printf("FAIL %s: values differ\n", what); return false; }
  if (used != s.size()) { printf("FAIL %s: consumed %zu of %zu\n", what, used, s.size()); return false; }
  return true;
}

static std::vector<uint8_t> read_file(const char* p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--bench") {
    auto s = read_file(argv[2]);
    std::vector<uint8_t> ref; FPZ h;
    decode_lib(s, ref, h);
    std::vector<uint8_t> ours(ref.size());
    double n = double(h.nx) * h.ny * h.nz * h.nf;
    for (int rep = 0; rep < 3; rep++) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 20; i++) decode_lib(s, ref, h);
      auto t1 = std::chrono::steady_clock::now();
      for (int i = 0; i < 20; i++) fpzd::decode(s.data(), s.size(), ours.data(), ours.size(), h.type, h.nx, h.ny, h.nz, h.nf);
      auto t2 = std::chrono::steady_clock::now();
      double a = std::chrono::duration<double>(t1 - t0).count(), b = std::chrono::duration<double>(t2 - t1).count();
      printf("libfpzip %.1f MVx/s, ours %.1f MVx/s\n", 20 * n / a / 1e6, 20 * n / b / 1e6);
    }
    return 0;
  }
  int fails = 0, total = 0;
  std::mt19937_64 rng(12345);
  const int shapes[][4] = {{32, 32, 16, 1}, {7, 5, 3, 2}, {1, 1, 1, 1}, {17, 1, 9, 4}, {64, 3, 2, 3}};
  for (auto& sh : shapes) {
    size_t n = size_t(sh[0]) * sh[1] * sh[2] * sh[3];
    for (int type = 0; type < 2; type++) {
      for (int smooth = 0; smooth < 2; smooth++) {
        std::vector<float> f(n); std::vector<double> d(n);
        std::normal_distribution<double> g(0, 1);
        for (size_t i = 0; i < n; i++) {
          double v = smooth ? std::sin(i * 0.01) * 100 + g(rng) * 0.01 : g(rng) * std::pow(10.0, double(rng() % 20) - 10);
          if (!smooth && rng() % 50 == 0) v = rng() % 2 ? INFINITY : -0.0;
          f[i] = float(v); d[i] = v;
        }
        int maxp = type ? 64 : 32;
        for (int prec = 0; prec <= maxp; prec += (type ? 2 : 1)) {
          if (prec == 1 || (type && prec == 2)) continue;
          auto s = type ? encode_lib(d.data(), 1, prec, sh[0], sh[1], sh[2], sh[3], n * 8) : encode_lib(f.data(), 0, prec, sh[0], sh[1], sh[2], sh[3], n * 4);
          char what[128];
          snprintf(what, sizeof what, "%s %dx%dx%dx%d prec %d %s", type ? "double" : "float", sh[0], sh[1], sh[2], sh[3], prec, smooth ? "smooth" : "random");
          total++;
          if (!compare(s, what)) fails++;
        }
      }
    }
  }
  for (int i = 1; i < argc; i++) { total++; if (!compare(read_file(argv[i]), argv[i])) fails++; }
  printf("%d of %d streams decode to libfpzip's bits\n", total - fails, total);
  return fails != 0;
}
