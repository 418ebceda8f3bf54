// Fuzz check of our fpzip decoder under AddressSanitizer + UndefinedBehaviorSanitizer
// (`pnpm --filter @cloudvolume/codec-fpzip fuzz:asan`): N mutations (bit flips, byte
// overwrites, truncations, spliced runs, zeroed tails) of the streams given, each decoded
// at the stream's own shape, plus random bytes. Any out-of-bounds access, UB or hang is a
// failure; an error code is the expected outcome for most cases.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>
#include "fpzip_decode.hpp"
#include "fuzz_mutate.hpp"  // packages/native/include

static std::vector<uint8_t> read_file(const char* p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: fuzz_asan CASES stream...\n"); return 2; }
  long cases = std::atol(argv[1]);
  std::vector<std::vector<uint8_t>> seeds;
  for (int i = 2; i < argc; i++) seeds.push_back(read_file(argv[i]));
  std::mt19937_64 rng(20261204);
  long ok = 0, failed = 0;
  for (long c = 0; c < cases; c++) {
    const auto& seed = seeds[c % seeds.size()];
    fpzd::RangeDecoder hr(seed.data(), seed.size());
    fpzd::Header h;
    if (fpzd::read_header(hr, h)) { fprintf(stderr, "seed %zu is not an fpzip stream\n", c % seeds.size()); return 2; }
    std::vector<uint8_t> s = seed;
    cloudvolume_fuzz::mutate(s, rng);
    // Decode at the seed's shape (a reader knows the chunk's shape), and at the header's
    // own claim for the mutated stream when it is small enough to allocate.
    std::vector<uint8_t> out(size_t(h.nx) * h.ny * h.nz * h.nf * (h.type ? 8 : 4));
    int err = fpzd::decode(s.data(), s.size(), out.data(), out.size(), h.type, h.nx, h.ny, h.nz, h.nf);
    (err ? failed : ok)++;
    fpzd::RangeDecoder mr(s.data(), s.size());
    fpzd::Header m;
    if (!fpzd::read_header(mr, m) && uint64_t(m.nx) * m.ny * m.nz * m.nf <= (1u << 20)) {
      std::vector<uint8_t> o2(size_t(m.nx) * m.ny * m.nz * m.nf * (m.type ? 8 : 4));
      fpzd::decode(s.data(), s.size(), o2.data(), o2.size(), m.type, m.nx, m.ny, m.nz, m.nf);
    }
  }
  printf("%ld cases: %ld decoded, %ld rejected with an error code; no memory errors\n", cases, ok, failed);
  return 0;
}
