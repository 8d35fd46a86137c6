// Sum / mean / max over any set of axes without transposing: the axes are
// merged into (kept, reduced, kept) blocks and summed in place, in double
// like TF.js's JS loops. TF.js's cpu backend transposes the reduced axes to
// the end first (~130 ns per element for a batch-norm mean over [N·D·H·W]).
#include "common.h"

#include <omp.h>

#include <cmath>
#include <limits>

namespace mrcl {
namespace {

enum class Reduce { Sum = 0, Mean, Max };

template <Reduce op>
struct Acc {
  static double init() { return op == Reduce::Max ? -std::numeric_limits<double>::infinity() : 0.0; }
  static double step(double acc, float v) {
    if constexpr (op != Reduce::Max) return acc + double(v);
    return (std::isnan(v) || double(v) > acc) ? double(v) : acc;
  }
  static double merge(double a, double b) {
    if constexpr (op != Reduce::Max) return a + b;
    return (std::isnan(b) || b > a) ? b : a;
  }
};

/** Reduces n contiguous floats in eight independent lanes (vectorised; the lanes are merged in a fixed order). */
template <Reduce op>
double reduceRow(const float* x, int64_t n) {
  constexpr int L = 8;
  double lane[L];
  for (int j = 0; j < L; ++j) lane[j] = Acc<op>::init();
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    for (int j = 0; j < L; ++j) lane[j] = Acc<op>::step(lane[j], x[i + j]);
  }
  double acc = Acc<op>::init();
  for (; i < n; ++i) acc = Acc<op>::step(acc, x[i]);
  for (int j = 0; j < L; ++j) acc = Acc<op>::merge(acc, lane[j]);
  return acc;
}

/**
 * Adds rows r0..r1 of block k1 (x[k1, r, 0..K2)) into acc[0..K2); rows of
 * one value (K2 = 1, the reduced axis is the contiguous one) are reduced in
 * lanes by reduceRow.
 */
template <Reduce op>
void accumulateRows(double* acc, const float* x, int64_t k1, int64_t r0, int64_t r1, int64_t R, int64_t K2) {
  if (K2 == 1) {
    acc[0] = Acc<op>::merge(acc[0], reduceRow<op>(x + k1 * R + r0, r1 - r0));
    return;
  }
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = x + (k1 * R + r) * K2;
    for (int64_t k2 = 0; k2 < K2; ++k2) acc[k2] = Acc<op>::step(acc[k2], row[k2]);
  }
}

/** out[k1, k2] = reduce_r x[k1, r, k2] */
template <Reduce op>
void reduce3(const float* x, float* y, int64_t K1, int64_t R, int64_t K2, double scale) {
  const int T = omp_get_max_threads();
  const int64_t total = K1 * R * K2;
  if (K1 >= T || total < (1 << 15)) {
#pragma omp parallel for schedule(static) if (total >= (1 << 15))
    for (int64_t k1 = 0; k1 < K1; ++k1) {
      std::vector<double> acc(static_cast<size_t>(K2), Acc<op>::init());
      accumulateRows<op>(acc.data(), x, k1, 0, R, R, K2);
      for (int64_t k2 = 0; k2 < K2; ++k2) y[k1 * K2 + k2] = float(acc[k2] * scale);
    }
    return;
  }
  // few outputs rows: split the reduced axis across threads, then merge in a fixed order
  std::vector<double> part(size_t(T) * size_t(K1 * K2), Acc<op>::init());
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    const int64_t r0 = R * t / T, r1 = R * (t + 1) / T;
    double* acc = part.data() + size_t(t) * size_t(K1 * K2);
    for (int64_t k1 = 0; k1 < K1; ++k1) accumulateRows<op>(acc + k1 * K2, x, k1, r0, r1, R, K2);
  }
  for (int64_t o = 0; o < K1 * K2; ++o) {
    double v = part[size_t(o)];
    for (int t = 1; t < T; ++t) v = Acc<op>::merge(v, part[size_t(t) * size_t(K1 * K2) + size_t(o)]);
    y[o] = float(v * scale);
  }
}

void reduce3(Reduce op, const float* x, float* y, int64_t K1, int64_t R, int64_t K2, double scale) {
  if (op == Reduce::Sum) reduce3<Reduce::Sum>(x, y, K1, R, K2, scale);
  else if (op == Reduce::Mean) reduce3<Reduce::Mean>(x, y, K1, R, K2, scale);
  else reduce3<Reduce::Max>(x, y, K1, R, K2, scale);
}

// reduce(op, x, xShape, axes, y) → true, or false when the axes do not form
// one contiguous block once size-1 dims are dropped (the caller falls back)
Napi::Value ReduceOp(const Napi::CallbackInfo& info) {
  return guarded(info, "reduce", [&]() -> Napi::Value {
    const int op = info[0].As<Napi::Number>().Int32Value();
    if (op < 0 || op > 2) throw Napi::RangeError::New(info.Env(), "reduce: unknown op");
    auto xs = intArray(info, 2, "x shape", 0);
    auto axes = intArray(info, 3, "axes", 0);
    checkLength(info, 1, size_t(product(xs)), "x");
    std::vector<bool> reduced(xs.size(), false);
    int64_t count = 1;
    for (int64_t a : axes) {
      if (a < 0 || a >= int64_t(xs.size())) throw Napi::RangeError::New(info.Env(), "reduce: axis out of range");
      reduced[size_t(a)] = true;
    }
    // blocks of (reduced?, size) with size-1 dims dropped
    std::vector<std::pair<bool, int64_t>> blocks;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (reduced[i]) count *= xs[i];
      if (xs[i] == 1) continue;
      if (!blocks.empty() && blocks.back().first == reduced[i]) blocks.back().second *= xs[i];
      else blocks.emplace_back(reduced[i], xs[i]);
    }
    int64_t K1 = 1, R = 1, K2 = 1;
    size_t i = 0;
    if (i < blocks.size() && !blocks[i].first) K1 = blocks[i++].second;
    if (i < blocks.size() && blocks[i].first) R = blocks[i++].second;
    if (i < blocks.size() && !blocks[i].first) K2 = blocks[i++].second;
    if (i != blocks.size()) return Napi::Boolean::New(info.Env(), false);
    checkLength(info, 4, size_t(K1 * K2), "y");
    const float* x = floatData(info, 1, "x");
    float* y = floatData(info, 4, "y");
    if (count == 0) {
      // an empty reduction: TF.js gives 0 for sum, NaN for mean, −∞ for max
      const float v = op == 0 ? 0.f : op == 1 ? std::numeric_limits<float>::quiet_NaN() : -std::numeric_limits<float>::infinity();
      for (int64_t o = 0; o < K1 * K2; ++o) y[o] = v;
      return Napi::Boolean::New(info.Env(), true);
    }
    reduce3(Reduce(op), x, y, K1, R, K2, op == int(Reduce::Mean) ? 1.0 / double(count) : 1.0);
    return Napi::Boolean::New(info.Env(), true);
  });
}

}  // namespace

void initReduce(Napi::Env env, Napi::Object exports) { exports.Set("reduce", Napi::Function::New(env, ReduceOp)); }

}  // namespace mrcl
