// Entry point of the mrcl_native addon: oneDNN-backed kernels that the
// engine registers over the TF.js cpu backend (src/engine/native).
#include "common.h"

#include <omp.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <sstream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mrcl {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

namespace {
Precision currentPrecision = Precision::fp32;
std::map<std::string, std::string> implementationsSeen;
}  // namespace

Precision precision() { return currentPrecision; }

bool bf16Supported() {
  // oneDNN's ISA values are masks, each holding the bits of those below it:
  // avx512_core_amx includes avx512_core_bf16, avx2_vnni does not.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto need = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & need) == need;
}

dnnl::memory inputAs(const dnnl::memory::desc& userDesc, float* data, const dnnl::memory::desc& primDesc) {
  auto& eng = cpuEngine();
  dnnl::memory user(userDesc, eng, data);
  if (primDesc == userDesc) return user;
  dnnl::memory copy(primDesc, eng);
  dnnl::reorder(user, copy).execute(cpuStream(), user, copy);
  return copy;
}

OutputAs::OutputAs(const dnnl::memory::desc& userDesc, float* data, const dnnl::memory::desc& primDesc)
    : user_(userDesc, cpuEngine(), data), scratch_(!(primDesc == userDesc)) {
  prim_ = scratch_ ? dnnl::memory(primDesc, cpuEngine()) : user_;
}

void OutputAs::finish() {
  if (scratch_) dnnl::reorder(prim_, user_).execute(cpuStream(), prim_, user_);
}

void noteImplementation(const std::string& op, const std::string& impl) { implementationsSeen[op] = impl; }

float* floatData(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>().Data();
}

size_t floatLength(const Napi::CallbackInfo& info, size_t index) {
  return info[index].As<Napi::Float32Array>().ElementLength();
}

std::vector<int64_t> intArray(const Napi::CallbackInfo& info, size_t index, const char* what, size_t expected) {
  Napi::Value v = info[index];
  if (!v.IsArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  if (expected != 0 && a.Length() != expected) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must have " + std::to_string(expected) + " elements");
  }
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an array of integers");
    out[i] = e.As<Napi::Number>().Int64Value();
  }
  return out;
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

void checkLength(const Napi::CallbackInfo& info, size_t index, size_t expected, const char* what) {
  floatData(info, index, what);  // the type first: a wrong array type is the clearer message
  size_t n = floatLength(info, index);
  if (n != expected) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " has " + std::to_string(n) + " elements, expected " + std::to_string(expected));
  }
}

std::string keyOf(const char* op, std::initializer_list<const std::vector<int64_t>*> parts, int64_t extra) {
  std::ostringstream s;
  s << op;
  for (const auto* p : parts) {
    s << '|';
    for (int64_t x : *p) s << x << ',';
  }
  s << '|' << extra;
  return s.str();
}

namespace {

bool mallocTuned = false;

std::string isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "isa " + std::to_string(int(isa));
  }
}

/**
 * Without the output pool (MRCL_OUTPUT_POOL=0, src/engine/native/kernels/
 * output-pool.ts) every TF.js op allocates a fresh output array. glibc
 * serves large blocks with mmap and returns them on free, so each output
 * pays a page fault per 4 KiB on first write: on some VMs that costs more
 * than the op itself. Keeping large blocks in the heap lets freed outputs be
 * reused. With the pool (the default) the outputs are reused by the pool,
 * and a heap that never returns memory grew the peak RSS of some runs by
 * 0.2–1.2 GB (fragmentation), so malloc is left alone; MRCL_NATIVE_MALLOC=0
 * leaves it alone in either case.
 */
void tuneMalloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("MRCL_NATIVE_MALLOC");
  if (env && std::string(env) == "0") return;
  const char* pool = std::getenv("MRCL_OUTPUT_POOL");
  if (!pool || std::string(pool) != "0") return;
  mallocTuned = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
#endif
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "tbb" : "other");
  o.Set("isa", isaName(dnnl::get_effective_cpu_isa()));
  o.Set("mallocTuned", mallocTuned);
  o.Set("bf16", bf16Supported());
  o.Set("precision", currentPrecision == Precision::bf16 ? "bf16" : "fp32");
  return o;
}

// setPrecision("fp32" | "bf16"): the arithmetic of convolutions and matrix
// products from now on (common.h). bf16 is refused where the CPU lacks it.
Napi::Value SetPrecision(const Napi::CallbackInfo& info) {
  const std::string mode = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Precision next;
  if (mode == "fp32") {
    next = Precision::fp32;
  } else if (mode == "bf16") {
    if (!bf16Supported()) {
      throw Napi::Error::New(info.Env(), "setPrecision: bf16 needs a CPU with AVX512-BF16 or AMX (oneDNN ISA avx512_core_bf16 or avx512_core_amx); this CPU's is " +
                                             isaName(dnnl::get_effective_cpu_isa()));
    }
    next = Precision::bf16;
  } else {
    throw Napi::TypeError::New(info.Env(), "setPrecision(mode): mode must be \"fp32\" or \"bf16\"");
  }
  if (next != currentPrecision) {
    clearConvCache();
    clearMatmulCache();
    currentPrecision = next;
  }
  return info.Env().Undefined();
}

/** {op: oneDNN implementation} for every primitive kind created so far, e.g. {"conv3d.fwd.bf16": "brg:avx512_core_amx"}. */
Napi::Value Implementations(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  for (const auto& [op, impl] : implementationsSeen) o.Set(op, impl);
  return o;
}

/** Starts the OpenMP threads with asynchronous signals blocked (see SignalBlock): they keep that mask. */
void spawnThreads() {
  SignalBlock block;
#pragma omp parallel
  {
  }
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "setNumThreads(n): n must be a number");
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads(n): n must be at least 1");
  omp_set_num_threads(n);
  spawnThreads();
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

Napi::Value ClearCaches(const Napi::CallbackInfo& info) {
  clearConvCache();
  clearMatmulCache();
  return info.Env().Undefined();
}

Napi::Value CachedPrimitives(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(convCacheSize() + matmulCacheSize()));
}

// freeArray(buffer): detaches an ArrayBuffer, so that its memory goes back to
// malloc now instead of at V8's next collection. Only for arrays nothing can
// still read (the output pool's, src/engine/native/kernels/output-pool.ts):
// every view of a detached buffer has length 0. False where V8 refuses to
// detach it (a WebAssembly memory, an already detached buffer).
Napi::Value FreeArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) return Napi::Boolean::New(env, false);
  Napi::ArrayBuffer b = info[0].As<Napi::ArrayBuffer>();
  if (b.IsDetached()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, napi_detach_arraybuffer(env, b) == napi_ok);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  spawnThreads();
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("clearCaches", Napi::Function::New(env, ClearCaches));
  exports.Set("cachedPrimitives", Napi::Function::New(env, CachedPrimitives));
  exports.Set("setPrecision", Napi::Function::New(env, SetPrecision));
  exports.Set("implementations", Napi::Function::New(env, Implementations));
  exports.Set("freeArray", Napi::Function::New(env, FreeArray));
  initConv3d(env, exports);
  initPool3d(env, exports);
  initMatmul(env, exports);
  initElementwise(env, exports);
  initLayout(env, exports);
  initReduce(env, exports);
  initFused(env, exports);
  initTransformer(env, exports);
  return exports;
}

}  // namespace
}  // namespace mrcl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return mrcl::Init(env, exports); }

NODE_API_MODULE(mrcl_native, InitModule)
