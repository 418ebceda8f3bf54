// Large output buffers, recycled: an anonymous mapping (aligned to 2 MiB, so huge pages
// fit) handed to JavaScript as an external ArrayBuffer; when the buffer is collected its
// mapping is kept (up to kCacheBytes in all) and the next allocation that fits reuses it
// after zeroing what it hands out. Anonymous mappings start zero-filled, as
// `new ArrayBuffer(n)` does.
//
// Why: a fresh buffer costs a page fault per 4 KiB on first write, and on this kind of
// VM faulting in a 128 MiB cutout costs about what inflating it does; zeroing a mapping
// that is already faulted in takes a few milliseconds. A 512x512x64 uint64 gzip cutout,
// read repeatedly: 67-114 ms a read with recycling against 138-204 ms without.
//
// Transparent huge pages (MADV_HUGEPAGE) only with CLOUDVOLUME_HUGEPAGES=1: measured here
// (THP in `madvise` mode), the first touch of a fresh 128 MiB mapping took ~445 ms with
// huge pages against ~160 ms without, and reuse gained nothing measurable, so the advice
// would make every one-off cutout slower. Machines whose THP faults are cheap can ask.
// The cache is shared by every thread (worker threads have their own JS environments),
// behind a mutex.
#include <napi.h>
#include <sys/mman.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace {

constexpr size_t kHuge = size_t(2) << 20;
constexpr size_t kCacheBytes = size_t(1) << 30;  // at most 1 GiB of idle mappings

struct Mapping {
  void* base;
  size_t span;
};

std::mutex mu;
std::vector<Mapping> idle;  // guarded by mu
size_t idleBytes = 0, reused = 0, mapped = 0;

void* mapAligned(size_t span) {
  const size_t over = span + kHuge;
  void* raw = mmap(nullptr, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(raw) + kHuge - 1) & ~(uintptr_t(kHuge) - 1);
  const size_t head = start - reinterpret_cast<uintptr_t>(raw), tail = over - head - span;
  if (head) munmap(raw, head);
  if (tail) munmap(reinterpret_cast<void*>(start + span), tail);
  void* base = reinterpret_cast<void*>(start);
  // Advice only, and only when asked for (see the top of this file).
  static const bool huge = getenv("CLOUDVOLUME_HUGEPAGES") != nullptr;
  if (huge) madvise(base, span, MADV_HUGEPAGE);
  return base;
}

// The smallest idle mapping of at least `span` bytes (and at most twice that, so a small
// buffer never pins a huge mapping), taken out of the cache.
bool takeIdle(size_t span, Mapping& out) {
  std::lock_guard<std::mutex> lock(mu);
  size_t best = idle.size();
  for (size_t i = 0; i < idle.size(); i++)
    if (idle[i].span >= span && idle[i].span <= 2 * span && (best == idle.size() || idle[i].span < idle[best].span)) best = i;
  if (best == idle.size()) return false;
  out = idle[best];
  idle.erase(idle.begin() + ptrdiff_t(best));
  idleBytes -= out.span;
  reused++;
  return true;
}

void release(napi_env env, void* /*data*/, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  int64_t ignored;
  napi_adjust_external_memory(env, -int64_t(m->span), &ignored);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (idleBytes + m->span <= kCacheBytes) {
      idle.push_back(*m);
      idleBytes += m->span;
      m = (delete m, nullptr);
    }
  }
  if (m) {
    munmap(m->base, m->span);
    delete m;
  }
}

// allocate(bytes) -> a zeroed ArrayBuffer, or undefined when no mapping can be made or
// external buffers are not allowed (a V8 sandbox build): the caller allocates normally.
Napi::Value Allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double want = info[0].As<Napi::Number>().DoubleValue();
  if (!(want > 0) || want > double(SIZE_MAX / 4)) return env.Undefined();
  const size_t bytes = size_t(want);
  const size_t span = (bytes + kHuge - 1) / kHuge * kHuge;
  Mapping m{};
  if (takeIdle(span, m)) {
    std::memset(m.base, 0, bytes);  // the rest of the mapping is zeroed by whoever uses it
  } else {
    m.base = mapAligned(span);
    m.span = span;
    if (!m.base) return env.Undefined();
    std::lock_guard<std::mutex> lock(mu);
    mapped++;
  }
  auto* hint = new Mapping(m);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, m.base, bytes, release, hint, &ab) != napi_ok) {
    munmap(m.base, m.span);
    delete hint;
    return env.Undefined();
  }
  // Tell the garbage collector about memory it cannot see, so it collects in time.
  int64_t ignored;
  napi_adjust_external_memory(env, int64_t(m.span), &ignored);
  return Napi::Value(env, ab);
}

// stats() -> { mapped, reused, idleBytes }: mappings made, allocations served from the
// cache, and the bytes held idle now.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::lock_guard<std::mutex> lock(mu);
  o.Set("mapped", double(mapped));
  o.Set("reused", double(reused));
  o.Set("idleBytes", double(idleBytes));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocate", Napi::Function::New(env, Allocate));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("hugePages", Napi::Boolean::New(env, getenv("CLOUDVOLUME_HUGEPAGES") != nullptr));
  return exports;
}

}  // namespace

NODE_API_MODULE(hugepages, Init)
