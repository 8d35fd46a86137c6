// Fused kernels for the transformer parts of the model (the Longformer text
// encoder, and every attention softmax): layer norm and its gradient, the
// exact (erf) GELU and its gradient, and the softmax gradient. Op by op,
// TF.js makes 7–20 passes over memory for each of these, allocating a fresh
// array for every intermediate; here each is one or two passes.
//
// exp and erf are float polynomial/rational approximations written so that
// the compiler vectorises the loops (std::exp/std::erf are scalar calls):
//   - expNonPositive (common.h), for GELU's gradient;
//   - erfApprox: the rational approximation of Eigen's
//     generic_fast_erf_float (odd degree-13 numerator over even degree-8
//     denominator on x clamped to [−4, 4]), |error| ≤ 2e-7 (checked
//     against std::erf in test/unit/native/transformer.test.ts through the
//     GELU it serves).
#include "common.h"

#include <omp.h>

#include <cmath>
#include <vector>

namespace mrcl {
namespace {

/** erf(x) for float x (Eigen's generic_fast_erf_float). */
MRCL_ALWAYS_INLINE float erfApprox(float a) {
  const float x = a > 4.f ? 4.f : (a < -4.f ? -4.f : a);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

constexpr float kSqrtHalf = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

MRCL_SIMD_CLONES void layerNormRows(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean, float* rstd, int64_t D, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * D;
    float* py = y + r * D;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < D; ++k) s += double(px[k]);
    const float m = float(s / double(D));
    double v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t k = 0; k < D; ++k) {
      const float c = px[k] - m;
      v += double(c * c);
    }
    const float inv = 1.f / std::sqrt(float(v / double(D)) + eps);
    mean[r] = m;
    rstd[r] = inv;
#pragma omp simd
    for (int64_t k = 0; k < D; ++k) py[k] = (px[k] - m) * inv * gamma[k] + beta[k];
  }
}

// layerNorm(x, gamma, beta, eps, y, mean, rstd): over the last axis (D =
// gamma's length) of x viewed as [rows, D], as torch.nn.LayerNorm:
// mean = Σx/D and variance = Σ(x − mean)²/D (biased) summed in double,
// rstd = 1/√(variance + ε), y = (x − mean)·rstd·γ + β.
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "layerNorm", [&]() -> Napi::Value {
    if (info.Length() < 7) throw Napi::TypeError::New(info.Env(), "layerNorm: expected 7 arguments");
    const size_t n = floatLength(info, 0), d = floatLength(info, 1);
    if (d == 0 || n % d != 0) throw Napi::RangeError::New(info.Env(), "layerNorm: x's size is not a multiple of the normalised axis");
    const size_t rows = n / d;
    checkLength(info, 2, d, "beta");
    checkLength(info, 4, n, "y");
    checkLength(info, 5, rows, "mean");
    checkLength(info, 6, rows, "rstd");
    const float* x = floatData(info, 0, "x");
    const float* gamma = floatData(info, 1, "gamma");
    const float* beta = floatData(info, 2, "beta");
    const float eps = float(info[3].As<Napi::Number>().DoubleValue());
    float* y = floatData(info, 4, "y");
    float* mean = floatData(info, 5, "mean");
    float* rstd = floatData(info, 6, "rstd");
    parallelRanges(int64_t(rows), kParallelMin / int64_t(d), [&](int64_t b, int64_t e) { layerNormRows(x, gamma, beta, eps, y, mean, rstd, int64_t(d), b, e); });
    return info.Env().Undefined();
  });
}

/** dx of rows [begin, end), and their terms of dγ and dβ added to pg, pb (double). */
MRCL_SIMD_CLONES void layerNormGradRows(const float* x, const float* dy, const float* mean, const float* rstd, const float* gamma, float* dx, double* pg, double* pb, int64_t D, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* px = x + r * D;
    const float* pdy = dy + r * D;
    float* pdx = dx + r * D;
    const float m = mean[r], inv = rstd[r];
    double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
    for (int64_t k = 0; k < D; ++k) {
      const float xh = (px[k] - m) * inv;
      const float g = pdy[k] * gamma[k];
      sg += double(g);
      sgx += double(g * xh);
    }
#pragma omp simd
    for (int64_t k = 0; k < D; ++k) {
      const float xh = (px[k] - m) * inv;
      pg[k] += double(pdy[k] * xh);
      pb[k] += double(pdy[k]);
    }
    const float a = float(sg / double(D)), b = float(sgx / double(D));
#pragma omp simd
    for (int64_t k = 0; k < D; ++k) {
      const float xh = (px[k] - m) * inv;
      pdx[k] = inv * (pdy[k] * gamma[k] - a - xh * b);
    }
  }
}

// layerNormGrad(x, dy, mean, rstd, gamma, dx, dgamma, dbeta): with
// x̂ = (x − mean)·rstd and g = dy·γ, per row
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
// and over all rows dγ = Σ dy·x̂, dβ = Σ dy (double partials per thread).
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "layerNormGrad", [&]() -> Napi::Value {
    if (info.Length() < 8) throw Napi::TypeError::New(info.Env(), "layerNormGrad: expected 8 arguments");
    const size_t n = floatLength(info, 0), d = floatLength(info, 4);
    if (d == 0 || n % d != 0) throw Napi::RangeError::New(info.Env(), "layerNormGrad: x's size is not a multiple of the normalised axis");
    const size_t rows = n / d;
    checkLength(info, 1, n, "dy");
    checkLength(info, 2, rows, "mean");
    checkLength(info, 3, rows, "rstd");
    checkLength(info, 5, n, "dx");
    checkLength(info, 6, d, "dgamma");
    checkLength(info, 7, d, "dbeta");
    const float* x = floatData(info, 0, "x");
    const float* dy = floatData(info, 1, "dy");
    const float* mean = floatData(info, 2, "mean");
    const float* rstd = floatData(info, 3, "rstd");
    const float* gamma = floatData(info, 4, "gamma");
    float* dx = floatData(info, 5, "dx");
    float* dgamma = floatData(info, 6, "dgamma");
    float* dbeta = floatData(info, 7, "dbeta");
    const int64_t D = int64_t(d);
    const int T = n > size_t(kParallelMin) ? omp_get_max_threads() : 1;
    std::vector<double> part(size_t(T) * size_t(D) * 2, 0.0);
#pragma omp parallel num_threads(T)
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      double* pg = part.data() + size_t(t) * size_t(D) * 2;
      layerNormGradRows(x, dy, mean, rstd, gamma, dx, pg, pg + D, D, int64_t(rows) * t / nt, int64_t(rows) * (t + 1) / nt);
    }
    for (int64_t k = 0; k < D; ++k) {
      double g = 0, b = 0;
      for (int t = 0; t < T; ++t) {
        g += part[(size_t(t) * size_t(D)) * 2 + size_t(k)];
        b += part[(size_t(t) * size_t(D)) * 2 + size_t(D + k)];
      }
      dgamma[k] = float(g);
      dbeta[k] = float(b);
    }
    return info.Env().Undefined();
  });
}

MRCL_SIMD_CLONES void geluRange(const float* __restrict x, float* __restrict y, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + erfApprox(v * kSqrtHalf));
  }
}

MRCL_SIMD_CLONES void geluGradRange(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.f + erfApprox(v * kSqrtHalf));
    const float pdf = kInvSqrt2Pi * expNonPositive(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

// gelu(x, y): y = x/2·(1 + erf(x/√2)).
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  return guarded(info, "gelu", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0);
    checkLength(info, 1, n, "y");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 1, "y");
    parallelRanges(int64_t(n), kParallelMin, [&](int64_t b, int64_t e) { geluRange(x, y, b, e); });
    return info.Env().Undefined();
  });
}

// geluGrad(x, dy, dx): dx = dy·(Φ(x) + x·φ(x)), Φ(x) = (1 + erf(x/√2))/2,
// φ(x) = e^(−x²/2)/√(2π).
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "geluGrad", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0);
    checkLength(info, 1, n, "dy");
    checkLength(info, 2, n, "dx");
    const float* x = floatData(info, 0, "x");
    const float* dy = floatData(info, 1, "dy");
    float* dx = floatData(info, 2, "dx");
    parallelRanges(int64_t(n), kParallelMin, [&](int64_t b, int64_t e) { geluGradRange(x, dy, dx, b, e); });
    return info.Env().Undefined();
  });
}

MRCL_SIMD_CLONES void softmaxGradRows(const float* y, const float* dy, float* dx, int64_t cols, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float* py = y + r * cols;
    const float* pdy = dy + r * cols;
    float* pdx = dx + r * cols;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < cols; ++c) s += double(pdy[c] * py[c]);
    const float sf = float(s);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) pdx[c] = py[c] * (pdy[c] - sf);
  }
}

// softmaxGrad(y, dy, cols, dx): the gradient of a softmax over the last axis
// from its output y: dx = y·(dy − Σ dy·y) per row (sum in double).
Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "softmaxGrad", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0);
    const int64_t cols = info[2].As<Napi::Number>().Int64Value();
    if (cols < 1 || n % size_t(cols) != 0) throw Napi::RangeError::New(info.Env(), "softmaxGrad: size is not a multiple of the last axis");
    checkLength(info, 1, n, "dy");
    checkLength(info, 3, n, "dx");
    const float* y = floatData(info, 0, "y");
    const float* dy = floatData(info, 1, "dy");
    float* dx = floatData(info, 3, "dx");
    const int64_t rows = int64_t(n) / cols;
    parallelRanges(rows, kParallelMin / cols, [&](int64_t b, int64_t e) { softmaxGradRows(y, dy, dx, cols, b, e); });
    return info.Env().Undefined();
  });
}

}  // namespace

void initTransformer(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad));
}

}  // namespace mrcl
