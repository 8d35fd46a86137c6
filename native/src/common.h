// Shared pieces of the addon: the oneDNN engine and stream, argument
// decoding (zero-copy views of the TF.js cpu backend's Float32Arrays) and a
// bounded cache of primitives (creating one costs 20–60 ms the first time).
#pragma once

#include <napi.h>

#include <omp.h>

#include <cstdint>
#include <cstring>
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
 * Loops over float arrays that the compiler can vectorise are compiled
 * three times, for AVX-512F, AVX2 and baseline x86-64, and the best the
 * CPU runs is picked when the addon loads (GCC function multiversioning).
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define MRCL_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MRCL_SIMD_CLONES
#endif
/** For helpers called in MRCL_SIMD_CLONES loops: without it GCC does not inline them into the clones, and the loops stay scalar. */
#if defined(__GNUC__)
#define MRCL_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define MRCL_ALWAYS_INLINE inline
#endif

/** Below this many elements a loop runs on one thread (a parallel region costs more than it saves). */
constexpr int64_t kParallelMin = 1 << 14;

/** f(begin, end) over [0, n) split into one contiguous range per thread (one call when n ≤ serialBelow). */
template <typename F>
void parallelRanges(int64_t n, int64_t serialBelow, F f) {
  if (n <= serialBelow) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    const int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
    f(n * t / T, n * (t + 1) / T);
  }
}

/**
 * e^x in float for x ≤ 0 (softmax's x − row max, GELU's −x²/2), written so
 * that loops over it vectorise (std::exp is a scalar call): Cephes' expf,
 * range reduction by ln 2 and a degree-6 polynomial, |relative error| ≤ 2
 * ulp on [−87.3, 0]; exactly 0 below −87.3 (where e^x ≤ FLT_MIN, and for
 * the −∞ of masked scores); NaN stays NaN.
 */
MRCL_ALWAYS_INLINE float expNonPositive(float x) {
  const float lo = -87.33654475f;
  // max(NaN, lo) is NaN, which every step below carries to the result
  const float xc = x < lo ? lo : x;
  // n = round(x·log2 e), by truncation corrected towards −∞ (no floor call)
  const float t = xc * 1.44269504088896341f + 0.5f;
  int32_t n = int32_t(t);
  n -= int32_t(float(n) > t);
  const float fn = float(n);
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  const uint32_t bits = uint32_t(n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  // ·0 below lo (and for −∞), ·1 elsewhere; NaN·0 stays NaN (a multiply, not a select: GCC keeps this loop vectorised)
  return y * scale * float(x >= lo);
}

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
void initTransformer(Napi::Env env, Napi::Object exports);

}  // namespace mrcl
