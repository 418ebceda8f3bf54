// Our own decoder for fpzip streams (fpzip 1.x "FAST" floating-point mode, stream
// version 0x0110/1), written from the stream's structure: a 32-bit range coder carries
// the header and, per field, the residuals of a 3D Lorenzo predictor (computed in the
// value's own float type) between the value's order-preserving integer map and the
// prediction's, with one adaptive quasi-static frequency model per field.
//
// Why not libfpzip's decoder: it reads a buffer with no length, divides by a range that
// corrupt input can drive to zero, and indexes its search table with an unchecked
// frequency, so a few flipped bits crash the process. Here every byte read is checked
// against the end, each of those states is detected, the header must match the chunk
// the caller expects, and decode returns an error code instead. Valid streams decode to
// the same bits as libfpzip (tested against it on fixtures and random arrays).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fpzd {

enum Error {
  OK = 0,
  ERR_TRUNCATED = -1,   // the stream ends before the data does
  ERR_MAGIC = -2,       // not "fpz\0"
  ERR_VERSION = -3,     // another stream version or floating-point mode
  ERR_TYPE = -4,        // float stream where a double is expected or vice versa
  ERR_PRECISION = -5,   // a precision fpzip cannot write
  ERR_SHAPE = -6,       // header dimensions differ from the chunk's
  ERR_CORRUPT = -7,     // the range coder reached a state no encoder produces
  ERR_OUTPUT = -8,      // the output buffer has the wrong size
};

inline const char* error_text(int code) {
  switch (code) {
    case ERR_TRUNCATED: return "the stream is truncated";
    case ERR_MAGIC: return "not an fpzip stream (magic is not \"fpz\\0\")";
    case ERR_VERSION: return "unsupported fpzip stream version (only 0x0110 in FAST mode, as fpzip 1.x writes, is read)";
    case ERR_TYPE: return "the stream's value type (float/double) differs from the layer's data_type";
    case ERR_PRECISION: return "the stream's precision is not one fpzip writes";
    case ERR_SHAPE: return "the stream's dimensions differ from the chunk's";
    case ERR_CORRUPT: return "the stream is corrupt (invalid range-coder state)";
    case ERR_OUTPUT: return "the output buffer has the wrong size";
    default: return "ok";
  }
}

enum { TYPE_FLOAT = 0, TYPE_DOUBLE = 1 };

struct Header {
  unsigned type;   // TYPE_FLOAT or TYPE_DOUBLE
  unsigned prec;   // 0 = full precision
  uint32_t nx, ny, nz, nf;
};

// The range decoder: 32-bit low/range/code, bytes shifted in at the bottom. Reads past
// the end yield zeros and are counted; any count at the end means the stream was cut.
class RangeDecoder {
 public:
  RangeDecoder(const uint8_t* data, size_t size) : p_(data), begin_(data), end_(data + size) { get(4); }

  bool failed() const { return bad_ || overrun_ != 0; }
  bool corrupt() const { return bad_; }
  size_t consumed() const { return size_t(p_ - begin_); }

  // A value 0 <= s < 2^n, n <= 16, coded with a uniform distribution.
  uint32_t shift(unsigned n) {
    range_ >>= n;
    uint32_t s = (code_ - low_) / range_;
    low_ += range_ * s;
    normalize();
    return s;
  }

  // A value of up to 64 bits, sent as 16-bit pieces, lowest first (as the encoder does).
  template <typename U>
  U bits(unsigned n) {
    U s = 0;
    unsigned m = 0;
    for (unsigned i = 1; i < sizeof(U) / 2; i++)
      if (n > 16) {
        s += U(shift(16)) << m;
        m += 16;
        n -= 16;
      }
    // A zero-width read changes nothing in a valid stream (code - low < range), so skip
    // its division.
    return n ? (U(shift(n)) << m) + s : s;
  }

  // The cumulative frequency the next symbol falls in, scaled to the model's 2^16 total;
  // then `consume` narrows the interval to the symbol found.
  uint32_t frequency() {
    range_ >>= 16;
    uint32_t l = (code_ - low_) / range_;
    if (l > 0xffff) {  // outside the model's total: only corrupt input gets here
      bad_ = true;
      l = 0xffff;
    }
    return l;
  }
  void consume(uint32_t cum, uint32_t freq) {
    low_ += range_ * cum;
    range_ *= freq;
    normalize();
  }

 private:
  uint32_t byte() {
    if (p_ < end_) return *p_++;
    overrun_++;
    return 0;
  }
  void get(unsigned n) {
    for (unsigned i = 0; i < n; i++) {
      code_ = (code_ << 8) | byte();
      low_ <<= 8;
    }
  }
  void normalize() {
    while (!((low_ ^ (low_ + range_)) >> 24)) {
      get(1);
      range_ <<= 8;
    }
    if (!(range_ >> 16)) {
      get(2);
      range_ = 0u - low_;
      // low is a multiple of 2^16 here, so the new range is >= 2^16 unless it wrapped to
      // zero, which an encoder never emits (it would loop forever): stop dividing by it.
      if (range_ == 0) {
        bad_ = true;
        range_ = 0xffffffffu;
      }
    }
  }

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  uint32_t low_ = 0, range_ = 0xffffffffu, code_ = 0;
  size_t overrun_ = 0;
  bool bad_ = false;
};

// The adaptive frequency model: frequencies total 2^16, counts are halved at each
// rescale, and rescales come at intervals doubling from (symbols/16 | 2) up to 1024.
// A 129-entry table narrows the binary search for a cumulative frequency.
class QuasiStaticModel {
 public:
  static constexpr unsigned kMaxSymbols = 511;  // 2 * 2^8 - 1, the narrow coder's largest
  static constexpr unsigned kTotalBits = 16;
  static constexpr unsigned kTableBits = 7;
  static constexpr unsigned kPeriod = 0x400;

  explicit QuasiStaticModel(unsigned symbols) : n_(symbols) {
    cumf_[0] = 0;
    cumf_[n_] = 1u << kTotalBits;
    rescale_ = (n_ >> 4) | 2;
    more_ = 0;
    uint32_t f = cumf_[n_] / n_, extra = cumf_[n_] % n_;
    for (unsigned i = 0; i < n_; i++) symf_[i] = f + (i < extra ? 1 : 0);
    rebuild();
  }

  // The symbol whose cumulative interval holds `l` (< 2^16); sets its interval.
  unsigned find(uint32_t l, uint32_t& cum, uint32_t& freq) {
    unsigned t = l >> (kTotalBits - kTableBits);
    unsigned lo = table_[t], hi = table_[t + 1] + 1;
    while (lo + 1 < hi) {
      unsigned mid = (lo + hi) >> 1;
      if (l < cumf_[mid]) hi = mid;
      else lo = mid;
    }
    cum = cumf_[lo];
    freq = cumf_[lo + 1] - cum;
    count(lo);
    return lo;
  }

 private:
  void count(unsigned s) {
    if (!left_) rebuild();
    left_--;
    symf_[s] += incr_;
  }
  void rebuild() {
    if (more_) {  // the rest of this period's symbols add one more
      left_ = more_;
      more_ = 0;
      incr_++;
      return;
    }
    if (rescale_ != kPeriod) {
      rescale_ *= 2;
      if (rescale_ > kPeriod) rescale_ = kPeriod;
    }
    uint32_t cf = cumf_[n_], slack = cf;
    for (unsigned i = n_; i--;) {
      cf -= symf_[i];
      cumf_[i] = cf;
      symf_[i] = (symf_[i] >> 1) | 1;
      slack -= symf_[i];
    }
    incr_ = slack / rescale_;
    more_ = slack % rescale_;
    left_ = rescale_ - more_;
    const unsigned shiftBits = kTotalBits - kTableBits;
    unsigned h = 1u << kTableBits;
    for (unsigned i = n_; i--;) {
      for (unsigned l = cumf_[i] >> shiftBits; l <= h; l++) table_[l] = i;
      h = cumf_[i] >> shiftBits;
    }
  }

  unsigned n_;
  uint32_t left_ = 0, more_ = 0, incr_ = 0, rescale_ = 0;
  uint32_t symf_[kMaxSymbols + 1];
  uint32_t cumf_[kMaxSymbols + 1];
  uint32_t table_[(1u << kTableBits) + 1];
};

// The order-preserving map of a value's bits to an unsigned integer of `bits` bits (the
// retained precision), and back; identity() drops the bits below the precision.
template <typename T> struct Bits;
template <> struct Bits<float> { typedef uint32_t U; };
template <> struct Bits<double> { typedef uint64_t U; };

template <typename T>
struct ValueMap {
  typedef typename Bits<T>::U U;
  unsigned bits, shift;
  explicit ValueMap(unsigned b) : bits(b), shift(unsigned(sizeof(U) * 8) - b) {}
  U forward(T v) const {
    U r;
    std::memcpy(&r, &v, sizeof r);
    r = ~r;
    r >>= shift;
    r ^= (U(0) - (r >> (bits - 1))) >> (shift + 1);
    return r;
  }
  T inverse(U r) const {
    r ^= (U(0) - (r >> (bits - 1))) >> (shift + 1);
    r = ~r;
    r <<= shift;
    T v;
    std::memcpy(&v, &r, sizeof v);
    return v;
  }
  T identity(T v) const {
    U r;
    std::memcpy(&r, &v, sizeof r);
    r = (r >> shift) << shift;
    std::memcpy(&v, &r, sizeof v);
    return v;
  }
};

// Reads the header. The header's fields are range coded like the data.
inline int read_header(RangeDecoder& rd, Header& h) {
  if (rd.shift(8) != 'f' || rd.shift(8) != 'p' || rd.shift(8) != 'z' || rd.shift(8) != 0)
    return rd.failed() ? ERR_TRUNCATED : ERR_MAGIC;
  if (rd.shift(16) != 0x0110 || rd.shift(8) != 1) return rd.failed() ? ERR_TRUNCATED : ERR_VERSION;
  h.type = rd.shift(1);
  h.prec = rd.shift(7);
  h.nx = rd.bits<uint32_t>(32);
  h.ny = rd.bits<uint32_t>(32);
  h.nz = rd.bits<uint32_t>(32);
  h.nf = rd.bits<uint32_t>(32);
  return rd.failed() ? ERR_TRUNCATED : OK;
}

// Decodes one field (nx * ny * nz values) at `bits` of precision into `out`. `plane`
// holds two zero-bordered planes of (nx + 1) * (ny + 1) values: the predictor's
// neighbours at x-1, y-1 and z-1 are zero outside the array, as in the encoder.
template <typename T, bool kWide>
inline void decode_field(RangeDecoder& rd, unsigned bits, uint32_t nx, uint32_t ny, uint32_t nz, T* out, std::vector<T>& plane) {
  typedef typename Bits<T>::U U;
  const ValueMap<T> map(bits);
  const unsigned bias = kWide ? bits : (1u << bits) - 1;
  QuasiStaticModel model(kWide ? 2 * bits + 1 : 2 * (1u << bits) - 1);
  const size_t dy = size_t(nx) + 1, dz = dy * (size_t(ny) + 1);
  plane.assign(2 * dz, T(0));
  for (uint32_t z = 0; z < nz; z++) {
    T* cur = plane.data() + (z & 1) * dz;        // plane z (index 0 row/column are zero)
    const T* prev = plane.data() + ((z + 1) & 1) * dz;  // plane z - 1 (zeros before z = 0)
    for (uint32_t y = 0; y < ny; y++) {
      T* c = cur + (y + 1) * dy + 1;
      const T* cy = c - dy;
      const T* p = prev + (y + 1) * dy + 1;
      const T* py = p - dy;
      for (ptrdiff_t x = 0; x < ptrdiff_t(nx); x++) {
        // The Lorenzo prediction, in the value's type and in this order, as the encoder.
        T pred = c[x - 1] - py[x] + cy[x] - p[x - 1] + p[x] - cy[x - 1] + py[x - 1];
        uint32_t cum, freq;
        unsigned s = model.find(rd.frequency(), cum, freq);
        rd.consume(cum, freq);
        T a;
        if (!kWide) {
          a = map.inverse(U(map.forward(pred) + s - bias));
        } else if (s > bias) {  // the value is above the prediction by 2^k + k more bits
          unsigned k = s - bias - 1;
          U d = (U(1) << k) + rd.bits<U>(k);
          a = map.inverse(map.forward(pred) + d);
        } else if (s < bias) {  // below it
          unsigned k = bias - 1 - s;
          U d = (U(1) << k) + rd.bits<U>(k);
          a = map.inverse(map.forward(pred) - d);
        } else {
          a = map.identity(pred);
        }
        c[x] = a;
        *out++ = a;
      }
      if (rd.failed()) return;  // corrupt or cut: stop early, the caller reports it
    }
  }
}

// Decodes a whole stream into `out` (nx*ny*nz*nf values of the expected type, x
// fastest). The header must say exactly that type and shape. Returns OK or an Error;
// `consumed` gets the stream's length in bytes.
inline int decode(const uint8_t* in, size_t size, void* out, size_t outBytes, unsigned expectType, uint32_t nx, uint32_t ny,
                  uint32_t nz, uint32_t nf, Header* header = nullptr, size_t* consumed = nullptr) {
  RangeDecoder rd(in, size);
  Header h;
  int err = read_header(rd, h);
  if (err) return err;
  if (header) *header = h;
  if (h.type != expectType) return ERR_TYPE;
  if (h.nx != nx || h.ny != ny || h.nz != nz || h.nf != nf) return ERR_SHAPE;
  const size_t valueBytes = h.type == TYPE_FLOAT ? 4 : 8;
  const size_t n = size_t(nx) * ny * nz;
  if (outBytes != n * nf * valueBytes) return ERR_OUTPUT;
  // Retained bits: float 2..32, double 4..64 in steps of 2 (libfpzip's cases); 0 = all.
  const unsigned bits = h.prec ? h.prec : unsigned(valueBytes * 8);
  if (h.type == TYPE_FLOAT ? (bits < 2 || bits > 32) : (bits < 4 || bits > 64 || bits % 2)) return ERR_PRECISION;
  if (h.type == TYPE_FLOAT) {
    std::vector<float> plane;
    float* o = static_cast<float*>(out);
    for (uint32_t f = 0; f < nf && !rd.failed(); f++, o += n)
      bits > 8 ? decode_field<float, true>(rd, bits, nx, ny, nz, o, plane) : decode_field<float, false>(rd, bits, nx, ny, nz, o, plane);
  } else {
    std::vector<double> plane;
    double* o = static_cast<double*>(out);
    for (uint32_t f = 0; f < nf && !rd.failed(); f++, o += n)
      bits > 8 ? decode_field<double, true>(rd, bits, nx, ny, nz, o, plane) : decode_field<double, false>(rd, bits, nx, ny, nz, o, plane);
  }
  if (rd.corrupt()) return ERR_CORRUPT;
  if (rd.failed()) return ERR_TRUNCATED;
  if (consumed) *consumed = rd.consumed();
  return OK;
}

}  // namespace fpzd
