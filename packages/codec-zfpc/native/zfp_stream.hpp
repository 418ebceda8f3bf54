// One zfp stream (with its full zfp header, as zfpy writes it) decoded into or encoded
// from a strided view of a chunk buffer, through Debian's libzfp. Shared by the addon
// (zfpc.cc) and the sanitizer fuzz driver (fuzz_asan.cc).
//
// Why the padding: libzfp's bit stream reads 64-bit words with no end check, so a
// truncated or corrupt stream makes it read past the buffer. Each 4^d block reads at
// most max(minbits, maxbits) bits in a valid stream and, in a corrupt one, no more than
// its bit planes can hold (< 2 * ZFP_MAX_BITS), so a copy of the stream padded with
// zeros to (blocks * that bound + header) bytes can never be overrun. The copy lives in
// a per-thread buffer that only grows, so a decode costs one memcpy of the stream.
#pragma once
#include <zfp.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
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

// Decodes `bytes` (a zfp stream with a full header) into the view of `out` (`outValues`
// values). Returns "" or what is wrong.
inline std::string decode(const uint8_t* bytes, size_t n, void* out, size_t outValues, const View& v) {
  if (!view_fits(v, outValues)) return "the stream's place in the chunk lies outside the chunk";
  // Read the header from a copy padded past its largest size.
  const size_t headerBytes = ZFP_HEADER_MAX_BITS / 8 + 16;
  uint8_t* buf = padded_copy(bytes, n, headerBytes);
  size_t blocks = 1, bound = 0;
  {
    Closer c;
    c.s = stream_open(buf, std::max(n, headerBytes));
    c.z = zfp_stream_open(c.s);
    c.f = zfp_field_alloc();
    if (!zfp_read_header(c.z, c.f, ZFP_HEADER_FULL)) return "not a zfp stream with a full header (or a corrupt one)";
    if (int(c.f->type) != v.type) return "the zfp stream's value type differs from the zfpc header's";
    size_t dims[4] = {c.f->nx, c.f->ny, c.f->nz, c.f->nw};
    for (unsigned i = 0; i < 4; i++) {
      size_t want = i < v.ndims ? v.n[i] : 0;
      if (dims[i] != want) return "the zfp stream's dimensions differ from its hyperplane's in the zfpc container";
      if (want) blocks *= (want + 3) / 4;
    }
    size_t perBlock = std::max<size_t>(std::max(c.z->minbits, c.z->maxbits), 2 * ZFP_MAX_BITS) + 64;
    bound = (ZFP_HEADER_MAX_BITS + blocks * perBlock) / 8 + 64;
    buf = padded_copy(bytes, n, bound);
  }
  Closer c;
  c.s = stream_open(buf, std::max(n, bound));
  c.z = zfp_stream_open(c.s);
  c.f = zfp_field_alloc();
  if (!zfp_read_header(c.z, c.f, ZFP_HEADER_FULL)) return "not a zfp stream with a full header";
  zfp_field_free(c.f);
  c.f = make_field(v, out);
  size_t used = zfp_decompress(c.z, c.f);
  if (!used) return "libzfp could not decode the stream";
  // A valid stream ends within its bytes (zfp pads its last word).
  if (used > n + 8) return "the zfp stream is truncated";
  return "";
}

enum Mode { REVERSIBLE = 0, RATE = 1, PRECISION = 2, ACCURACY = 3 };

// Encodes the view of `values` as zfpy.compress_numpy does (full header, then the
// field); returns the bytes, or throws std::string.
inline std::vector<uint8_t> encode(const void* values, size_t valueCount, const View& v, Mode mode, double param) {
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
  // A per-thread output buffer that only grows: a fresh multi-megabyte buffer per chunk
  // costs its page faults on every call. zfp writes every word it reports.
  thread_local std::vector<uint64_t> words;
  if (words.size() < (cap + 7) / 8 + 1) words.resize((cap + 7) / 8 + 1);
  c.s = stream_open(words.data(), words.size() * 8);
  zfp_stream_set_bit_stream(c.z, c.s);
  zfp_stream_rewind(c.z);
  if (!zfp_write_header(c.z, c.f, ZFP_HEADER_FULL)) throw std::string("libzfp could not write the stream header");
  size_t n = zfp_compress(c.z, c.f);
  if (!n) throw std::string("libzfp could not encode the values");
  const uint8_t* p = reinterpret_cast<const uint8_t*>(words.data());
  return std::vector<uint8_t>(p, p + n);
}

}  // namespace zfps
