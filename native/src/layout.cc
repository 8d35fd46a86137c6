// Pad (constant) and Slice over float32 arrays of any rank, as block
// copies: the innermost dimensions that are untouched are merged into one
// contiguous block, so an NDHWC spatial pad copies whole W·C rows. TF.js's
// cpu backend does these element by element with index arithmetic (a
// conv's explicit padding and its gradient cost more than the conv).
#include "common.h"

#include <algorithm>
#include <cstring>

namespace mrcl {
namespace {

constexpr int64_t kCopyParallelMin = 1 << 15;

std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/**
 * Copies the box `count` (per dimension) from `src` at `srcStart` into `dst`
 * at `dstStart`; both are dense arrays of shapes srcShape / dstShape.
 */
void copyBox(const float* src, const std::vector<int64_t>& srcShape, const std::vector<int64_t>& srcStart, float* dst,
             const std::vector<int64_t>& dstShape, const std::vector<int64_t>& dstStart, const std::vector<int64_t>& count) {
  const int rank = int(count.size());
  if (product(count) == 0) return;
  // k: first dim of the contiguous tail (untouched in both arrays)
  int k = rank;
  while (k > 0 && count[k - 1] == srcShape[k - 1] && count[k - 1] == dstShape[k - 1] && srcStart[k - 1] == 0 && dstStart[k - 1] == 0) --k;
  const auto ss = stridesOf(srcShape), ds = stridesOf(dstShape);
  if (k == 0) {
    std::memcpy(dst, src, sizeof(float) * product(count));
    return;
  }
  // dimension k−1 is copied as one run of count[k−1]·block floats
  const int64_t run = count[k - 1] * ss[k - 1];
  int64_t outer = 1;
  for (int j = 0; j < k - 1; ++j) outer *= count[j];
  const int64_t total = outer * run;
#pragma omp parallel for schedule(static) if (total > kCopyParallelMin)
  for (int64_t r = 0; r < outer; ++r) {
    int64_t rem = r, so = srcStart[k - 1] * ss[k - 1], dof = dstStart[k - 1] * ds[k - 1];
    for (int j = k - 2; j >= 0; --j) {
      const int64_t i = rem % count[j];
      rem /= count[j];
      so += (i + srcStart[j]) * ss[j];
      dof += (i + dstStart[j]) * ds[j];
    }
    std::memcpy(dst + dof, src + so, sizeof(float) * run);
  }
}

void fill(float* p, int64_t n, float v) {
#pragma omp parallel for schedule(static) if (n > kCopyParallelMin)
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

// pad(x, xShape, y, yShape, before, value)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  return guarded(info, "pad", [&]() -> Napi::Value {
    auto xs = intArray(info, 1, "x shape", 0);
    auto ys = intArray(info, 3, "y shape", xs.size());
    auto before = intArray(info, 4, "before", xs.size());
    checkLength(info, 0, size_t(product(xs)), "x");
    checkLength(info, 2, size_t(product(ys)), "y");
    for (size_t j = 0; j < xs.size(); ++j) {
      if (before[j] < 0 || before[j] + xs[j] > ys[j]) throw Napi::RangeError::New(info.Env(), "pad: paddings do not fit the output");
    }
    float* x = floatData(info, 0, "x");
    float* y = floatData(info, 2, "y");
    float value = float(info[5].As<Napi::Number>().DoubleValue());
    if (product(xs) != product(ys)) fill(y, product(ys), value);
    copyBox(x, xs, std::vector<int64_t>(xs.size(), 0), y, ys, before, xs);
    return info.Env().Undefined();
  });
}

// slice(x, xShape, y, yShape, begin)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  return guarded(info, "slice", [&]() -> Napi::Value {
    auto xs = intArray(info, 1, "x shape", 0);
    auto ys = intArray(info, 3, "y shape", xs.size());
    auto begin = intArray(info, 4, "begin", xs.size());
    checkLength(info, 0, size_t(product(xs)), "x");
    checkLength(info, 2, size_t(product(ys)), "y");
    for (size_t j = 0; j < xs.size(); ++j) {
      if (begin[j] < 0 || begin[j] + ys[j] > xs[j]) throw Napi::RangeError::New(info.Env(), "slice: the slice lies outside the input");
    }
    copyBox(floatData(info, 0, "x"), xs, begin, floatData(info, 2, "y"), ys, std::vector<int64_t>(xs.size(), 0), ys);
    return info.Env().Undefined();
  });
}

// transpose(x, xShape, perm, y): y's dim i is x's dim perm[i]
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  return guarded(info, "transpose", [&]() -> Napi::Value {
    auto xs = intArray(info, 1, "x shape", 0);
    auto perm = intArray(info, 2, "perm", xs.size());
    const int rank = int(xs.size());
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || seen[size_t(p)]) throw Napi::RangeError::New(info.Env(), "transpose: perm is not a permutation");
      seen[size_t(p)] = true;
    }
    const int64_t n = product(xs);
    checkLength(info, 0, size_t(n), "x");
    checkLength(info, 3, size_t(n), "y");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 3, "y");
    if (n == 0) return info.Env().Undefined();
    const auto xst = stridesOf(xs);
    std::vector<int64_t> ys(static_cast<size_t>(rank)), src(static_cast<size_t>(rank));  // y shape; x stride of each y dim
    for (int i = 0; i < rank; ++i) {
      ys[size_t(i)] = xs[size_t(perm[size_t(i)])];
      src[size_t(i)] = xst[size_t(perm[size_t(i)])];
    }
    const int64_t inner = rank ? ys[size_t(rank - 1)] : 1, is = rank ? src[size_t(rank - 1)] : 1, outer = n / inner;
#pragma omp parallel for schedule(static) if (n > kCopyParallelMin)
    for (int64_t r = 0; r < outer; ++r) {
      int64_t rem = r, off = 0;
      for (int j = rank - 2; j >= 0; --j) {
        off += (rem % ys[size_t(j)]) * src[size_t(j)];
        rem /= ys[size_t(j)];
      }
      float* py = y + r * inner;
      for (int64_t i = 0; i < inner; ++i) py[i] = x[off + i * is];
    }
    return info.Env().Undefined();
  });
}

// unsortedSegmentSum(x, rows, inner, ids, numSegments, y): y[s] = Σ x[r] over
// rows r with ids[r] = s (ids outside [0, numSegments) are dropped, as in
// TF.js); summed in double, threads split the columns so the order is fixed
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  return guarded(info, "unsortedSegmentSum", [&]() -> Napi::Value {
    const int64_t rows = info[1].As<Napi::Number>().Int64Value(), inner = info[2].As<Napi::Number>().Int64Value();
    const int64_t segments = info[4].As<Napi::Number>().Int64Value();
    if (rows < 0 || inner < 0 || segments < 0) throw Napi::RangeError::New(info.Env(), "unsortedSegmentSum: negative size");
    checkLength(info, 0, size_t(rows * inner), "x");
    checkLength(info, 5, size_t(segments * inner), "y");
    Napi::Value idv = info[3];
    if (!idv.IsTypedArray() || idv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(info.Env(), "unsortedSegmentSum: ids must be an Int32Array");
    }
    Napi::Int32Array ids = idv.As<Napi::Int32Array>();
    if (int64_t(ids.ElementLength()) != rows) throw Napi::RangeError::New(info.Env(), "unsortedSegmentSum: one id per row expected");
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 5, "y");
    const int32_t* id = ids.Data();
    std::vector<double> acc(static_cast<size_t>(segments * inner), 0.0);
    const int64_t block = 64;
    const int64_t blocks = (inner + block - 1) / block;
#pragma omp parallel for schedule(static) if (rows * inner > kCopyParallelMin)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * block, c1 = std::min(inner, c0 + block);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t s = id[r];
        if (s < 0 || s >= segments) continue;
        for (int64_t c = c0; c < c1; ++c) acc[size_t(s * inner + c)] += double(x[r * inner + c]);
      }
    }
    for (int64_t i = 0; i < segments * inner; ++i) y[i] = float(acc[size_t(i)]);
    return info.Env().Undefined();
  });
}

}  // namespace

void initLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, SegmentSum));
}

}  // namespace mrcl
