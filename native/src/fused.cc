// Fused updates that TF.js would run as a dozen separate passes over memory.
#include "common.h"

#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

namespace mrcl {
namespace {

// adamw(p, g, m, v, pOut, mOut, vOut, lr, beta1, beta2, eps, weightDecay, bc1, bc2Sqrt)
// follows: AdamW (Loshchilov & Hutter), in the operation order of src/engine/training/adamw.ts
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  return guarded(info, "adamw", [&]() -> Napi::Value {
    if (info.Length() < 14) throw Napi::TypeError::New(info.Env(), "adamw: expected 14 arguments");
    const size_t n = floatLength(info, 0);
    const char* names[] = {"p", "g", "m", "v", "pOut", "mOut", "vOut"};
    for (size_t i = 0; i < 7; ++i) checkLength(info, i, n, names[i]);
    const float* p = floatData(info, 0, "p");
    const float* g = floatData(info, 1, "g");
    const float* m = floatData(info, 2, "m");
    const float* v = floatData(info, 3, "v");
    float* po = floatData(info, 4, "pOut");
    float* mo = floatData(info, 5, "mOut");
    float* vo = floatData(info, 6, "vOut");
    auto num = [&](size_t i) { return info[i].As<Napi::Number>().DoubleValue(); };
    const double lr = num(7), b1d = num(8), b2d = num(9), wd = num(11), bc1 = num(12);
    // scalars are formed in double and rounded once, as TF.js does with JS numbers
    const float b1 = float(b1d), b2 = float(b2d), eps = float(num(10)), bc2Sqrt = float(num(13));
    const float c1 = float(1.0 - b1d), c2 = float(1.0 - b2d), decay = float(1.0 - lr * wd), stepSize = float(lr / bc1);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < int64_t(n); ++i) {
      const float gi = g[i];
      const float mn = m[i] * b1 + gi * c1;
      const float vn = v[i] * b2 + (gi * gi) * c2;
      const float denom = std::sqrt(vn) / bc2Sqrt + eps;
      po[i] = p[i] * decay - (mn / denom) * stepSize;
      mo[i] = mn;
      vo[i] = vn;
    }
    return info.Env().Undefined();
  });
}

// scaleShift(x, scale, shift, y, relu): y = x·scale[c] + shift[c] over a
// channels-last array (c = the last axis), optionally followed by ReLU.
// A frozen batch norm in one pass instead of two (three with its ReLU).
Napi::Value ScaleShift(const Napi::CallbackInfo& info) {
  return guarded(info, "scaleShift", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0), c = floatLength(info, 1);
    if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "scaleShift: x's size is not a multiple of the channel count");
    checkLength(info, 2, c, "shift");
    checkLength(info, 3, n, "y");
    const float* x = floatData(info, 0, "x");
    const float* scale = floatData(info, 1, "scale");
    const float* shift = floatData(info, 2, "shift");
    float* y = floatData(info, 3, "y");
    const bool relu = info[4].ToBoolean();
    const int64_t rows = int64_t(n / c), C = int64_t(c);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* px = x + r * C;
      float* py = y + r * C;
      for (int64_t k = 0; k < C; ++k) {
        const float prod = px[k] * scale[k];
        const float v = prod + shift[k];
        py[k] = relu ? (v < 0.f ? 0.f : v) : v;
      }
    }
    return info.Env().Undefined();
  });
}

MRCL_SIMD_CLONES void softmaxRows(const float* x, float* y, int64_t cols, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * cols;
    float* py = y + r * cols;
    // the row's max, NaN if any element is NaN (the max alone would skip it)
    float m = -std::numeric_limits<float>::infinity();
    int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t c = 0; c < cols; ++c) {
      m = px[c] > m ? px[c] : m;
      nan |= int(px[c] != px[c]);
    }
    if (nan) m = std::numeric_limits<float>::quiet_NaN();
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) py[c] = expNonPositive(px[c] - m);
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) sum += double(py[c]);
    const float s = float(sum);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) py[c] = py[c] / s;
  }
}

// softmax(x, cols, y): softmax over the last axis in TF.js's steps (max,
// x − max, exp, sum in double, divide); exp is expNonPositive (common.h),
// within 2 ulp of TF.js's Math.exp and vectorised
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guarded(info, "softmax", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0);
    const int64_t cols = info[1].As<Napi::Number>().Int64Value();
    if (cols < 1 || n % size_t(cols) != 0) throw Napi::RangeError::New(info.Env(), "softmax: size is not a multiple of the last axis");
    checkLength(info, 2, n, "y");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 2, "y");
    const int64_t rows = int64_t(n) / cols;
    parallelRanges(rows, kParallelMin / cols, [&](int64_t b, int64_t e) { softmaxRows(x, y, cols, b, e); });
    return info.Env().Undefined();
  });
}

/**
 * K per-channel sums over the rows of a channels-last array, in double, one
 * partial per thread: rowsFn(begin, end, acc) adds rows [begin, end) into
 * acc (sum j of channel k at acc[j·C + k]); out[j][k] is the total, the
 * threads' partials added in thread order.
 */
template <int K, typename F>
void channelSums(int64_t rows, int64_t C, std::vector<double> (&out)[K], F rowsFn) {
  const int T = omp_get_max_threads();
  std::vector<double> part(size_t(T) * size_t(C) * K, 0.0);
#pragma omp parallel num_threads(T)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    rowsFn(rows * t / nt, rows * (t + 1) / nt, part.data() + size_t(t) * size_t(C) * K);
  }
  for (int j = 0; j < K; ++j) {
    out[j].assign(size_t(C), 0.0);
    for (int t = 0; t < T; ++t) {
      const double* p = part.data() + (size_t(t) * K + size_t(j)) * size_t(C);
      for (int64_t k = 0; k < C; ++k) out[j][size_t(k)] += p[k];
    }
  }
}

// The batch norm kernels' passes over rows [begin, end) of a channels-last
// array (C channels), compiled per SIMD level (MRCL_SIMD_CLONES).

MRCL_SIMD_CLONES void sumRows(const float* x, double* acc, int64_t C, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * C;
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) acc[k] += double(px[k]);
  }
}

MRCL_SIMD_CLONES void squaredDeviationRows(const float* x, const float* mean, double* acc, int64_t C, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * C;
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) {
      const float d = px[k] - mean[k];
      acc[k] += double(d * d);
    }
  }
}

MRCL_SIMD_CLONES void normaliseRows(const float* x, const float* mean, const float* scale, const float* beta, const float* res, float* y, bool relu, int64_t C, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * C;
    float* py = y + r * C;
    if (res) {
      // a residual block's end: the normalised value plus the shortcut, rounded as two float ops
      const float* pr = res + r * C;
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) {
        const float n = (px[k] - mean[k]) * scale[k] + beta[k];
        const float v = n + pr[k];
        py[k] = relu ? (v < 0.f ? 0.f : v) : v;
      }
      continue;
    }
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) {
      const float v = (px[k] - mean[k]) * scale[k] + beta[k];
      py[k] = relu ? (v < 0.f ? 0.f : v) : v;
    }
  }
}

/** g = dy, or dy·[y > 0] after a ReLU */
MRCL_ALWAYS_INLINE float reluGate(float dy, float y, bool relu) { return relu && !(y > 0.f) ? 0.f : dy; }

MRCL_SIMD_CLONES void gradientSumRows(const float* x, const float* dy, const float* y, const float* mean, const float* inv, bool relu, double* acc, int64_t C, int64_t begin, int64_t end) {
  double* sg = acc;
  double* sgx = acc + C;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t o = r * C;
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) {
      const float g = reluGate(dy[o + k], y[o + k], relu);
      sg[k] += double(g);
      sgx[k] += double(g * ((x[o + k] - mean[k]) * inv[k]));
    }
  }
}

MRCL_SIMD_CLONES void gradientRows(const float* x, const float* dy, const float* y, const float* mean, const float* inv, const float* gamma, const float* a, const float* b, bool relu, float* dx, float* dres, int64_t C, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t o = r * C;
    if (dres) {
      // the shortcut's gradient is the gated dy itself
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) {
        const float xh = (x[o + k] - mean[k]) * inv[k];
        const float g = reluGate(dy[o + k], y[o + k], relu);
        dres[o + k] = g;
        dx[o + k] = gamma[k] * inv[k] * (g - a[k] - xh * b[k]);
      }
      continue;
    }
#pragma omp simd
    for (int64_t k = 0; k < C; ++k) {
      const float xh = (x[o + k] - mean[k]) * inv[k];
      dx[o + k] = gamma[k] * inv[k] * (reluGate(dy[o + k], y[o + k], relu) - a[k] - xh * b[k]);
    }
  }
}

// batchNormTrain(x, gamma, beta, eps, y, mean, variance, relu[, residual]):
// batch norm with the batch's statistics over a channels-last array (c = the
// last axis):
//   mean = Σx/N, variance = Σ(x − mean)²/N (biased), both summed in double;
//   y = (x − mean)·(γ/√(variance + ε)) + β, plus `residual` (an array of x's
//   size: a residual block's shortcut) when given, then ReLU if asked.
// The same steps as the op-by-op form (batchnorm3d.ts) in three passes over
// x instead of seven.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormTrain", [&]() -> Napi::Value {
    if (info.Length() < 8) throw Napi::TypeError::New(info.Env(), "batchNormTrain: expected 8 arguments");
    const size_t n = floatLength(info, 0), c = floatLength(info, 1);
    if (c == 0 || n % c != 0 || n / c < 2) throw Napi::RangeError::New(info.Env(), "batchNormTrain: x must hold at least 2 values per channel");
    checkLength(info, 2, c, "beta");
    checkLength(info, 4, n, "y");
    checkLength(info, 5, c, "mean");
    checkLength(info, 6, c, "variance");
    const float* x = floatData(info, 0, "x");
    const float* gamma = floatData(info, 1, "gamma");
    const float* beta = floatData(info, 2, "beta");
    const float eps = float(info[3].As<Napi::Number>().DoubleValue());
    float* y = floatData(info, 4, "y");
    float* mean = floatData(info, 5, "mean");
    float* var = floatData(info, 6, "variance");
    const bool relu = info[7].ToBoolean();
    const float* res = nullptr;
    if (info.Length() > 8 && !info[8].IsUndefined() && !info[8].IsNull()) {
      checkLength(info, 8, n, "residual");
      res = floatData(info, 8, "residual");
    }
    const int64_t C = int64_t(c), rows = int64_t(n / c);
    std::vector<double> sums[1];
    channelSums<1>(rows, C, sums, [&](int64_t b, int64_t e, double* acc) { sumRows(x, acc, C, b, e); });
    for (int64_t k = 0; k < C; ++k) mean[k] = float(sums[0][size_t(k)] / double(rows));
    channelSums<1>(rows, C, sums, [&](int64_t b, int64_t e, double* acc) { squaredDeviationRows(x, mean, acc, C, b, e); });
    std::vector<float> scale(c);
    for (int64_t k = 0; k < C; ++k) {
      var[k] = float(sums[0][size_t(k)] / double(rows));
      scale[size_t(k)] = (1.f / std::sqrt(var[k] + eps)) * gamma[k];
    }
    parallelRanges(rows, kParallelMin / C, [&](int64_t b, int64_t e) { normaliseRows(x, mean, scale.data(), beta, res, y, relu, C, b, e); });
    return info.Env().Undefined();
  });
}

// batchNormTrainGrad(x, dy, y, mean, variance, gamma, eps, relu, dx, dgamma, dbeta[, dresidual]):
// (dresidual, when given, receives g: the gradient of a residual added before the ReLU)
// two passes over x and dy (both sums, then dx):
// the gradients of batchNormTrain through the batch statistics (as
// PyTorch's batch norm backward in training mode), with g = dy (times
// [y > 0] after a ReLU), x̂ = (x − mean)/√(variance + ε), N the rows:
//   dβ = Σg, dγ = Σg·x̂, dx = γ/√(variance + ε)·(g − dβ/N − x̂·dγ/N).
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "batchNormTrainGrad", [&]() -> Napi::Value {
    if (info.Length() < 11) throw Napi::TypeError::New(info.Env(), "batchNormTrainGrad: expected 11 arguments");
    const size_t n = floatLength(info, 0), c = floatLength(info, 3);
    if (c == 0 || n % c != 0) throw Napi::RangeError::New(info.Env(), "batchNormTrainGrad: x's size is not a multiple of the channel count");
    checkLength(info, 1, n, "dy");
    checkLength(info, 2, n, "y");
    checkLength(info, 4, c, "variance");
    checkLength(info, 5, c, "gamma");
    checkLength(info, 8, n, "dx");
    checkLength(info, 9, c, "dgamma");
    checkLength(info, 10, c, "dbeta");
    const float* x = floatData(info, 0, "x");
    const float* dy = floatData(info, 1, "dy");
    const float* y = floatData(info, 2, "y");
    const float* mean = floatData(info, 3, "mean");
    const float* var = floatData(info, 4, "variance");
    const float* gamma = floatData(info, 5, "gamma");
    const float eps = float(info[6].As<Napi::Number>().DoubleValue());
    const bool relu = info[7].ToBoolean();
    float* dx = floatData(info, 8, "dx");
    float* dgamma = floatData(info, 9, "dgamma");
    float* dbeta = floatData(info, 10, "dbeta");
    float* dres = nullptr;
    if (info.Length() > 11 && !info[11].IsUndefined() && !info[11].IsNull()) {
      checkLength(info, 11, n, "dresidual");
      dres = floatData(info, 11, "dresidual");
    }
    const int64_t C = int64_t(c), rows = int64_t(n / c);
    std::vector<float> inv(c);
    for (int64_t k = 0; k < C; ++k) inv[size_t(k)] = 1.f / std::sqrt(var[k] + eps);
    // Σg and Σg·x̂ in one pass
    std::vector<double> sums[2];
    channelSums<2>(rows, C, sums, [&](int64_t b, int64_t e, double* acc) { gradientSumRows(x, dy, y, mean, inv.data(), relu, acc, C, b, e); });
    std::vector<float> a(c), b(c);
    for (int64_t k = 0; k < C; ++k) {
      dbeta[k] = float(sums[0][size_t(k)]);
      dgamma[k] = float(sums[1][size_t(k)]);
      a[size_t(k)] = float(sums[0][size_t(k)] / double(rows));
      b[size_t(k)] = float(sums[1][size_t(k)] / double(rows));
    }
    parallelRanges(rows, kParallelMin / C, [&](int64_t rb, int64_t re) { gradientRows(x, dy, y, mean, inv.data(), gamma, a.data(), b.data(), relu, dx, dres, C, rb, re); });
    return info.Env().Undefined();
  });
}

// dropout(x, y, seed, threshold, scale): y[i] = x[i]·scale where the
// element is kept, x[i]·0 where it is dropped (so NaN and ±Inf still give
// NaN, as x·mask does). Element i is kept iff murmur3_32(i, seed) >> 8 ≥
// threshold (= round(rate·2^24)): a counter-based mask, a function of
// (seed, i) alone, so every thread count gives the same mask, the gradient
// recomputes it, and src/engine/native/dropout.ts draws the same one in
// JavaScript.
MRCL_ALWAYS_INLINE uint32_t rotl32(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

MRCL_ALWAYS_INLINE uint32_t murmur32(uint32_t key, uint32_t seed) {
  uint32_t k = key * 0xcc9e2d51u;
  k = rotl32(k, 15) * 0x1b873593u;
  uint32_t h = seed ^ k;
  h = rotl32(h, 13) * 5u + 0xe6546b64u;
  h ^= 4u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

MRCL_SIMD_CLONES void dropoutRange(const float* __restrict x, float* __restrict y, uint32_t seed, uint32_t threshold, float scale, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const int32_t keep = int32_t((murmur32(uint32_t(i), seed) >> 8) >= threshold);
    y[i] = x[i] * (scale * float(keep));
  }
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  return guarded(info, "dropout", [&]() -> Napi::Value {
    if (info.Length() < 5) throw Napi::TypeError::New(info.Env(), "dropout: expected 5 arguments");
    const size_t n = floatLength(info, 0);
    checkLength(info, 1, n, "y");
    if (n > size_t(0xffffffffu)) throw Napi::RangeError::New(info.Env(), "dropout: more than 2^32 elements");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 1, "y");
    const uint32_t seed = info[2].As<Napi::Number>().Uint32Value();
    const uint32_t threshold = info[3].As<Napi::Number>().Uint32Value();
    const float scale = float(info[4].As<Napi::Number>().DoubleValue());
    parallelRanges(int64_t(n), kParallelMin, [&](int64_t b, int64_t e) { dropoutRange(x, y, seed, threshold, scale, b, e); });
    return info.Env().Undefined();
  });
}

}  // namespace

void initFused(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("scaleShift", Napi::Function::New(env, ScaleShift));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  // batchNormTrain takes a residual (9th argument) and batchNormTrainGrad returns its gradient (12th):
  // an addon built before ignores both, so the engine asks for this before passing them
  exports.Set("batchNormTrainResidual", Napi::Boolean::New(env, true));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
}

}  // namespace mrcl
