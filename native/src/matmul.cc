// BatchMatMul on oneDNN's matmul (the same GEMM kernels PyTorch uses on
// CPU). Transposes are expressed as strides, so no copy is made; a batch of
// 1 on either side broadcasts as in TF.js.
#include "common.h"

namespace mrcl {
namespace {

using dt = dnnl::memory::data_type;

struct MatmulEntry {
  dnnl::matmul prim;
  dnnl::memory::desc a, b, y;     // the caller's f32 arrays
  dnnl::memory::desc pa, pb, py;  // as the primitive takes them (bf16 inputs in bf16 precision)
  void run(float* ap, float* bp, float* yp) const {
    auto& s = cpuStream();
    dnnl::memory ma = inputAs(a, ap, pa), mb = inputAs(b, bp, pb);
    OutputAs my(y, yp, py);
    prim.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, my.memory()}});
    my.finish();
  }
};

LruCache<MatmulEntry> cache(64);

/** [batch, rows, cols] descriptor of a row-major array stored as [batch, rows, cols] or, transposed, [batch, cols, rows]. */
dnnl::memory::desc matrixDesc(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  const dims_t strides = transposed ? dims_t{rows * cols, 1, rows} : dims_t{rows * cols, cols, 1};
  return dnnl::memory::desc({batch, rows, cols}, dt::f32, strides);
}

std::shared_ptr<MatmulEntry> entry(int64_t ba, int64_t bb, int64_t m, int64_t k, int64_t n, bool ta, bool tb) {
  const bool bf16 = precision() == Precision::bf16;
  std::vector<int64_t> key{ba, bb, m, k, n, ta, tb};
  std::string s = keyOf("matmul", {&key}, bf16 ? 1 : 0);
  auto e = cache.get(s);
  if (e) return e;
  e = std::make_shared<MatmulEntry>();
  e->a = matrixDesc(ba, m, k, ta);
  e->b = matrixDesc(bb, k, n, tb);
  e->y = dnnl::memory::desc({std::max(ba, bb), m, n}, dt::f32, dnnl::memory::format_tag::abc);
  dnnl::matmul::primitive_desc pd;
  if (bf16) {
    // bf16 copies in the layouts the kernel wants (tag any), f32 output where it can
    pd = preferOptimised<dnnl::matmul::primitive_desc>(F32_THEN_BF16, [&](dt out) {
      dnnl::memory::desc a({ba, m, k}, dt::bf16, dnnl::memory::format_tag::any), b({bb, k, n}, dt::bf16, dnnl::memory::format_tag::any);
      dnnl::memory::desc y({std::max(ba, bb), m, n}, out, dnnl::memory::format_tag::abc);
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, y), cpuEngine());
    });
  } else {
    pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e->a, e->b, e->y), cpuEngine());
  }
  noteImplementation(bf16 ? "matmul.bf16" : "matmul.fp32", pd.impl_info_str());
  e->pa = pd.src_desc();
  e->pb = pd.weights_desc();
  e->py = pd.dst_desc();
  e->prim = dnnl::matmul(pd);
  cache.put(s, e);
  return e;
}

// batchMatMul(a, b, y, batchA, batchB, m, k, n, transposeA, transposeB)
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  return guarded(info, "batchMatMul", [&]() -> Napi::Value {
    if (info.Length() < 10) throw Napi::TypeError::New(info.Env(), "batchMatMul: expected 10 arguments");
    auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
    const int64_t ba = num(3), bb = num(4), m = num(5), k = num(6), n = num(7);
    const bool ta = info[8].ToBoolean(), tb = info[9].ToBoolean();
    if (ba < 1 || bb < 1 || m < 1 || k < 1 || n < 1) throw Napi::RangeError::New(info.Env(), "batchMatMul: dimensions must be ≥ 1");
    if (ba != bb && ba != 1 && bb != 1) throw Napi::RangeError::New(info.Env(), "batchMatMul: batch sizes must match or be 1");
    const int64_t batch = std::max(ba, bb);
    checkLength(info, 0, size_t(ba * m * k), "a");
    checkLength(info, 1, size_t(bb * k * n), "b");
    checkLength(info, 2, size_t(batch * m * n), "y");
    float* a = floatData(info, 0, "a");
    float* b = floatData(info, 1, "b");
    float* y = floatData(info, 2, "y");
    auto& s = cpuStream();
    if (ba == 1 && bb > 1) {
      // a shared left matrix: one 2-D product per batch entry
      auto e = entry(1, 1, m, k, n, ta, tb);
      for (int64_t i = 0; i < bb; ++i) e->run(a, b + i * k * n, y + i * m * n);
    } else if (bb == 1 && ba > 1 && !ta) {
      // a shared right matrix: fold the batch into the rows
      entry(1, 1, ba * m, k, n, false, tb)->run(a, b, y);
    } else {
      entry(ba, bb, m, k, n, ta, tb)->run(a, b, y);
    }
    s.wait();
    return info.Env().Undefined();
  });
}

}  // namespace

void clearMatmulCache() { cache.clear(); }
size_t matmulCacheSize() { return cache.size(); }

void initMatmul(Napi::Env env, Napi::Object exports) { exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul)); }

}  // namespace mrcl
