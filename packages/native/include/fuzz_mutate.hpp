// One seeded corruption of a stream, shared by the codec packages' sanitizer fuzz drivers
// (native/fuzz_asan.cc): flipped bits, overwritten bytes, a cut, a spliced run, a zeroed
// tail, or random bytes from `keep` on (to get past a magic number to the payload).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace cloudvolume_fuzz {

inline void mutate(std::vector<uint8_t>& s, std::mt19937_64& rng, size_t keep = 0) {
  if (s.empty()) return;
  switch (rng() % 6) {
    case 0: for (int k = 1 + int(rng() % 4); k--;) s[rng() % s.size()] ^= uint8_t(1u << (rng() % 8)); break;
    case 1: for (int k = 1 + int(rng() % 16); k--;) s[rng() % s.size()] = uint8_t(rng()); break;
    case 2: s.resize(rng() % s.size()); break;
    case 3: {
      size_t a = rng() % s.size(), b = rng() % s.size(), n = rng() % 64;
      for (size_t i = 0; i < n && a + i < s.size() && b + i < s.size(); i++) s[a + i] = s[b + i];
      break;
    }
    case 4: for (size_t i = rng() % s.size(); i < s.size(); i++) s[i] = 0; break;
    default: for (size_t i = keep; i < s.size(); i++) s[i] = uint8_t(rng()); break;
  }
}

}  // namespace cloudvolume_fuzz
