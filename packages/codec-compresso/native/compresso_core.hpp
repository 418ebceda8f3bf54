// The compresso algorithm (stream format: ../src/format.ts), shared by the Node addon
// (compresso.cc) and the AddressSanitizer fuzz driver (fuzz_asan.cc). Header-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace compresso_core {


constexpr size_t kHeader = 36;

struct Header {
  uint8_t version, width;
  size_t sx, sy, sz, xstep, ystep, zstep;
  uint64_t ids, values, locations;
  uint8_t connectivity;
};

uint64_t rd(const uint8_t* p, size_t w) {
  uint64_t v = 0;
  for (size_t i = 0; i < w; i++) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

void wr(std::vector<uint8_t>& out, uint64_t v, size_t w) {
  for (size_t i = 0; i < w; i++) out.push_back(uint8_t(v >> (8 * i)));
}

size_t windowWidth(size_t bits) { return bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 32 ? 4 : 8; }
size_t zindexWidth(size_t sx, size_t sy) {
  uint64_t v = 2 * uint64_t(sx) * sy;
  return v < (1ull << 8) ? 1 : v < (1ull << 16) ? 2 : v < (1ull << 32) ? 4 : 8;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

Header readHeader(const uint8_t* b, size_t n) {
  if (n < kHeader) fail(std::to_string(n) + " bytes cannot hold the 36-byte header (truncated?)");
  if (b[0] != 'c' || b[1] != 'p' || b[2] != 's' || b[3] != 'o') fail("no \"cpso\" magic number: not a compresso stream");
  Header h;
  h.version = b[4];
  if (h.version > 1) fail("format version " + std::to_string(h.version) + " is newer than this decoder reads (0 and 1)");
  h.width = b[5];
  if (h.width != 1 && h.width != 2 && h.width != 4 && h.width != 8) fail("data width " + std::to_string(h.width) + " is not 1, 2, 4 or 8");
  h.sx = rd(b + 6, 2); h.sy = rd(b + 8, 2); h.sz = rd(b + 10, 2);
  h.xstep = b[12]; h.ystep = b[13]; h.zstep = b[14];
  h.ids = rd(b + 15, 8); h.values = rd(b + 23, 4); h.locations = rd(b + 27, 8);
  h.connectivity = b[35];
  if (h.connectivity != 4 && h.connectivity != 6) fail("connectivity " + std::to_string(h.connectivity) + " is not 4 or 6");
  size_t steps = h.xstep * h.ystep * h.zstep;
  if (steps == 0 || steps > 64) fail("window must hold 1 to 64 voxels");
  return h;
}

// The window stream (run-length coded value indices, one per block) as one value index
// per block, checked against the block count and the number of values.
std::vector<uint32_t> readWindows(const uint8_t* b, uint64_t pWin, uint64_t winEnd, size_t ww, size_t nblocks, uint64_t nvalues) {
  std::vector<uint32_t> windows(nblocks, 0);
  size_t index = 0;
  for (uint64_t p = pWin; p < winEnd; p += ww) {
    const uint64_t v = rd(b + p, ww), k = v >> 1;
    if (v & 1) {
      if (k > nblocks - index) fail("a run of windows passes the blocks");
      index += k;
    } else {
      if (index >= nblocks) fail("more windows than blocks");
      if (k >= nvalues) fail("a window value index is past the values");
      windows[index++] = uint32_t(k);
    }
  }
  if (index != nblocks) fail("the windows cover " + std::to_string(index) + " of " + std::to_string(nblocks) + " blocks (truncated?)");
  return windows;
}

// Connected components of the non-boundary voxels, numbered in raster order of their
// first voxel (cc3d's numbering); 0 on boundaries. Returns the count.
uint32_t components(const uint8_t* bnd, size_t sx, size_t sy, size_t sz, int conn, std::vector<uint32_t>& out) {
  const size_t n = sx * sy * sz, sxy = sx * sy;
  out.assign(n, 0);
  // Reused from call to call on this thread: fresh multi-megabyte buffers per chunk cost
  // as much in page faults as the work.
  // (References taken once: each use of a thread_local in a shared object would otherwise
  // look up its address again, in the hot loop.)
  thread_local std::vector<uint32_t> tl_parent, tl_final;
  std::vector<uint32_t>& parent = tl_parent;
  std::vector<uint32_t>& final = tl_final;
  parent.clear();
  parent.push_back(0);
  auto root = [&](uint32_t a) {
    while (parent[a] != a) { parent[a] = parent[parent[a]]; a = parent[a]; }
    return a;
  };
  uint32_t* o = out.data();
  // Union of the sets of a and b; the smaller root wins.
  auto unite = [&](uint32_t a, uint32_t b) {
    a = root(a); b = root(b);
    if (a < b) parent[b] = a; else if (b < a) parent[a] = b;
  };
  size_t i = 0;
  for (size_t z = 0; z < sz; z++) for (size_t y = 0; y < sy; y++) {
    uint32_t left = 0, lastUp = 0;
    for (size_t x = 0; x < sx; x++, i++) {
      if (bnd[i]) { left = 0; continue; }
      const uint32_t up = (y > 0 && !bnd[i - sx]) ? o[i - sx] : 0;
      uint32_t l = left;
      if (!l) {
        l = up;
      } else if (up && up != l && up != lastUp) {
        unite(l, up); // a run meeting another label above (once per label it meets)
      }
      lastUp = up;
      if (conn == 6 && z > 0 && !bnd[i - sxy]) {
        const uint32_t back = o[i - sxy];
        if (!l) l = back; else if (back != l) unite(l, back);
      }
      if (!l) { l = uint32_t(parent.size()); parent.push_back(l); }
      o[i] = l;
      left = l;
    }
  }
  final.assign(parent.size(), 0);
  uint32_t count = 0;
  for (uint32_t p = 1; p < parent.size(); p++) {
    uint32_t r = p;
    while (parent[r] != r) r = parent[r];
    final[p] = r == p ? ++count : final[r];
  }
  const uint32_t* f = final.data();
  for (size_t j = 0; j < n; j++) o[j] = f[o[j]];
  return count;
}

// A boundary voxel no left or upper neighbour explains: read its location code at
// `index` (format.ts) and apply it to out[i] (voxel x, y, z): copy a neighbour (0-5), take
// the next entry as the label (6), or the label code - 7. Codes 4 and 5 copy across z
// slices, which only `crossSlices` callers (the whole chunk in `out`) allow. Advances
// `index` past what it read; `end` is the first location it may not read.
template <typename T>
inline void applyLocation(const uint8_t* locs, size_t width, uint64_t& index, uint64_t end, T* out, size_t i, size_t x, size_t y, size_t z,
                          size_t sx, size_t sy, size_t sz, bool crossSlices) {
  if (index >= end) fail("a boundary voxel needs more locations than the stream has");
  const uint64_t code = rd(locs + index * width, width);
  const size_t sxy = sx * sy;
  bool ok = true;
  switch (code) {
    case 0: ok = x > 0; if (ok) out[i] = out[i - 1]; break;
    case 1: ok = x + 1 < sx; if (ok) out[i] = out[i + 1]; break;
    case 2: ok = y > 0; if (ok) out[i] = out[i - sx]; break;
    case 3: ok = y + 1 < sy; if (ok) out[i] = out[i + sx]; break;
    case 4:
    case 5:
      if (!crossSlices) fail("the slice copies a label from another slice (location code " + std::to_string(code) + "): decode the whole chunk");
      ok = code == 4 ? z > 0 : z + 1 < sz;
      if (ok) out[i] = code == 4 ? out[i - sxy] : out[i + sxy];
      break;
    case 6:
      index++;
      if (index >= end) fail("location code 6 is the last location, without its label");
      out[i] = T(rd(locs + index * width, width));
      break;
    default: out[i] = T(code - 7);
  }
  if (!ok) fail("location " + std::to_string(index) + " points outside the chunk");
  index++;
}

// The generic decoder (any connectivity, one voxel at a time); decode() below takes the
// run-based path of compresso_slices.hpp for 4-connected streams.
template <typename T>
void decodeVoxels(const uint8_t* b, size_t n, T* out, size_t sx, size_t sy, size_t sz) {
  Header h = readHeader(b, n);
  if (h.sx != sx || h.sy != sy || h.sz != sz) fail("the stream is " + std::to_string(h.sx) + "x" + std::to_string(h.sy) + "x" + std::to_string(h.sz) + ", the chunk " + std::to_string(sx) + "x" + std::to_string(sy) + "x" + std::to_string(sz));
  if (h.width > sizeof(T)) fail(std::to_string(h.width) + "-byte labels do not fit the layer's type");
  const size_t ww = windowWidth(h.xstep * h.ystep * h.zstep);
  const size_t voxels = sx * sy * sz;
  if (voxels == 0) return;
  const uint64_t pIds = kHeader, pVals = pIds + h.ids * h.width, pLocs = pVals + h.values * ww, pWin = pLocs + h.locations * h.width;
  const uint64_t zbytes = h.version >= 1 ? 2 * sz * zindexWidth(sx, sy) : 0;
  if (h.ids > n || h.locations > n || h.values > n || pWin + zbytes > n) fail("the header's ids, values and locations need more bytes than the stream has (truncated or corrupt)");
  const uint64_t winEnd = n - zbytes;
  if ((winEnd - pWin) % ww) fail("the windows are not a whole number of entries");

  const size_t nx = (sx + h.xstep - 1) / h.xstep, ny = (sy + h.ystep - 1) / h.ystep, nz = (sz + h.zstep - 1) / h.zstep;
  const size_t nblocks = nx * ny * nz;
  thread_local std::vector<uint8_t> tl_bnd;
  std::vector<uint8_t>& bnd = tl_bnd;
  bnd.assign(voxels, 0);
  if (h.values > 0) {
    std::vector<uint32_t> windows = readWindows(b, pWin, winEnd, ww, nblocks, h.values);
    std::vector<uint64_t> values(h.values);
    for (uint64_t i = 0; i < h.values; i++) values[i] = rd(b + pVals + i * ww, ww);
    // Loop invariants in locals: stores through uint8_t* may alias anything, so the
    // compiler would otherwise reload them on every voxel.
    const size_t xs = h.xstep, ys = h.ystep, zs = h.zstep;
    const uint32_t* win = windows.data();
    const uint64_t* vals = values.data();
    uint8_t* bp = bnd.data();
    size_t iv = 0;
    for (size_t z = 0; z < sz; z++) {
      const size_t zb = nx * ny * (z / zs), zo = xs * ys * (z % zs);
      for (size_t y = 0; y < sy; y++) {
        const size_t yb = zb + nx * (y / ys), yo = zo + xs * (y % ys);
        const uint32_t* row = win + yb;
        size_t x = 0;
        for (size_t xb = 0; xb < nx; xb++) {
          const uint64_t w = vals[row[xb]] >> yo;
          const size_t end = std::min(sx, x + xs);
          for (size_t xo = 0; x < end; xo++, x++) bp[iv++] = uint8_t((w >> xo) & 1);
        }
      }
    }
  }
  thread_local std::vector<uint32_t> tl_comp;
  std::vector<uint32_t>& comp = tl_comp;
  uint32_t count = components(bnd.data(), sx, sy, sz, h.connectivity, comp);
  if (count != h.ids) fail("the boundaries give " + std::to_string(count) + " connected components, the stream has " + std::to_string(h.ids) + " ids");
  std::vector<T> ids(h.ids + 1, 0);
  for (uint64_t i = 0; i < h.ids; i++) ids[i + 1] = T(rd(b + pIds + i * h.width, h.width));
  {
    const T* idp = ids.data();
    const uint32_t* cp = comp.data();
    for (size_t i = 0; i < voxels; i++) out[i] = idp[cp[i]];
  }

  const size_t sxy = sx * sy;
  uint64_t index = 0;
  const uint8_t* bp = bnd.data();
  // Boundary voxels in raster order (each may copy one resolved before it). Most of a
  // row is not boundary: skip 8 voxels at a time where none is, instead of a branch per
  // voxel that the CPU cannot predict.
  auto handle = [&](size_t x, size_t y, size_t z, size_t i) {
      if (x > 0 && !bp[i - 1]) { out[i] = out[i - 1]; return; }
      if (y > 0 && !bp[i - sx]) { out[i] = out[i - sx]; return; }
      if (h.connectivity == 6 && z > 0 && !bp[i - sxy]) { out[i] = out[i - sxy]; return; }
      applyLocation(b + pLocs, h.width, index, h.locations, out, i, x, y, z, sx, sy, sz, true);
  };
  size_t i = 0;
  for (size_t z = 0; z < sz; z++) for (size_t y = 0; y < sy; y++) {
    size_t x = 0;
    while (x < sx) {
      if (x + 8 <= sx) {
        uint64_t word;
        std::memcpy(&word, bp + i, 8);
        if (!word) { x += 8; i += 8; continue; }
        for (size_t e = x + 8; x < e; x++, i++) if (bp[i]) handle(x, y, z, i);
      } else {
        if (bp[i]) handle(x, y, z, i);
        x++; i++;
      }
    }
  }
  if (index != h.locations) fail("locations are left over (corrupt)");
}

template <typename T>
std::vector<uint8_t> encode(const T* v, size_t sx, size_t sy, size_t sz) {
  const size_t n = sx * sy * sz, sxy = sx * sy;
  const size_t xstep = 4, ystep = 4, zstep = 1, ww = 2;
  std::vector<uint8_t> bnd(n, 0);
  size_t i = 0;
  for (size_t z = 0; z < sz; z++) for (size_t y = 0; y < sy; y++) for (size_t x = 0; x < sx; x++, i++) {
    if ((x + 1 < sx && v[i] != v[i + 1]) || (y + 1 < sy && v[i] != v[i + sx])) bnd[i] = 1;
  }
  std::vector<uint32_t> comp;
  uint32_t count = components(bnd.data(), sx, sy, sz, 4, comp);
  std::vector<T> ids(count);
  std::vector<uint64_t> idsPerSlice(sz, 0);
  uint32_t seen = 0;
  for (size_t j = 0; j < n; j++) {
    uint32_t c = comp[j];
    if (c > seen) { seen = c; ids[c - 1] = v[j]; idsPerSlice[j / sxy]++; }
  }
  const size_t nx = (sx + xstep - 1) / xstep, ny = (sy + ystep - 1) / ystep, nz = (sz + zstep - 1) / zstep;
  std::vector<uint16_t> windows(nx * ny * nz, 0);
  i = 0;
  for (size_t z = 0; z < sz; z++) for (size_t y = 0; y < sy; y++) {
    uint16_t* row = windows.data() + nx * (y / ystep + ny * (z / zstep));
    const unsigned shift = unsigned(xstep * ((y % ystep) + ystep * (z % zstep)));
    for (size_t x = 0; x < sx; x++, i++) row[x / xstep] |= uint16_t(unsigned(bnd[i]) << ((x % xstep) + shift));
  }
  // The distinct window values, ascending: 16-bit windows, so a presence table beats a sort.
  std::vector<uint16_t> indexOf(65536, 0);
  for (uint16_t w : windows) indexOf[w] = 1;
  std::vector<uint16_t> values;
  for (size_t w = 0; w < 65536; w++) if (indexOf[w]) { indexOf[w] = uint16_t(values.size()); values.push_back(uint16_t(w)); }
  const uint64_t maxRun = 0xffff / 2;
  std::vector<uint64_t> rle;
  uint64_t run = 0;
  for (uint16_t w : windows) {
    uint16_t idx = indexOf[w];
    if (idx == 0) { run++; if (run < maxRun) continue; }
    if (run) { rle.push_back(run * 2 + 1); run = 0; }
    rle.push_back(uint64_t(idx) * 2);
  }
  if (run) rle.push_back(run * 2 + 1);
  std::vector<uint64_t> locs;
  std::vector<uint64_t> locsPerSlice(sz, 0);
  const uint64_t top = uint64_t(T(~T(0)));
  const uint8_t* bp = bnd.data();
  auto locate = [&](size_t x, size_t y, size_t z, size_t i) {
    if (x > 0 && !bp[i - 1]) return;
    if (y > 0 && !bp[i - sx]) return;
    auto same = [&](size_t j) { return !bp[j] && v[j] == v[i]; };
    size_t before = locs.size();
    if (x > 0 && same(i - 1)) locs.push_back(0);
    else if (x + 1 < sx && same(i + 1)) locs.push_back(1);
    else if (y > 0 && same(i - sx)) locs.push_back(2);
    else if (y + 1 < sy && same(i + sx)) locs.push_back(3);
    else if (uint64_t(v[i]) > top - 7) { locs.push_back(6); locs.push_back(uint64_t(v[i])); }
    else locs.push_back(uint64_t(v[i]) + 7);
    locsPerSlice[z] += locs.size() - before;
  };
  // Boundary voxels in raster order, skipping 8 non-boundary voxels at a time.
  i = 0;
  for (size_t z = 0; z < sz; z++) for (size_t y = 0; y < sy; y++) {
    for (size_t x = 0; x < sx;) {
      uint64_t word = 1;
      if (x + 8 <= sx) std::memcpy(&word, bp + i, 8);
      if (!word) { x += 8; i += 8; continue; }
      for (size_t e = std::min(sx, x + 8); x < e; x++, i++) if (bp[i]) locate(x, y, z, i);
    }
  }
  const size_t w = sizeof(T), zw = zindexWidth(sx, sy);
  std::vector<uint8_t> out;
  out.reserve(kHeader + count * w + values.size() * ww + locs.size() * w + rle.size() * ww + 2 * sz * zw);
  const char magic[4] = {'c', 'p', 's', 'o'};
  for (char c : magic) out.push_back(uint8_t(c));
  wr(out, 1, 1); wr(out, w, 1); wr(out, sx, 2); wr(out, sy, 2); wr(out, sz, 2);
  wr(out, xstep, 1); wr(out, ystep, 1); wr(out, zstep, 1);
  wr(out, count, 8); wr(out, values.size(), 4); wr(out, locs.size(), 8); wr(out, 4, 1);
  for (T id : ids) wr(out, uint64_t(id), w);
  for (uint16_t val : values) wr(out, val, ww);
  for (uint64_t l : locs) wr(out, l, w);
  for (uint64_t r : rle) wr(out, r, ww);
  for (uint64_t c : idsPerSlice) wr(out, c, zw);
  // compresso 3.x stores the location counts one slice late (see src/format.ts).
  for (size_t z = 0; z < sz; z++) wr(out, z == 0 ? 0 : locsPerSlice[z - 1], zw);
  return out;
}

}  // namespace compresso_core
