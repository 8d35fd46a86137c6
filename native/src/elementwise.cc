// Elementwise float32 kernels with broadcasting, multi-threaded. The TF.js
// cpu backend computes an index per element when shapes differ (~120 ns per
// element for x·[C]); here the shapes are reduced to a few merged
// dimensions and the innermost one runs as a plain loop.
#include "common.h"

#include <cmath>
#include <limits>

namespace mrcl {
namespace {

enum class Binary { Add = 0, Sub, Mul, Div, Maximum, Minimum, SquaredDifference };
enum class Unary { Relu = 0, Square, Neg, Exp, Log, Sqrt, Rsqrt, Abs, Step, Sigmoid, Tanh, Reciprocal, Floor, Ceil, Erf };

template <Binary op>
inline float apply(float a, float b) {
  if constexpr (op == Binary::Add) return a + b;
  if constexpr (op == Binary::Sub) return a - b;
  if constexpr (op == Binary::Mul) return a * b;
  if constexpr (op == Binary::Div) return a / b;
  if constexpr (op == Binary::Maximum) return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<float>::quiet_NaN() : (a > b ? a : b);
  if constexpr (op == Binary::Minimum) return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<float>::quiet_NaN() : (a < b ? a : b);
  if constexpr (op == Binary::SquaredDifference) {
    const float d = a - b;
    return d * d;
  }
}

/** Output dims with per-input strides (0 where broadcast), adjacent compatible dims merged. */
struct Plan {
  std::vector<int64_t> dims, sa, sb;
};

Plan plan(const std::vector<int64_t>& a, const std::vector<int64_t>& b, const std::vector<int64_t>& out) {
  const size_t r = out.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t ka = 1, kb = 1;
  for (int i = int(r) - 1; i >= 0; --i) {
    const int ia = i - int(r - a.size()), ib = i - int(r - b.size());
    if (ia >= 0 && a[ia] != 1) sa[i] = ka;
    if (ib >= 0 && b[ib] != 1) sb[i] = kb;
    if (ia >= 0) ka *= a[ia];
    if (ib >= 0) kb *= b[ib];
  }
  Plan p;
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    if (!p.dims.empty()) {
      const size_t j = p.dims.size() - 1;
      // mergeable when both inputs step through the pair as one dimension
      if (p.sa[j] == sa[i] * out[i] && p.sb[j] == sb[i] * out[i]) {
        p.dims[j] *= out[i];
        p.sa[j] = sa[i];
        p.sb[j] = sb[i];
        continue;
      }
    }
    p.dims.push_back(out[i]);
    p.sa.push_back(sa[i]);
    p.sb.push_back(sb[i]);
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    p.sa.push_back(0);
    p.sb.push_back(0);
  }
  return p;
}

template <Binary op>
void binaryRun(const float* a, const float* b, float* y, const Plan& p) {
  const int k = int(p.dims.size());
  const int64_t inner = p.dims[k - 1], ia = p.sa[k - 1], ib = p.sb[k - 1];
  int64_t outer = 1;
  for (int j = 0; j < k - 1; ++j) outer *= p.dims[j];
  const int64_t total = outer * inner;
  if (outer == 1) {
    // one long run: split it across threads
#pragma omp parallel for schedule(static) if (total > kParallelMin)
    for (int64_t i = 0; i < inner; ++i) y[i] = apply<op>(a[i * ia], b[i * ib]);
    return;
  }
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int64_t r = 0; r < outer; ++r) {
    int64_t rem = r, oa = 0, ob = 0;
    for (int j = k - 2; j >= 0; --j) {
      const int64_t i = rem % p.dims[j];
      rem /= p.dims[j];
      oa += i * p.sa[j];
      ob += i * p.sb[j];
    }
    const float* pa = a + oa;
    const float* pb = b + ob;
    float* py = y + r * inner;
    if (ia == 1 && ib == 1) {
      for (int64_t i = 0; i < inner; ++i) py[i] = apply<op>(pa[i], pb[i]);
    } else if (ia == 1) {
      const float vb = pb[0];
      for (int64_t i = 0; i < inner; ++i) py[i] = apply<op>(pa[i], vb);
    } else if (ib == 1) {
      const float va = pa[0];
      for (int64_t i = 0; i < inner; ++i) py[i] = apply<op>(va, pb[i]);
    } else {
      const float v = apply<op>(pa[0], pb[0]);
      for (int64_t i = 0; i < inner; ++i) py[i] = v;
    }
  }
}

// binary(op, a, aShape, b, bShape, y, yShape)
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  return guarded(info, "binary", [&]() -> Napi::Value {
    const int op = info[0].As<Napi::Number>().Int32Value();
    auto as = intArray(info, 2, "a shape", 0), bs = intArray(info, 4, "b shape", 0), ys = intArray(info, 6, "y shape", 0);
    checkLength(info, 1, size_t(product(as)), "a");
    checkLength(info, 3, size_t(product(bs)), "b");
    checkLength(info, 5, size_t(product(ys)), "y");
    if (as.size() > ys.size() || bs.size() > ys.size()) throw Napi::RangeError::New(info.Env(), "binary: inputs have higher rank than the output");
    for (size_t i = 0; i < ys.size(); ++i) {
      const int ia = int(i) - int(ys.size() - as.size()), ib = int(i) - int(ys.size() - bs.size());
      if ((ia >= 0 && as[ia] != 1 && as[ia] != ys[i]) || (ib >= 0 && bs[ib] != 1 && bs[ib] != ys[i])) {
        throw Napi::RangeError::New(info.Env(), "binary: shapes do not broadcast to the output");
      }
    }
    const float* a = floatData(info, 1, "a");
    const float* b = floatData(info, 3, "b");
    float* y = floatData(info, 5, "y");
    if (product(ys) == 0) return info.Env().Undefined();
    Plan p = plan(as, bs, ys);
    switch (Binary(op)) {
      case Binary::Add: binaryRun<Binary::Add>(a, b, y, p); break;
      case Binary::Sub: binaryRun<Binary::Sub>(a, b, y, p); break;
      case Binary::Mul: binaryRun<Binary::Mul>(a, b, y, p); break;
      case Binary::Div: binaryRun<Binary::Div>(a, b, y, p); break;
      case Binary::Maximum: binaryRun<Binary::Maximum>(a, b, y, p); break;
      case Binary::Minimum: binaryRun<Binary::Minimum>(a, b, y, p); break;
      case Binary::SquaredDifference: binaryRun<Binary::SquaredDifference>(a, b, y, p); break;
      default: throw Napi::RangeError::New(info.Env(), "binary: unknown op " + std::to_string(op));
    }
    return info.Env().Undefined();
  });
}

template <typename F>
void unaryRun(const float* x, float* y, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// unary(op, x, y, alpha): the same semantics as TF.js's cpu kernels, NaN included
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  return guarded(info, "unary", [&]() -> Napi::Value {
    const int op = info[0].As<Napi::Number>().Int32Value();
    const int64_t n = int64_t(floatLength(info, 1));
    checkLength(info, 2, size_t(n), "y");
    const float* x = floatData(info, 1, "x");
    float* y = floatData(info, 2, "y");
    const float alpha = info.Length() > 3 && info[3].IsNumber() ? float(info[3].As<Napi::Number>().DoubleValue()) : 0.f;
    switch (Unary(op)) {
      case Unary::Relu: unaryRun(x, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
      case Unary::Square: unaryRun(x, y, n, [](float v) { return v * v; }); break;
      case Unary::Neg: unaryRun(x, y, n, [](float v) { return -v; }); break;
      case Unary::Exp: unaryRun(x, y, n, [](float v) { return float(std::exp(double(v))); }); break;
      case Unary::Log: unaryRun(x, y, n, [](float v) { return float(std::log(double(v))); }); break;
      case Unary::Sqrt: unaryRun(x, y, n, [](float v) { return float(std::sqrt(double(v))); }); break;
      case Unary::Rsqrt: unaryRun(x, y, n, [](float v) { return float(1.0 / std::sqrt(double(v))); }); break;
      case Unary::Abs: unaryRun(x, y, n, [](float v) { return std::fabs(v); }); break;
      case Unary::Step: unaryRun(x, y, n, [alpha](float v) { return std::isnan(v) ? v : (v > 0.f ? 1.f : alpha); }); break;
      case Unary::Sigmoid: unaryRun(x, y, n, [](float v) { return float(1.0 / (1.0 + std::exp(-double(v)))); }); break;
      case Unary::Tanh: unaryRun(x, y, n, [](float v) { return float(std::tanh(double(v))); }); break;
      case Unary::Reciprocal: unaryRun(x, y, n, [](float v) { return float(1.0 / double(v)); }); break;
      case Unary::Floor: unaryRun(x, y, n, [](float v) { return std::floor(v); }); break;
      case Unary::Ceil: unaryRun(x, y, n, [](float v) { return std::ceil(v); }); break;
      // the exact error function (TF.js's JS kernel uses Abramowitz–Stegun 7.1.26, |error| < 1.5e-7)
      case Unary::Erf: unaryRun(x, y, n, [](float v) { return float(std::erf(double(v))); }); break;
      default: throw Napi::RangeError::New(info.Env(), "unary: unknown op " + std::to_string(op));
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void initElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, BinaryOp));
  exports.Set("unary", Napi::Function::New(env, UnaryOp));
}

}  // namespace mrcl
