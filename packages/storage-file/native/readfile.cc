// A whole file read in one thread-pool job: open, fstat, read to the end, close, done in
// C on libuv's pool and handed back once. node:fs makes each of those a separate pool
// request with a trip through JavaScript between them; for the 256 KiB-4 MiB chunk files
// a cutout reads by the dozen, those trips were ~30% of a gzip uint8 read's main thread.
// Ranged reads stay on node:fs (src/file-store.ts).
#include <napi.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Function cb, std::string path) : Napi::AsyncWorker(cb), path_(std::move(path)) {}
  ~ReadWorker() override { free(data_); }

  void Execute() override {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      return fail(e);
    }
    if (!S_ISREG(st.st_mode)) {  // a directory (or a device): no such object
      ::close(fd);
      missing_ = true;
      return;
    }
    size_t cap = size_t(st.st_size);
    data_ = static_cast<uint8_t*>(malloc(cap ? cap : 1));
    if (!data_) {
      ::close(fd);
      return fail(ENOMEM);
    }
    while (size_ < cap) {
      ssize_t n = ::pread(fd, data_ + size_, cap - size_, off_t(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return fail(e);
      }
      if (n == 0) break;  // the file shrank under us: what it had
      size_ += size_t(n);
    }
    ::close(fd);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (missing_) {
      Callback().Call({env.Null(), env.Undefined()});
      return;
    }
    if (errno_) {
      Napi::Error err = Napi::Error::New(env, std::string(strerror(errno_)) + ", read '" + path_ + "'");
      const char* name = strerrorname_np(errno_);
      err.Set("code", Napi::String::New(env, name ? name : "EIO"));
      err.Set("errno", Napi::Number::New(env, -errno_));
      Callback().Call({err.Value(), env.Undefined()});
      return;
    }
    uint8_t* data = data_;
    data_ = nullptr;  // owned by the buffer now
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, data, size_, [](Napi::Env, uint8_t* p) { free(p); });
    Callback().Call({env.Null(), buf});
  }

 private:
  void fail(int e) {
    if (e == ENOENT || e == ENOTDIR || e == EISDIR) missing_ = true;
    else errno_ = e;
  }
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool missing_ = false;
  int errno_ = 0;
};

// readFile(path, callback(err, bytes | undefined)): undefined when there is no such file.
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  (new ReadWorker(info[1].As<Napi::Function>(), info[0].As<Napi::String>().Utf8Value()))->Queue();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readFile", Napi::Function::New(env, ReadFile));
  return exports;
}

}  // namespace

NODE_API_MODULE(readfile, Init)
