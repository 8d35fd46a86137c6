// MaxPool3D / AvgPool3D and their gradients over NDHWC arrays, with TF.js's
// semantics: padded cells are skipped; max ignores NaN; the max gradient
// goes to the LAST maximal cell of a window (TF.js compares with ≥); the
// average gradient spreads dy / (filter volume) over every in-range cell.
#include "common.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace mrcl {
namespace {

struct PoolGeometry {
  std::vector<int64_t> x, y, filter, strides, pad, dil;

  /** in-range input range [lo, hi) and step along axis a for output index o */
  void window(int a, int64_t o, int64_t& lo, int64_t& hi) const {
    const int64_t corner = o * strides[a] - pad[a];
    lo = corner;
    while (lo < 0) lo += dil[a];
    hi = std::min(x[1 + a], corner + (filter[a] - 1) * dil[a] + 1);
  }
};

PoolGeometry parse(const Napi::CallbackInfo& info, size_t xShapeIdx, size_t yShapeIdx, size_t first) {
  PoolGeometry g;
  g.x = intArray(info, xShapeIdx, "x shape", 5);
  g.y = intArray(info, yShapeIdx, "y shape", 5);
  g.filter = intArray(info, first, "filter", 3);
  g.strides = intArray(info, first + 1, "strides", 3);
  g.pad = intArray(info, first + 2, "padFront", 3);
  g.dil = intArray(info, first + 3, "dilations", 3);
  if (g.x[0] != g.y[0] || g.x[4] != g.y[4]) throw Napi::RangeError::New(info.Env(), "pool3d: x and y shapes disagree");
  for (int a = 0; a < 3; ++a) {
    if (g.filter[a] < 1 || g.strides[a] < 1 || g.dil[a] < 1) throw Napi::RangeError::New(info.Env(), "pool3d: filter, strides and dilations must be ≥ 1");
  }
  return g;
}

// pool3d(x, xShape, y, yShape, filter, strides, padFront, dilations, isMax)
Napi::Value Pool(const Napi::CallbackInfo& info) {
  return guarded(info, "pool3d", [&]() -> Napi::Value {
    PoolGeometry g = parse(info, 1, 3, 4);
    checkLength(info, 0, size_t(product(g.x)), "x");
    checkLength(info, 2, size_t(product(g.y)), "y");
    const bool isMax = info[8].ToBoolean();
    const float* x = floatData(info, 0, "x");
    float* y = floatData(info, 2, "y");
    const int64_t C = g.x[4], rows = g.y[0] * g.y[1] * g.y[2];
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t oh = r % g.y[2], od = (r / g.y[2]) % g.y[1], n = r / (g.y[2] * g.y[1]);
      int64_t d0, d1, h0, h1;
      g.window(0, od, d0, d1);
      g.window(1, oh, h0, h1);
      std::vector<double> acc(static_cast<size_t>(C));
      for (int64_t ow = 0; ow < g.y[3]; ++ow) {
        int64_t w0, w1;
        g.window(2, ow, w0, w1);
        float* out = y + ((r * g.y[3]) + ow) * C;
        if (isMax) std::fill(out, out + C, -std::numeric_limits<float>::infinity());
        else std::fill(acc.begin(), acc.end(), 0.0);
        int64_t count = 0;
        for (int64_t d = d0; d < d1; d += g.dil[0])
          for (int64_t h = h0; h < h1; h += g.dil[1])
            for (int64_t w = w0; w < w1; w += g.dil[2]) {
              const float* px = x + (((n * g.x[1] + d) * g.x[2] + h) * g.x[3] + w) * C;
              if (isMax) {
                for (int64_t c = 0; c < C; ++c) out[c] = px[c] > out[c] ? px[c] : out[c];
              } else {
                for (int64_t c = 0; c < C; ++c) acc[c] += px[c];
                ++count;
              }
            }
        if (!isMax) {
          const double div = double(std::max<int64_t>(count, 1));
          for (int64_t c = 0; c < C; ++c) out[c] = float(acc[c] / div);
        }
      }
    }
    return info.Env().Undefined();
  });
}

// pool3dGrad(dy, yShape, x, xShape, dx, filter, strides, padFront, dilations, isMax)
// (x is read only for max; dx has x's shape)
Napi::Value PoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "pool3dGrad", [&]() -> Napi::Value {
    PoolGeometry g = parse(info, 3, 1, 5);
    const bool isMax = info[9].ToBoolean();
    checkLength(info, 0, size_t(product(g.y)), "dy");
    checkLength(info, 4, size_t(product(g.x)), "dx");
    if (isMax) checkLength(info, 2, size_t(product(g.x)), "x");
    const float* dy = floatData(info, 0, "dy");
    const float* x = isMax ? floatData(info, 2, "x") : nullptr;
    float* dx = floatData(info, 4, "dx");
    const int64_t N = g.x[0], C = g.x[4];
    std::memset(dx, 0, sizeof(float) * size_t(product(g.x)));
    const float avg = float(1.0 / double(g.filter[0] * g.filter[1] * g.filter[2]));
    // windows overlap, so threads split the (sample, channel block) pairs, never the windows
    const int T = omp_get_max_threads();
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(C, (T + N - 1) / N));
#pragma omp parallel for schedule(static)
    for (int64_t job = 0; job < N * blocks; ++job) {
      const int64_t n = job / blocks, b = job % blocks;
      const int64_t c0 = C * b / blocks, c1 = C * (b + 1) / blocks, nc = c1 - c0;
      std::vector<float> best(static_cast<size_t>(nc));
      std::vector<int64_t> pos(static_cast<size_t>(nc));
      for (int64_t od = 0; od < g.y[1]; ++od) {
        int64_t d0, d1;
        g.window(0, od, d0, d1);
        for (int64_t oh = 0; oh < g.y[2]; ++oh) {
          int64_t h0, h1;
          g.window(1, oh, h0, h1);
          for (int64_t ow = 0; ow < g.y[3]; ++ow) {
            int64_t w0, w1;
            g.window(2, ow, w0, w1);
            const float* g_ = dy + (((n * g.y[1] + od) * g.y[2] + oh) * g.y[3] + ow) * C + c0;
            if (isMax) {
              std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
              std::fill(pos.begin(), pos.end(), -1);
            }
            for (int64_t d = d0; d < d1; d += g.dil[0])
              for (int64_t h = h0; h < h1; h += g.dil[1])
                for (int64_t w = w0; w < w1; w += g.dil[2]) {
                  const int64_t off = (((n * g.x[1] + d) * g.x[2] + h) * g.x[3] + w) * C + c0;
                  if (isMax) {
                    for (int64_t c = 0; c < nc; ++c) {
                      if (x[off + c] >= best[c]) {
                        best[c] = x[off + c];
                        pos[c] = off + c;
                      }
                    }
                  } else {
                    for (int64_t c = 0; c < nc; ++c) dx[off + c] += g_[c] * avg;
                  }
                }
            if (isMax) {
              for (int64_t c = 0; c < nc; ++c)
                if (pos[c] >= 0) dx[pos[c]] += g_[c];
            }
          }
        }
      }
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void initPool3d(Napi::Env env, Napi::Object exports) {
  exports.Set("pool3d", Napi::Function::New(env, Pool));
  exports.Set("pool3dGrad", Napi::Function::New(env, PoolGrad));
}

}  // namespace mrcl
