// AddressSanitizer fuzz driver for the native decoder (see the README, "compresso under
// AddressSanitizer"): each stream given on the command line (32x32x16 uint64 compresso
// chunks, e.g. the fixtures'), then N mutations of them (bit flips, header fields set to
// extremes, truncation, garbage tails, splices), decoded into a chunk-sized buffer. A
// decode (and a decode of one slice through the z index) may succeed or throw
// std::runtime_error; ASan aborts on any out-of-bounds access.
#include <cstdio>
#include <fstream>
#include <iterator>

#include "compresso_slices.hpp"

int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: fuzz_asan N chunk...\n"); return 2; }
  const long cases = std::atol(argv[1]);
  std::vector<std::vector<uint8_t>> seeds;
  for (int a = 2; a < argc; a++) {
    std::ifstream f(argv[a], std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  uint32_t s = 12345;
  auto rnd = [&](uint32_t k) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; return k ? s % k : 0; };
  std::vector<uint64_t> out(32 * 32 * 16), slice(32 * 32);  // exactly sized
  long ok = 0, failed = 0, sliceOk = 0, sliceFailed = 0;
  for (long t = 0; t < cases; t++) {
    std::vector<uint8_t> b = seeds[t % seeds.size()];
    switch (t % 5) {
      case 0: for (uint32_t k = 0, n = 1 + rnd(4); k < n; k++) b[rnd(b.size())] ^= uint8_t(1u << rnd(8)); break;
      case 1: { const uint8_t v[5] = {0, 1, 0xff, 0x7f, 0x80}; b[5 + rnd(31)] = v[rnd(5)]; break; }
      case 2: b.resize(rnd(b.size())); break;
      case 3: for (uint32_t k = 0, n = 1 + rnd(64); k < n; k++) b.push_back(uint8_t(rnd(256))); break;
      default: {
        const auto& o = seeds[rnd(seeds.size())];
        size_t cut = 36 + rnd(uint32_t(std::max<size_t>(1, std::min(b.size(), o.size()) - 36)));
        b.resize(o.size());
        std::copy(o.begin() + std::min(cut, o.size()), o.end(), b.begin() + std::min(cut, b.size()));
      }
    }
    // Exactly sized copies, so ASan sees any read past the stream's end.
    uint8_t* exact = new uint8_t[b.size() ? b.size() : 1];
    std::memcpy(exact, b.data(), b.size());
    try {
      compresso_core::decode<uint64_t>(exact, b.size(), out.data(), 32, 32, 16);
      ok++;
    } catch (const std::runtime_error&) {
      failed++;
    }
    // One slice through the z index, from the same mutated stream.
    try {
      compresso_core::decodeSlice<uint64_t>(exact, b.size(), slice.data(), 32, 32, 16, size_t(t % 16));
      sliceOk++;
    } catch (const std::runtime_error&) {
      sliceFailed++;
    }
    delete[] exact;
  }
  std::printf("%ld cases: %ld decoded, %ld refused; one slice each: %ld decoded, %ld refused; no memory errors\n", cases, ok, failed, sliceOk, sliceFailed);
  return 0;
}
