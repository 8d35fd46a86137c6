// Conv3D forward, backward-data and backward-weights on oneDNN, in TF.js's
// layouts (x, y NDHWC; filter DHWIO) so the backend's arrays are used as is.
//
// TF.js 'same' padding can be negative when the kernel is smaller than the
// stride (a 1×1×1 stride-2 conv samples odd positions). oneDNN rejects
// negative padding, so the input is cropped by that amount instead, which
// selects exactly the positions TF.js reads.
#include "common.h"

#include <algorithm>
#include <cstring>

namespace mrcl {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct Geometry {
  std::vector<int64_t> x, w, y, strides, pl, pr, dil;  // x, y NDHWC; w DHWIO
  std::vector<int64_t> crop0, crop1, xc, plc, prc;     // crop of x, cropped x, clamped pads

  void derive() {
    crop0.assign(3, 0);
    crop1.assign(3, 0);
    plc.assign(3, 0);
    prc.assign(3, 0);
    xc = x;
    for (int a = 0; a < 3; ++a) {
      crop0[a] = std::max<int64_t>(0, -pl[a]);
      crop1[a] = std::max<int64_t>(0, -pr[a]);
      plc[a] = std::max<int64_t>(0, pl[a]);
      prc[a] = std::max<int64_t>(0, pr[a]);
      xc[1 + a] = x[1 + a] - crop0[a] - crop1[a];
    }
  }
  bool cropped() const { return xc != x; }

  dnnl::memory::desc srcDesc(dt t = dt::f32) const { return {{xc[0], xc[4], xc[1], xc[2], xc[3]}, t, tag::ndhwc}; }
  dnnl::memory::desc dstDesc(dt t = dt::f32) const { return {{y[0], y[4], y[1], y[2], y[3]}, t, tag::ndhwc}; }
  dims_t wDims() const { return {w[4], w[3], w[0], w[1], w[2]}; }
  dnnl::memory::desc userWeightsDesc() const { return {wDims(), dt::f32, tag::dhwio}; }
  dnnl::memory::desc anyWeightsDesc(dt t = dt::f32) const { return {wDims(), t, tag::any}; }
  dims_t dilations() const { return {dil[0] - 1, dil[1] - 1, dil[2] - 1}; }

  /** fp32: all f32. bf16: src and weights bf16, dst `dst` (the output type wanted, or bf16 for a backward primitive's hint). */
  dnnl::convolution_forward::desc fwdDesc(dnnl::prop_kind kind, bool bf16 = false, dt dst = dt::f32) const {
    const dt in = bf16 ? dt::bf16 : dt::f32;
    return dnnl::convolution_forward::desc(kind, dnnl::algorithm::convolution_direct, srcDesc(in), anyWeightsDesc(in), dstDesc(bf16 ? dst : dt::f32),
                                           strides, dilations(), plc, prc);
  }
};

/** Copies the cropped part of an NDHWC array into a dense one. */
void cropCopy(const float* src, const Geometry& g, float* dst) {
  const int64_t N = g.x[0], C = g.x[4];
  const int64_t D = g.xc[1], H = g.xc[2], W = g.xc[3];
  const int64_t rows = N * D * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t h = r % H, d = (r / H) % D, n = r / (H * D);
    const float* s = src + (((n * g.x[1] + d + g.crop0[0]) * g.x[2] + h + g.crop0[1]) * g.x[3] + g.crop0[2]) * C;
    std::memcpy(dst + r * W * C, s, sizeof(float) * W * C);
  }
}

/** Scatters a dense cropped array back into a zeroed full one (backward data). */
void uncropCopy(const float* src, const Geometry& g, float* dst) {
  std::memset(dst, 0, sizeof(float) * product(g.x));
  const int64_t N = g.x[0], C = g.x[4];
  const int64_t D = g.xc[1], H = g.xc[2], W = g.xc[3];
  const int64_t rows = N * D * H;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t h = r % H, d = (r / H) % D, n = r / (H * D);
    float* t = dst + (((n * g.x[1] + d + g.crop0[0]) * g.x[2] + h + g.crop0[1]) * g.x[3] + g.crop0[2]) * C;
    std::memcpy(t, src + r * W * C, sizeof(float) * W * C);
  }
}

// bf16 outputs are wanted in f32 (the caller's arrays); where oneDNN has
// an optimised kernel only for a bf16 output, that output is reordered
// (F32_THEN_BF16, common.h).
const std::vector<dt> F32_ONLY{dt::f32};

// Weights in the primitive's own layout are reordered into a buffer of the
// call (inputAs, OutputAs), not one kept with the cached primitive: with
// one per cached convolution, those buffers alone held about three copies
// of the model's weights (a weight gradient's buffer too).
struct FwdEntry {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
};

struct BwdDataEntry {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
};

enum class Op { fwd, bwdData, bwdWeights };

/**
 * Whether this convolution runs in bf16 under precision bf16. Two kinds stay
 * fp32, where oneDNN 2.6's AMX kernels are slower than its fp32 ones
 * (measured on a Xeon with AMX, batch 16, 2 threads): fewer than 16 input
 * channels (the stem's 7³ conv on one channel: the kernels pad channels to
 * 16, forward 161 ms in bf16 vs 71 ms in fp32), and the weight gradient over
 * fewer than 4,096 output positions per case (layers 3–4 on an 8×8×5 grid,
 * 256 channels: 102 vs 79 ms; on 32×32×20 bf16 wins, 152 vs 296 ms).
 */
bool useBf16(const Geometry& g, Op op) {
  if (precision() != Precision::bf16) return false;
  if (g.w[3] < 16) return false;
  if (op == Op::bwdWeights && g.y[1] * g.y[2] * g.y[3] < 4096) return false;
  return true;
}

struct BwdWeightsEntry {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
};

LruCache<FwdEntry> fwdCache(64);
LruCache<BwdDataEntry> bwdDataCache(64);
LruCache<BwdWeightsEntry> bwdWeightsCache(64);

std::string geometryKey(const char* op, const Geometry& g, bool bf16) {
  return keyOf(op, {&g.x, &g.w, &g.y, &g.strides, &g.pl, &g.pr, &g.dil}, bf16 ? 1 : 0);
}

template <typename PD>
void note(const char* op, bool bf16, const PD& pd) {
  noteImplementation(std::string(op) + (bf16 ? ".bf16" : ".fp32"), pd.impl_info_str());
}

/** Reads (a, aShape, b, bShape, c, cShape, strides, padFront, padBack, dilations) with roles per op. */
Geometry parse(const Napi::CallbackInfo& info, int xIdx, int wIdx, int yIdx) {
  if (info.Length() < 10) throw Napi::TypeError::New(info.Env(), "conv3d: expected 10 arguments");
  Geometry g;
  g.x = intArray(info, xIdx + 1, "x shape", 5);
  g.w = intArray(info, wIdx + 1, "filter shape", 5);
  g.y = intArray(info, yIdx + 1, "y shape", 5);
  g.strides = intArray(info, 6, "strides", 3);
  g.pl = intArray(info, 7, "padFront", 3);
  g.pr = intArray(info, 8, "padBack", 3);
  g.dil = intArray(info, 9, "dilations", 3);
  checkLength(info, xIdx, size_t(product(g.x)), "x");
  checkLength(info, wIdx, size_t(product(g.w)), "filter");
  checkLength(info, yIdx, size_t(product(g.y)), "y");
  if (g.w[3] != g.x[4] || g.w[4] != g.y[4] || g.x[0] != g.y[0]) {
    throw Napi::RangeError::New(info.Env(), "conv3d: x, filter and y shapes disagree");
  }
  for (int a = 0; a < 3; ++a) {
    if (g.strides[a] < 1 || g.dil[a] < 1) throw Napi::RangeError::New(info.Env(), "conv3d: strides and dilations must be ≥ 1");
  }
  g.derive();
  for (int a = 0; a < 3; ++a) {
    if (g.xc[1 + a] < 1) throw Napi::RangeError::New(info.Env(), "conv3d: padding crops the whole input");
  }
  return g;
}

std::shared_ptr<FwdEntry> fwdEntry(const Geometry& g) {
  const bool bf16 = useBf16(g, Op::fwd);
  std::string key = geometryKey("fwd", g, bf16);
  auto e = fwdCache.get(key);
  if (e) return e;
  e = std::make_shared<FwdEntry>();
  e->pd = preferOptimised<dnnl::convolution_forward::primitive_desc>(bf16 ? F32_THEN_BF16 : F32_ONLY, [&](dt out) {
    return dnnl::convolution_forward::primitive_desc(g.fwdDesc(dnnl::prop_kind::forward_training, bf16, out), cpuEngine());
  });
  note("conv3d.fwd", bf16, e->pd);
  e->prim = dnnl::convolution_forward(e->pd);
  fwdCache.put(key, e);
  return e;
}

// conv3dForward(x, xShape, w, wShape, y, yShape, strides, padFront, padBack, dilations)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, "conv3dForward", [&]() -> Napi::Value {
    Geometry g = parse(info, 0, 2, 4);
    float* x = floatData(info, 0, "x");
    float* w = floatData(info, 2, "filter");
    float* y = floatData(info, 4, "y");
    auto e = fwdEntry(g);
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    std::vector<float> xcrop;
    if (g.cropped()) {
      xcrop.resize(size_t(product(g.xc)));
      cropCopy(x, g, xcrop.data());
    }
    dnnl::memory src = inputAs(g.srcDesc(), g.cropped() ? xcrop.data() : x, e->pd.src_desc());
    OutputAs dst(g.dstDesc(), y, e->pd.dst_desc());
    dnnl::memory weights = inputAs(g.userWeightsDesc(), w, e->pd.weights_desc());
    e->prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst.memory()}});
    dst.finish();
    s.wait();
    return info.Env().Undefined();
  });
}

// conv3dBackwardData(dx, xShape, w, wShape, dy, yShape, strides, padFront, padBack, dilations)
Napi::Value BackwardData(const Napi::CallbackInfo& info) {
  return guarded(info, "conv3dBackwardData", [&]() -> Napi::Value {
    Geometry g = parse(info, 0, 2, 4);
    float* dx = floatData(info, 0, "dx");
    float* w = floatData(info, 2, "filter");
    float* dy = floatData(info, 4, "dy");
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    const bool bf16 = useBf16(g, Op::bwdData);
    std::string key = geometryKey("bwdData", g, bf16);
    auto e = bwdDataCache.get(key);
    if (!e) {
      e = std::make_shared<BwdDataEntry>();
      const dt in = bf16 ? dt::bf16 : dt::f32;
      auto hint = dnnl::convolution_forward::primitive_desc(g.fwdDesc(dnnl::prop_kind::forward_training, bf16, dt::bf16), eng);
      e->pd = preferOptimised<dnnl::convolution_backward_data::primitive_desc>(bf16 ? F32_THEN_BF16 : F32_ONLY, [&](dt out) {
        dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.srcDesc(out), g.anyWeightsDesc(in), g.dstDesc(in), g.strides,
                                                g.dilations(), g.plc, g.prc);
        return dnnl::convolution_backward_data::primitive_desc(d, eng, hint);
      });
      note("conv3d.bwdData", bf16, e->pd);
      e->prim = dnnl::convolution_backward_data(e->pd);
      bwdDataCache.put(key, e);
    }
    std::vector<float> dxcrop;
    if (g.cropped()) dxcrop.resize(size_t(product(g.xc)));
    OutputAs diffSrc(g.srcDesc(), g.cropped() ? dxcrop.data() : dx, e->pd.diff_src_desc());
    dnnl::memory diffDst = inputAs(g.dstDesc(), dy, e->pd.diff_dst_desc());
    dnnl::memory weights = inputAs(g.userWeightsDesc(), w, e->pd.weights_desc());
    e->prim.execute(s, {{DNNL_ARG_DIFF_SRC, diffSrc.memory()}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_DST, diffDst}});
    diffSrc.finish();
    s.wait();
    if (g.cropped()) uncropCopy(dxcrop.data(), g, dx);
    return info.Env().Undefined();
  });
}

// conv3dBackwardWeights(x, xShape, dw, wShape, dy, yShape, strides, padFront, padBack, dilations)
Napi::Value BackwardWeights(const Napi::CallbackInfo& info) {
  return guarded(info, "conv3dBackwardWeights", [&]() -> Napi::Value {
    Geometry g = parse(info, 0, 2, 4);
    float* x = floatData(info, 0, "x");
    float* dw = floatData(info, 2, "dw");
    float* dy = floatData(info, 4, "dy");
    auto& eng = cpuEngine();
    auto& s = cpuStream();
    const bool bf16 = useBf16(g, Op::bwdWeights);
    std::string key = geometryKey("bwdWeights", g, bf16);
    auto e = bwdWeightsCache.get(key);
    if (!e) {
      e = std::make_shared<BwdWeightsEntry>();
      const dt in = bf16 ? dt::bf16 : dt::f32;
      auto hint = dnnl::convolution_forward::primitive_desc(g.fwdDesc(dnnl::prop_kind::forward_training, bf16, dt::bf16), eng);
      e->pd = preferOptimised<dnnl::convolution_backward_weights::primitive_desc>(bf16 ? F32_THEN_BF16 : F32_ONLY, [&](dt out) {
        dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.srcDesc(in), g.anyWeightsDesc(out), g.dstDesc(in),
                                                   g.strides, g.dilations(), g.plc, g.prc);
        return dnnl::convolution_backward_weights::primitive_desc(d, eng, hint);
      });
      note("conv3d.bwdWeights", bf16, e->pd);
      e->prim = dnnl::convolution_backward_weights(e->pd);
      bwdWeightsCache.put(key, e);
    }
    std::vector<float> xcrop;
    if (g.cropped()) {
      xcrop.resize(size_t(product(g.xc)));
      cropCopy(x, g, xcrop.data());
    }
    dnnl::memory src = inputAs(g.srcDesc(), g.cropped() ? xcrop.data() : x, e->pd.src_desc());
    dnnl::memory diffDst = inputAs(g.dstDesc(), dy, e->pd.diff_dst_desc());
    OutputAs diffWeights(g.userWeightsDesc(), dw, e->pd.diff_weights_desc());
    e->prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWeights.memory()}});
    diffWeights.finish();
    s.wait();
    return info.Env().Undefined();
  });
}

}  // namespace

void clearConvCache() {
  fwdCache.clear();
  bwdDataCache.clear();
  bwdWeightsCache.clear();
}

size_t convCacheSize() { return fwdCache.size() + bwdDataCache.size() + bwdWeightsCache.size(); }

void initConv3d(Napi::Env env, Napi::Object exports) {
  exports.Set("conv3dForward", Napi::Function::New(env, Forward));
  exports.Set("conv3dBackwardData", Napi::Function::New(env, BackwardData));
  exports.Set("conv3dBackwardWeights", Napi::Function::New(env, BackwardWeights));
}

}  // namespace mrcl
