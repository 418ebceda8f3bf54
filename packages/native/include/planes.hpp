// Picture <-> chunk sample order, shared by the image codec addons (jpeg, png): a picture
// interleaves a pixel's channels, a chunk stores each channel's plane whole (Fortran x, y,
// z, channel). Samples of `bytes` bytes (1 or 2), copied whole.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cloudvolume_planes {

inline void planarize(const uint8_t* src, uint8_t* dst, size_t pixels, int channels, int bytes) {
  for (int c = 0; c < channels; c++) {
    uint8_t* plane = dst + size_t(c) * pixels * bytes;
    const uint8_t* s = src + size_t(c) * bytes;
    const size_t step = size_t(channels) * bytes;
    if (bytes == 1) for (size_t p = 0; p < pixels; p++) plane[p] = s[p * step];
    else for (size_t p = 0; p < pixels; p++) std::memcpy(plane + 2 * p, s + p * step, 2);
  }
}

inline void interleave(const uint8_t* src, uint8_t* dst, size_t pixels, int channels, int bytes) {
  for (int c = 0; c < channels; c++) {
    const uint8_t* plane = src + size_t(c) * pixels * bytes;
    uint8_t* d = dst + size_t(c) * bytes;
    const size_t step = size_t(channels) * bytes;
    if (bytes == 1) for (size_t p = 0; p < pixels; p++) d[p * step] = plane[p];
    else for (size_t p = 0; p < pixels; p++) std::memcpy(d + p * step, plane + 2 * p, 2);
  }
}

}  // namespace cloudvolume_planes
