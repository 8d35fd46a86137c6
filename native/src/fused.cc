// Fused updates that TF.js would run as a dozen separate passes over memory.
#include "common.h"

#include <cmath>
#include <limits>

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
#pragma omp parallel for schedule(static) if (n > (1 << 14))
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
#pragma omp parallel for schedule(static) if (n > (1 << 14))
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

// softmax(x, cols, y): softmax over the last axis, in TF.js's steps (max,
// x − max, exp, sum in double, divide) so results match its kernel
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return guarded(info, "softmax", [&]() -> Napi::Value {
    const size_t n = floatLength(info, 0);
    const int64_t cols = info[1].As<Napi::Number>().Int64Value();
    if (cols < 1 || n % size_t(cols) != 0) throw Napi::RangeError::New(info.Env(), "softmax: size is not a multiple of the last axis");
    checkLength(info, 2, n, "y");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 2, "y");
    const int64_t rows = int64_t(n) / cols;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t r = 0; r < rows; ++r) {
      const float* px = x + r * cols;
      float* py = y + r * cols;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < cols; ++c) m = (std::isnan(px[c]) || px[c] > m) ? px[c] : m;
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const float e = float(std::exp(double(px[c] - m)));
        py[c] = e;
        sum += double(e);
      }
      const float s = float(sum);
      for (int64_t c = 0; c < cols; ++c) py[c] = py[c] / s;
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void initFused(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("scaleShift", Napi::Function::New(env, ScaleShift));
}

}  // namespace mrcl
