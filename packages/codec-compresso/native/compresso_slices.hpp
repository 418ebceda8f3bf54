// The fast path of the compresso decoder, for 4-connected streams (the only kind
// compresso 3.x and CloudVolume write): components never leave their z slice, so each
// slice is labelled on its own, by runs instead of voxels. Also decodes single slices of
// version-1 streams through their z index, without the rest of the chunk.
//
// Per slice: the boundary bits of each row (from the windows, 64 voxels per word), the
// runs of non-boundary voxels between them, a union-find over runs that overlap the row
// above, then every run filled with its component's label; boundary voxels are then
// resolved in raster order (format.ts: copy a neighbour, or read a location code).
// Numbering matches the generic decoder: a component's first run in raster order gets
// the smallest provisional label, so roots in label order are components in raster order.
#pragma once
#include "compresso_core.hpp"

namespace compresso_core {

struct Run { uint32_t x0, x1, label; };

// Everything both entry points need: checked section offsets, the decoded windows and
// window values, and the boundary bits of every row of the chunk.
struct Sliced {
  Header h;
  uint64_t pIds, pLocs;
  size_t words;                  // 64-bit words per row
  std::vector<uint64_t> bits;    // row (z * sy + y) at bits[row * words]
};

// Rows of slices [zlo, zhi) get their boundary bits; the others stay zero.
inline void readSliced(const uint8_t* b, size_t n, size_t sx, size_t sy, size_t sz, size_t labelBytes, Sliced& s, size_t zlo, size_t zhi) {
  Header& h = s.h;
  h = readHeader(b, n);
  if (h.sx != sx || h.sy != sy || h.sz != sz) fail("the stream is " + std::to_string(h.sx) + "x" + std::to_string(h.sy) + "x" + std::to_string(h.sz) + ", the chunk " + std::to_string(sx) + "x" + std::to_string(sy) + "x" + std::to_string(sz));
  if (h.width > labelBytes) fail(std::to_string(h.width) + "-byte labels do not fit the layer's type");
  const size_t ww = windowWidth(h.xstep * h.ystep * h.zstep);
  const uint64_t pVals = kHeader + h.ids * h.width;
  s.pIds = kHeader;
  s.pLocs = pVals + h.values * ww;
  const uint64_t pWin = s.pLocs + h.locations * h.width;
  const uint64_t zbytes = h.version >= 1 ? 2 * sz * zindexWidth(sx, sy) : 0;
  if (h.ids > n || h.locations > n || h.values > n || pWin + zbytes > n) fail("the header's ids, values and locations need more bytes than the stream has (truncated or corrupt)");
  const uint64_t winEnd = n - zbytes;
  if ((winEnd - pWin) % ww) fail("the windows are not a whole number of entries");
  const size_t xs = h.xstep, ys = h.ystep, zs = h.zstep;
  const size_t nx = (sx + xs - 1) / xs, ny = (sy + ys - 1) / ys, nz = (sz + zs - 1) / zs, nblocks = nx * ny * nz;
  s.words = (sx + 63) / 64;
  s.bits.assign(s.words * sy * sz, 0);
  if (h.values == 0) return;
  const std::vector<uint32_t> windows = readWindows(b, pWin, winEnd, ww, nblocks, h.values);
  std::vector<uint64_t> values(h.values);
  for (uint64_t i = 0; i < h.values; i++) values[i] = rd(b + pVals + i * ww, ww);
  const uint64_t mask = xs >= 64 ? ~uint64_t(0) : (uint64_t(1) << xs) - 1;
  const uint64_t tail = sx % 64 ? (uint64_t(1) << (sx % 64)) - 1 : ~uint64_t(0);
  const uint32_t* win = windows.data();
  const uint64_t* vals = values.data();
  for (size_t z = zlo; z < zhi; z++) {
    for (size_t y = 0; y < sy; y++) {
      uint64_t* row = s.bits.data() + (z * sy + y) * s.words;
      const uint32_t* wrow = win + nx * (y / ys + ny * (z / zs));
      const unsigned shift = unsigned(xs * ((y % ys) + ys * (z % zs)));
      for (size_t xb = 0, pos = 0; xb < nx; xb++, pos += xs) {
        const uint64_t v = (vals[wrow[xb]] >> shift) & mask;
        const size_t w = pos >> 6, o = pos & 63;
        row[w] |= v << o;
        if (o && o + xs > 64 && w + 1 < s.words) row[w + 1] |= v >> (64 - o);
      }
      row[s.words - 1] &= tail;  // the last block may reach past sx
    }
  }
}

// The runs of zero bits (non-boundary voxels) of one row, appended to `runs`.
inline void rowRuns(const uint64_t* row, size_t sx, std::vector<Run>& runs) {
  size_t x = 0;
  while (x < sx) {
    // Skip boundary voxels (ones), then take the zeros.
    for (;;) {
      if (x >= sx) return;
      const uint64_t ones = row[x >> 6] >> (x & 63);
      const uint64_t notOnes = ~ones & (((x & 63) == 0) ? ~uint64_t(0) : (~uint64_t(0) >> (x & 63)));
      if (notOnes) { x += size_t(__builtin_ctzll(notOnes)); break; }
      x = (x | 63) + 1;
    }
    if (x >= sx) return;
    size_t start = x;
    for (;;) {
      if (x >= sx) { x = sx; break; }
      const uint64_t ones = row[x >> 6] >> (x & 63);
      if (ones) { x += size_t(__builtin_ctzll(ones)); break; }
      x = (x | 63) + 1;
    }
    if (x > sx) x = sx;
    runs.push_back({uint32_t(start), uint32_t(x), 0});
  }
}

// Labels one slice and fills its voxels: runs with their component's id (ids[k] is the
// slice's component k, from 1), boundary voxels with 0. The slice must have `idCount`
// components (exact) or at most that many (the ids the chunk has left); returns its count.
template <typename T>
uint64_t labelSlice(const Sliced& s, size_t z, size_t sx, size_t sy, const T* ids, uint64_t idCount, bool exact, T* out) {
  thread_local std::vector<Run> tl_runs;
  thread_local std::vector<uint32_t> tl_rowStart, tl_parent, tl_final;
  std::vector<Run>& runs = tl_runs;
  std::vector<uint32_t>& rowStart = tl_rowStart;
  std::vector<uint32_t>& parent = tl_parent;
  std::vector<uint32_t>& final = tl_final;
  runs.clear();
  rowStart.assign(sy + 1, 0);
  parent.clear();
  parent.push_back(0);
  auto root = [&](uint32_t a) {
    while (parent[a] != a) { parent[a] = parent[parent[a]]; a = parent[a]; }
    return a;
  };
  for (size_t y = 0; y < sy; y++) {
    rowStart[y] = uint32_t(runs.size());
    rowRuns(s.bits.data() + (z * sy + y) * s.words, sx, runs);
    const size_t end = runs.size();
    if (y == 0) {
      for (size_t r = rowStart[y]; r < end; r++) { runs[r].label = uint32_t(parent.size()); parent.push_back(runs[r].label); }
      continue;
    }
    size_t j = rowStart[y - 1];
    const size_t prevEnd = rowStart[y];
    for (size_t r = rowStart[y]; r < end; r++) {
      Run& cur = runs[r];
      while (j < prevEnd && runs[j].x1 <= cur.x0) j++;
      uint32_t label = 0;
      for (size_t k = j; k < prevEnd && runs[k].x0 < cur.x1; k++) {
        const uint32_t other = root(runs[k].label);
        if (!label) label = other;
        else if (other != label) {
          // The smaller root wins: it is the component's earlier run.
          if (other < label) { parent[label] = other; label = other; }
          else parent[other] = label;
        }
      }
      if (!label) { label = uint32_t(parent.size()); parent.push_back(label); }
      cur.label = label;
    }
  }
  rowStart[sy] = uint32_t(runs.size());
  final.assign(parent.size(), 0);
  uint64_t count = 0;
  for (uint32_t p = 1; p < parent.size(); p++) {
    const uint32_t r = root(p);
    final[p] = r == p ? uint32_t(++count) : final[r];
  }
  if (exact ? count != idCount : count > idCount)
    fail("the boundaries give " + std::to_string(count) + " connected components in slice " + std::to_string(z) + ", the stream has " + (exact ? "" : "at most ") + std::to_string(idCount) + " ids for it");
  const uint32_t* f = final.data();
  for (size_t y = 0; y < sy; y++) {
    T* o = out + y * sx;
    uint32_t x = 0;
    for (size_t r = rowStart[y]; r < rowStart[y + 1]; r++) {
      const Run& run = runs[r];
      for (; x < run.x0; x++) o[x] = 0;
      const T id = ids[f[run.label]];
      for (; x < run.x1; x++) o[x] = id;
    }
    for (; x < sx; x++) o[x] = 0;
  }
  return count;
}

// Resolves the boundary voxels of slices [z0, z1) in raster order, reading location codes
// from `index` on; `out` holds slices [z0, z1) (slice z0 at out). Cross-slice codes (4, 5)
// need the whole chunk: `whole` says whether out is it.
template <typename T>
void boundaries(const uint8_t* b, const Sliced& s, size_t sx, size_t sy, size_t sz, size_t z0, size_t z1, bool whole, T* out, uint64_t& index, uint64_t locEnd) {
  const Header& h = s.h;
  const size_t sxy = sx * sy;
  auto bit = [&](size_t x, size_t y, size_t z) { return (s.bits[(z * sy + y) * s.words + (x >> 6)] >> (x & 63)) & 1; };
  for (size_t z = z0; z < z1; z++) {
    for (size_t y = 0; y < sy; y++) {
      const uint64_t* row = s.bits.data() + (z * sy + y) * s.words;
      for (size_t w = 0; w < s.words; w++) {
        for (uint64_t m = row[w]; m; m &= m - 1) {
          const size_t x = w * 64 + size_t(__builtin_ctzll(m));
          const size_t i = (z - z0) * sxy + y * sx + x;
          if (x > 0 && !bit(x - 1, y, z)) { out[i] = out[i - 1]; continue; }
          if (y > 0 && !bit(x, y - 1, z)) { out[i] = out[i - sx]; continue; }
          applyLocation(b + s.pLocs, h.width, index, locEnd, out, i, x, y, z, sx, sy, sz, whole);
        }
      }
    }
  }
}

// The whole chunk of a 4-connected stream.
template <typename T>
void decodeSlices(const uint8_t* b, size_t n, T* out, size_t sx, size_t sy, size_t sz) {
  thread_local Sliced tl_s;
  Sliced& s = tl_s;
  readSliced(b, n, sx, sy, sz, sizeof(T), s, 0, sz);
  std::vector<T> ids(s.h.ids + 1, 0);
  for (uint64_t i = 0; i < s.h.ids; i++) ids[i + 1] = T(rd(b + s.pIds + i * s.h.width, s.h.width));
  uint64_t used = 0;
  const size_t sxy = sx * sy;
  // Each slice's components take the next ids.
  for (size_t z = 0; z < sz; z++) used += labelSlice(s, z, sx, sy, ids.data() + used, s.h.ids - used, false, out + z * sxy);
  if (used != s.h.ids) fail("the boundaries give " + std::to_string(used) + " connected components, the stream has " + std::to_string(s.h.ids) + " ids");
  uint64_t index = 0;
  boundaries(b, s, sx, sy, sz, 0, sz, true, out, index, s.h.locations);
  if (index != s.h.locations) fail("locations are left over (corrupt)");
}

}  // namespace compresso_core

namespace compresso_core {

// Slice z alone (sx * sy voxels into `out`) of a version-1, 4-connected stream: its ids
// and locations are found through the z index (format.ts). Throws where the stream cannot
// be read that way (version 0, 6-connected, or a code copying from another slice); the
// caller then decodes the whole chunk.
template <typename T>
void decodeSlice(const uint8_t* b, size_t n, T* out, size_t sx, size_t sy, size_t sz, size_t z) {
  if (z >= sz) fail("slice " + std::to_string(z) + " is outside the chunk's " + std::to_string(sz));
  thread_local Sliced tl_s;
  Sliced& s = tl_s;
  readSliced(b, n, sx, sy, sz, sizeof(T), s, z, z + 1);
  const Header& h = s.h;
  if (h.version < 1) fail("a version 0 stream has no z index: decode the whole chunk");
  if (h.connectivity != 4) fail("a 6-connected stream's components cross slices: decode the whole chunk");
  const size_t zw = zindexWidth(sx, sy);
  const uint8_t* zi = b + n - 2 * sz * zw;  // readSliced checked it lies after the windows
  uint64_t idBase = 0, locBase = 0;
  for (size_t k = 0; k < z; k++) idBase += rd(zi + k * zw, zw);
  for (size_t k = 1; k <= z; k++) locBase += rd(zi + (sz + k) * zw, zw);  // entry k counts slice k - 1
  const uint64_t idCount = rd(zi + z * zw, zw);
  if (idBase > h.ids || idCount > h.ids - idBase) fail("the z index gives slice " + std::to_string(z) + " more ids than the stream has");
  if (locBase > h.locations) fail("the z index gives the slices before " + std::to_string(z) + " more locations than the stream has");
  const uint64_t locCount = z + 1 < sz ? rd(zi + (sz + z + 1) * zw, zw) : h.locations - locBase;
  if (locCount > h.locations - locBase) fail("the z index gives slice " + std::to_string(z) + " more locations than the stream has");
  std::vector<T> ids(idCount + 1, 0);
  for (uint64_t i = 0; i < idCount; i++) ids[i + 1] = T(rd(b + s.pIds + (idBase + i) * h.width, h.width));
  labelSlice(s, z, sx, sy, ids.data(), idCount, true, out);
  uint64_t index = locBase;
  boundaries(b, s, sx, sy, sz, z, z + 1, false, out, index, locBase + locCount);
  if (index != locBase + locCount) fail("slice " + std::to_string(z) + " leaves locations unused (corrupt z index)");
}

template <typename T>
void decode(const uint8_t* b, size_t n, T* out, size_t sx, size_t sy, size_t sz) {
  if (n >= kHeader && b[35] == 4) decodeSlices(b, n, out, sx, sy, sz);
  else decodeVoxels(b, n, out, sx, sy, sz);
}

}  // namespace compresso_core
