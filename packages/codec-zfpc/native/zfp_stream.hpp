// One zfp stream (with its full zfp header, as zfpy writes it) decoded into or encoded
// from a strided view of a chunk buffer, through Debian's libzfp. Shared by the addon
// (zfpc.cc) and the sanitizer fuzz driver (fuzz_asan.cc).
//
// Why block by block, from a padded copy: libzfp's bit stream reads 64-bit words with no
// end check, so a truncated or corrupt stream makes it read past the buffer. We decode one
// 4^d block at a time (the order zfp_decompress uses) from a copy of the stream followed
// by zeros, and stop once the blocks have used more bits than the stream has: a block
// starts inside the stream and reads at most max(minbits, maxbits) bits when valid, and
// no more than its bit planes can hold (< 2 * ZFP_MAX_BITS) when not, so the zeros after
// the stream need only hold one block. The copy lives in a per-thread buffer that only
// grows, so a decode costs one memcpy of the stream.
#pragma once
#include <zfp.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace zfps {

struct View {
  int type;               // zfp_type: 1 int32, 2 int64, 3 float, 4 double
  unsigned ndims;         // 1..4
  size_t n[4];            // zfp order: n[0] is zfp's x (fastest in zfp's traversal)
  ptrdiff_t stride[4];    // in values, per zfp axis
  size_t offset;          // first value, in values
};

inline size_t type_bytes(int type) { return type == zfp_type_int32 || type == zfp_type_float ? 4 : 8; }

// Every value the view touches lies inside a buffer of `values` values.
inline bool view_fits(const View& v, size_t values) {
  if (v.ndims < 1 || v.ndims > 4) return false;
  size_t last = v.offset;
  for (unsigned i = 0; i < v.ndims; i++) {
    if (v.n[i] == 0 || v.stride[i] <= 0) return false;
    last += (v.n[i] - 1) * size_t(v.stride[i]);
  }
  return last < values;
}

inline zfp_field* make_field(const View& v, void* base) {
  char* p = static_cast<char*>(base) + v.offset * type_bytes(v.type);
  zfp_type t = zfp_type(v.type);
  switch (v.ndims) {
    case 1: { zfp_field* f = zfp_field_1d(p, t, v.n[0]); zfp_field_set_stride_1d(f, v.stride[0]); return f; }
    case 2: { zfp_field* f = zfp_field_2d(p, t, v.n[0], v.n[1]); zfp_field_set_stride_2d(f, v.stride[0], v.stride[1]); return f; }
    case 3: { zfp_field* f = zfp_field_3d(p, t, v.n[0], v.n[1], v.n[2]); zfp_field_set_stride_3d(f, v.stride[0], v.stride[1], v.stride[2]); return f; }
    default: { zfp_field* f = zfp_field_4d(p, t, v.n[0], v.n[1], v.n[2], v.n[3]); zfp_field_set_stride_4d(f, v.stride[0], v.stride[1], v.stride[2], v.stride[3]); return f; }
  }
}

inline std::vector<uint64_t>& scratch() {
  thread_local std::vector<uint64_t> words;
  return words;
}

#ifdef ZFPS_GUARD_PAGES
// Fuzzing (fuzz_asan.cc): libzfp is not built with the sanitizer, so instead each padded
// copy ends exactly at an inaccessible page: a read past the computed bound faults.
}  // namespace zfps
#include <sys/mman.h>
#include <unistd.h>
namespace zfps {
inline uint8_t* guarded(size_t bytes) {
  thread_local void* last = nullptr;
  thread_local size_t lastLen = 0;
  if (last) munmap(last, lastLen);
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const size_t span = (bytes + page - 1) / page * page;
  uint8_t* base = static_cast<uint8_t*>(mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  mprotect(base + span, page, PROT_NONE);
  last = base;
  lastLen = span + page;
  return base + span - bytes;  // bytes is a multiple of 8: the words stay aligned
}
inline uint8_t* padded_copy(const uint8_t* bytes, size_t n, size_t padded) {
  size_t len = (std::max(n, padded) + 7) / 8 * 8;
  uint8_t* p = guarded(len);
  std::memcpy(p, bytes, n);
  return p;
}
#else
// Copies `bytes` into the scratch buffer, zero-padded to at least `padded` bytes, and
// returns its start. Only the part an earlier, longer stream dirtied is zeroed again.
inline uint8_t* padded_copy(const uint8_t* bytes, size_t n, size_t padded) {
  thread_local size_t dirty = 0;
  std::vector<uint64_t>& w = scratch();
  size_t words = (std::max(n, padded) + 7) / 8;
  if (w.size() < words) w.resize(words, 0);  // new words are zero
  uint8_t* p = reinterpret_cast<uint8_t*>(w.data());
  std::memcpy(p, bytes, n);
  if (dirty > n) std::memset(p + n, 0, dirty - n);
  dirty = n;
  return p;
}
#endif

struct Closer {
  zfp_stream* z = nullptr;
  bitstream* s = nullptr;
  zfp_field* f = nullptr;
  ~Closer() {
    if (f) zfp_field_free(f);
    if (z) zfp_stream_close(z);
    if (s) stream_close(s);
  }
};

// One block decoder per value type and dimensionality, complete and partial (edge)
// blocks, over a strided array: libzfp's low-level API.
template <typename T> struct Blocks;
#define ZFPS_BLOCKS(T, name)                                                                                               \
  template <> struct Blocks<T> {                                                                                           \
    static size_t full(zfp_stream* z, T* p, const ptrdiff_t* s, unsigned d) {                                              \
      switch (d) {                                                                                                         \
        case 1: return zfp_decode_block_strided_##name##_1(z, p, s[0]);                                                    \
        case 2: return zfp_decode_block_strided_##name##_2(z, p, s[0], s[1]);                                              \
        case 3: return zfp_decode_block_strided_##name##_3(z, p, s[0], s[1], s[2]);                                        \
        default: return zfp_decode_block_strided_##name##_4(z, p, s[0], s[1], s[2], s[3]);                                \
      }                                                                                                                    \
    }                                                                                                                      \
    static size_t partial(zfp_stream* z, T* p, const size_t* n, const ptrdiff_t* s, unsigned d) {                          \
      switch (d) {                                                                                                         \
        case 1: return zfp_decode_partial_block_strided_##name##_1(z, p, n[0], s[0]);                                      \
        case 2: return zfp_decode_partial_block_strided_##name##_2(z, p, n[0], n[1], s[0], s[1]);                          \
        case 3: return zfp_decode_partial_block_strided_##name##_3(z, p, n[0], n[1], n[2], s[0], s[1], s[2]);              \
        default: return zfp_decode_partial_block_strided_##name##_4(z, p, n[0], n[1], n[2], n[3], s[0], s[1], s[2], s[3]); \
      }                                                                                                                    \
    }                                                                                                                      \
  };
ZFPS_BLOCKS(int32_t, int32)
ZFPS_BLOCKS(int64_t, int64)
ZFPS_BLOCKS(float, float)
ZFPS_BLOCKS(double, double)
#undef ZFPS_BLOCKS

// The blocks of the view in zfp_decompress's order (x fastest); false once they have
// read more than `limitBits` (the stream is cut or corrupt).
template <typename T>
bool decode_blocks(zfp_stream* z, T* base, const View& v, uint64_t limitBits) {
  size_t n[4] = {1, 1, 1, 1};
  ptrdiff_t st[4] = {0, 0, 0, 0};
  for (unsigned d = 0; d < v.ndims; d++) { n[d] = v.n[d]; st[d] = v.stride[d]; }
  uint64_t used = 0;
  for (size_t w = 0; w < n[3]; w += 4)
    for (size_t k = 0; k < n[2]; k += 4)
      for (size_t j = 0; j < n[1]; j += 4)
        for (size_t i = 0; i < n[0]; i += 4) {
          T* p = base + ptrdiff_t(i) * st[0] + ptrdiff_t(j) * st[1] + ptrdiff_t(k) * st[2] + ptrdiff_t(w) * st[3];
          const size_t b[4] = {std::min<size_t>(4, n[0] - i), std::min<size_t>(4, n[1] - j), std::min<size_t>(4, n[2] - k), std::min<size_t>(4, n[3] - w)};
          bool whole = true;
          for (unsigned d = 0; d < v.ndims; d++) whole = whole && b[d] == 4;
          used += whole ? Blocks<T>::full(z, p, st, v.ndims) : Blocks<T>::partial(z, p, b, st, v.ndims);
          if (used > limitBits) return false;
        }
  return true;
}

// Decodes `bytes` (a zfp stream with a full header) into the view of `out` (`outValues`
// values). Returns "" or what is wrong.
inline std::string decode(const uint8_t* bytes, size_t n, void* out, size_t outValues, const View& v) {
  if (!view_fits(v, outValues)) return "the stream's place in the chunk lies outside the chunk";
  // One block reads at most max(minbits, maxbits) bits when valid and less than
  // 2 * ZFP_MAX_BITS when not; minbits and maxbits are 15-bit fields of the header's mode,
  // below 2 * ZFP_MAX_BITS, so one padding fits every stream and the header, and the
  // stream is copied once.
  const size_t pad = (2 * size_t(ZFP_MAX_BITS) + 64) / 8 + ZFP_HEADER_MAX_BITS / 8 + 32;
  static_assert((1u << 15) < 2 * ZFP_MAX_BITS, "a header's minbits/maxbits fit the padding");
  uint8_t* buf = padded_copy(bytes, n, n + pad);
  Closer c;
  c.s = stream_open(buf, n + pad);
  c.z = zfp_stream_open(c.s);
  c.f = zfp_field_alloc();
  const size_t headerBits = zfp_read_header(c.z, c.f, ZFP_HEADER_FULL);
  if (!headerBits) return "not a zfp stream with a full header (or a corrupt one)";
  if (int(c.f->type) != v.type) return "the zfp stream's value type differs from the zfpc header's";
  const size_t dims[4] = {c.f->nx, c.f->ny, c.f->nz, c.f->nw};
  for (unsigned i = 0; i < 4; i++)
    if (dims[i] != (i < v.ndims ? v.n[i] : 0)) return "the zfp stream's dimensions differ from its hyperplane's in the zfpc container";
  const uint64_t limit = uint64_t(n) * 8 - std::min<uint64_t>(uint64_t(n) * 8, headerBits);
  char* base = static_cast<char*>(out) + v.offset * type_bytes(v.type);
  bool ok;
  switch (v.type) {
    case zfp_type_int32: ok = decode_blocks(c.z, reinterpret_cast<int32_t*>(base), v, limit); break;
    case zfp_type_int64: ok = decode_blocks(c.z, reinterpret_cast<int64_t*>(base), v, limit); break;
    case zfp_type_float: ok = decode_blocks(c.z, reinterpret_cast<float*>(base), v, limit); break;
    default: ok = decode_blocks(c.z, reinterpret_cast<double*>(base), v, limit);
  }
  if (!ok) return "the zfp stream is truncated or corrupt (its blocks need more bits than it has)";
  return "";
}

enum Mode { REVERSIBLE = 0, RATE = 1, PRECISION = 2, ACCURACY = 3 };

// Encodes the view of `values` as zfpy.compress_numpy does (full header, then the
// field). The bytes stay in a per-thread buffer (valid until the next encode on this
// thread; the caller copies them once); throws std::string.
inline std::pair<const uint8_t*, size_t> encode(const void* values, size_t valueCount, const View& v, Mode mode, double param) {
  if (!view_fits(v, valueCount)) throw std::string("the hyperplane lies outside the chunk");
  Closer c;
  c.f = make_field(v, const_cast<void*>(values));
  c.z = zfp_stream_open(nullptr);
  switch (mode) {
    case ACCURACY: zfp_stream_set_accuracy(c.z, param); break;
    // zfpy passes no type (zfp_type_none) and no word alignment here.
    case RATE: zfp_stream_set_rate(c.z, param, zfp_type_none, v.ndims, zfp_false); break;
    case PRECISION: zfp_stream_set_precision(c.z, unsigned(param)); break;
    default: zfp_stream_set_reversible(c.z);
  }
  size_t cap = zfp_stream_maximum_size(c.z, c.f) + 64;
  // A buffer that only grows: a fresh multi-megabyte one per chunk costs its page faults
  // on every call. zfp writes every word it reports.
  thread_local std::vector<uint64_t> words;
  if (words.size() < (cap + 7) / 8 + 1) words.resize((cap + 7) / 8 + 1);
  c.s = stream_open(words.data(), words.size() * 8);
  zfp_stream_set_bit_stream(c.z, c.s);
  zfp_stream_rewind(c.z);
  if (!zfp_write_header(c.z, c.f, ZFP_HEADER_FULL)) throw std::string("libzfp could not write the stream header");
  size_t n = zfp_compress(c.z, c.f);
  if (!n) throw std::string("libzfp could not encode the values");
  return {reinterpret_cast<const uint8_t*>(words.data()), n};
}

}  // namespace zfps
