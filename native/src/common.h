// Shared pieces of the addon: the oneDNN engine and stream, argument
// decoding (zero-copy views of the TF.js cpu backend's Float32Arrays) and a
// bounded cache of primitives (creating one costs 20–60 ms the first time).
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
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

/**
 * Arithmetic of the convolutions and matrix products: fp32, or bf16 inputs
 * (activations, weights, incoming gradients rounded to bfloat16 by oneDNN
 * reorders) with fp32 accumulation and fp32 outputs, as torch.autocast on
 * CPU computes them. Every other kernel, the weights themselves and the
 * optimizer state stay fp32. bf16 needs AVX512-BF16 or AMX (bf16Supported).
 */
enum class Precision { fp32, bf16 };
Precision precision();
bool bf16Supported();
/** `data` (laid out as `userDesc`) itself when `primDesc` equals it, else a copy reordered into `primDesc` (another type or layout) */
dnnl::memory inputAs(const dnnl::memory::desc& userDesc, float* data, const dnnl::memory::desc& primDesc);

/** A primitive's output: the caller's f32 array itself, or a scratch in the primitive's type/layout that finish() reorders into it. */
class OutputAs {
 public:
  OutputAs(const dnnl::memory::desc& userDesc, float* data, const dnnl::memory::desc& primDesc);
  dnnl::memory& memory() { return prim_; }
  /** copies the scratch into the caller's array (a no-op without one); call before the stream's wait() */
  void finish();

 private:
  dnnl::memory user_, prim_;
  bool scratch_;
};

/** Output types to try for a bf16 primitive: the caller's f32, else bf16 reordered into it (preferOptimised). */
inline const std::vector<dnnl::memory::data_type> F32_THEN_BF16{dnnl::memory::data_type::f32, dnnl::memory::data_type::bf16};

/**
 * The first of `candidates` (most wanted first) that oneDNN implements
 * with an optimised (non-reference) kernel; else the first it implements at
 * all. Throws the last oneDNN error when it implements none.
 */
template <typename PD, typename Make>
PD preferOptimised(const std::vector<dnnl::memory::data_type>& candidates, Make make) {
  PD fallback;
  bool have = false;
  std::exception_ptr unimplemented;
  for (auto t : candidates) {
    try {
      PD pd = make(t);
      if (std::string(pd.impl_info_str()).rfind("ref", 0) != 0) return pd;
      if (!have) fallback = pd, have = true;
    } catch (const dnnl::error& e) {
      if (e.status != dnnl_unimplemented) throw;
      unimplemented = std::current_exception();
    }
  }
  if (!have) std::rethrow_exception(unimplemented);
  return fallback;
}
/** records which oneDNN implementation serves an op (implementations() lists them) */
void noteImplementation(const std::string& op, const std::string& impl);

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
