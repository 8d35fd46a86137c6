// Shared pieces of the addon: the oneDNN engine and stream, argument
// decoding (zero-copy views of the TF.js cpu backend's Float32Arrays) and a
// bounded cache of primitives (creating one costs 20–60 ms the first time).
#pragma once

#include <napi.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#if !defined(_WIN32)
#include <pthread.h>
#include <csignal>
#endif

namespace mrcl {

using dims_t = dnnl::memory::dims;

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

/** float pointer into a Float32Array argument (throws a JS TypeError otherwise). */
float* floatData(const Napi::CallbackInfo& info, size_t index, const char* what);
/** element count of a Float32Array argument */
size_t floatLength(const Napi::CallbackInfo& info, size_t index);
/** int array argument (plain JS array of numbers) */
std::vector<int64_t> intArray(const Napi::CallbackInfo& info, size_t index, const char* what, size_t expected);
int64_t product(const std::vector<int64_t>& v);
/** throws a JS RangeError unless the array has `expected` elements */
void checkLength(const Napi::CallbackInfo& info, size_t index, size_t expected, const char* what);

std::string keyOf(const char* op, std::initializer_list<const std::vector<int64_t>*> parts, int64_t extra = 0);

/** Least-recently-used cache of shared objects keyed by a string. */
template <typename T>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<T> get(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return it->second.first;
  }

  void put(const std::string& key, std::shared_ptr<T> value) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      order_.erase(it->second.second);
      map_.erase(it);
    }
    order_.push_front(key);
    map_.emplace(key, std::make_pair(std::move(value), order_.begin()));
    while (map_.size() > capacity_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
  }

  size_t size() const { return map_.size(); }
  void clear() {
    map_.clear();
    order_.clear();
  }

 private:
  size_t capacity_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::shared_ptr<T>, std::list<std::string>::iterator>> map_;
};

/**
 * Blocks asynchronous signals on the calling thread while it lives; they are
 * delivered when it ends. oneDNN's JIT GEMM kernels (matmul, gemm-based
 * convolutions; oneDNN up to 3.11, uxlfoundation/oneDNN#4845) point the stack
 * register into a heap workspace, so a signal handled meanwhile (SIGCHLD from
 * an exiting child process, SIGWINCH, SIGINT, a profiler's SIGPROF) writes its
 * frame onto the heap and corrupts it. OpenMP worker threads are created
 * inside such a scope and inherit the blocked mask for good. Faults (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) stay unblocked.
 */
class SignalBlock {
 public:
  SignalBlock() {
#if !defined(_WIN32)
    sigset_t all;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, s);
    active_ = pthread_sigmask(SIG_BLOCK, &all, &old_) == 0;
#endif
  }
  ~SignalBlock() {
#if !defined(_WIN32)
    if (active_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
#endif
  }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

 private:
#if !defined(_WIN32)
  sigset_t old_;
  bool active_ = false;
#endif
};

/** Runs `body` with asynchronous signals blocked (SignalBlock), turning oneDNN and std exceptions into JS errors. */
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, F body) {
  SignalBlock block;
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": oneDNN error " + std::to_string(int(e.status)) + ": " + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": " + e.what());
  }
}

// Each source file owns its primitive cache; addon.cc clears and counts them all.
void clearConvCache();
size_t convCacheSize();
void clearMatmulCache();
size_t matmulCacheSize();

// Registered by each source file.
void initConv3d(Napi::Env env, Napi::Object exports);
void initPool3d(Napi::Env env, Napi::Object exports);
void initMatmul(Napi::Env env, Napi::Object exports);
void initElementwise(Napi::Env env, Napi::Object exports);
void initLayout(Napi::Env env, Napi::Object exports);
void initReduce(Napi::Env env, Napi::Object exports);
void initFused(Napi::Env env, Napi::Object exports);

}  // namespace mrcl
