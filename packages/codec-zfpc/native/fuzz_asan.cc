// Fuzz check of the zfp stream decoding (zfp_stream.hpp over libzfp) under
// AddressSanitizer + UndefinedBehaviorSanitizer:
//   pnpm --filter @cloudvolume/codec-zfpc fuzz:asan
// Seeds: zfp streams of every mode, value type and dimensionality, encoded here, plus
// the zfpc fixture chunks' streams when given. Each case mutates a seed (bit flips,
// overwritten bytes, cuts, spliced runs, zeroed tails, random bytes) and decodes it into
// a buffer of exactly the hyperplane's size; any read or write outside it is a failure:
// ASan and UBSan check our code, and guard pages after the padded stream copy and after
// the output catch libzfp's own (uninstrumented) reads and writes.
#define ZFPS_GUARD_PAGES 1  // stream copies end at an inaccessible page (see zfp_stream.hpp)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <vector>
#include "zfp_stream.hpp"
#include "fuzz_mutate.hpp"  // packages/native/include

struct Seed { std::vector<uint8_t> bytes; zfps::View view; size_t values; };

static std::vector<uint8_t> read_file(const char* p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

int main(int argc, char** argv) {
  long cases = argc > 1 ? std::atol(argv[1]) : 20000;
  std::vector<Seed> seeds;
  std::mt19937_64 rng(20261204);
  const size_t shapes[][4] = {{9, 0, 0, 0}, {7, 5, 0, 0}, {6, 5, 3, 0}, {3, 4, 5, 2}, {16, 32, 32, 1}};
  for (auto& sh : shapes) {
    for (int type = 1; type <= 4; type++) {
      for (int mode = 0; mode < 4; mode++) {
        if (type <= 2 && mode == zfps::ACCURACY) continue;  // integers have no accuracy mode
        zfps::View v{};
        v.type = type;
        size_t n = 1;
        for (unsigned d = 0; d < 4 && sh[d]; d++) { v.n[d] = sh[d]; v.stride[d] = ptrdiff_t(n); n *= sh[d]; v.ndims = d + 1; }
        std::vector<uint8_t> buf(n * zfps::type_bytes(type));
        for (size_t i = 0; i < n; i++) {
          double x = std::sin(i * 0.1) * 100 + double(rng() % 1000) / 100;
          if (type == 1) reinterpret_cast<int32_t*>(buf.data())[i] = int32_t(x * 100);
          else if (type == 2) reinterpret_cast<int64_t*>(buf.data())[i] = int64_t(x * 1e6);
          else if (type == 3) reinterpret_cast<float*>(buf.data())[i] = float(x);
          else reinterpret_cast<double*>(buf.data())[i] = x;
        }
        double param = mode == zfps::RATE ? 6 : mode == zfps::PRECISION ? 12 : 0.01;
        auto enc = zfps::encode(buf.data(), n, v, zfps::Mode(mode), param);
        seeds.push_back({std::vector<uint8_t>(enc.first, enc.first + enc.second), v, n});
      }
    }
  }
  // zfpc fixture chunks: one 4D stream (all dimensions correlated), x*y*z*1 float32.
  for (int i = 2; i < argc; i++) {
    std::vector<uint8_t> f = read_file(argv[i]);
    if (f.size() < 47) continue;
    uint32_t d[4];
    std::memcpy(d, f.data() + 6, 16);
    uint64_t off, len;
    std::memcpy(&off, f.data() + 23, 8);
    std::memcpy(&len, f.data() + 31, 8);
    if (off + len > f.size()) continue;
    zfps::View v{};
    v.type = zfp_type_float;
    v.ndims = 4;
    size_t dims[4] = {d[3], d[2], d[1], d[0]}, strides[4] = {size_t(d[0]) * d[1] * d[2], size_t(d[0]) * d[1], d[0], 1};
    for (int k = 0; k < 4; k++) { v.n[k] = dims[k]; v.stride[k] = ptrdiff_t(strides[k]); }
    seeds.push_back({std::vector<uint8_t>(f.begin() + off, f.begin() + off + len), v, size_t(d[0]) * d[1] * d[2] * d[3]});
  }
  long ok = 0, failed = 0;
  for (long c = 0; c < cases; c++) {
    const Seed& seed = seeds[c % seeds.size()];
    std::vector<uint8_t> s = seed.bytes;
    cloudvolume_fuzz::mutate(s, rng, 8);  // random payloads keep the magic
    // The output ends at an inaccessible page too: libzfp's writes are not instrumented.
    const size_t outBytes = seed.values * zfps::type_bytes(seed.view.type), page = size_t(sysconf(_SC_PAGESIZE));
    const size_t span = (outBytes + page - 1) / page * page;
    uint8_t* base = static_cast<uint8_t*>(mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(base + span, page, PROT_NONE);
    std::string err = zfps::decode(s.data(), s.size(), base + span - outBytes, seed.values, seed.view);
    munmap(base, span + page);
    (err.empty() ? ok : failed)++;
  }
  printf("%ld cases over %zu seeds: %ld decoded, %ld rejected; no memory errors\n", cases, seeds.size(), ok, failed);
  return 0;
}
