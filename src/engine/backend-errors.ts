// Turns a failed load of @tensorflow/tfjs-node(-gpu) into one line that names
// what is missing. Both packages bind libtensorflow 2.9.1 (tfjs 4.22): the
// CPU package needs only libtensorflow, downloaded by its install script; the
// GPU package's libtensorflow is linked against CUDA 11.2 and cuDNN 8.1
// (sonames libcudart.so.11.0, libcublas.so.11, libcudnn.so.8, …) and an
// NVIDIA driver (libcuda.so.1). The raw loader message is kept after the
// explanation, so nothing is lost.

const GPU_NEEDS = 'tfjs-node-gpu needs CUDA 11.2 + cuDNN 8.1 (libtensorflow 2.9.1)';

interface Rule {
  test: RegExp;
  explain: (m: RegExpMatchArray, pkg: string) => string;
}

const RULES: readonly Rule[] = [
  {
    test: /Cannot find module '(@tensorflow\/tfjs-node(?:-gpu)?)'/,
    explain: (m) => `${m[1]} is not installed (an optional dependency; its install downloads libtensorflow, which needs network access to storage.googleapis.com)`,
  },
  {
    test: /tfjs_binding\.node\)? can ?not be found|Cannot find module '[^']*tfjs_binding\.node'/,
    explain: (_m, pkg) => `${pkg}'s native addon (tfjs_binding.node) was not built: its install script failed; run "npm rebuild ${pkg} --build-addon-from-source" where libtensorflow can be downloaded`,
  },
  {
    test: /(libcudnn\.so\.(\d+))[^:]*: cannot open shared object file/,
    explain: (m) => `cuDNN ${m[2]} not found (${m[1]}): ${GPU_NEEDS}`,
  },
  {
    test: /(lib(?:cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse)\.so\.[\d.]+)[^:]*: cannot open shared object file/,
    explain: (m) => `CUDA 11 runtime library not found (${m[1]}): ${GPU_NEEDS}`,
  },
  {
    test: /(libcuda\.so\.1)[^:]*: cannot open shared object file/,
    explain: (m) => `NVIDIA driver not found (${m[1]}): ${GPU_NEEDS}, and a GPU with its driver`,
  },
  {
    test: /(libtensorflow(?:_framework)?\.so\.[\d.]+)[^:]*: cannot open shared object file/,
    explain: (m, pkg) => `libtensorflow not found (${m[1]}): ${pkg}'s install did not download it; reinstall ${pkg} where storage.googleapis.com is reachable`,
  },
  {
    test: /version [`'](GLIBC(?:XX)?_[\d.]+)' not found/,
    explain: (m, pkg) => `this system's C library is too old for ${pkg}'s libtensorflow (it needs ${m[1]})`,
  },
  {
    test: /undefined symbol: (\S+)/,
    explain: (m, pkg) => `${pkg}'s native addon does not match its libtensorflow (undefined symbol ${m[1]}); reinstall ${pkg}`,
  },
  {
    test: /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/,
    explain: (m, pkg) => `${pkg}'s native addon was built for another Node.js (module version ${m[1]}, this Node.js needs ${m[2]}); run "npm rebuild ${pkg}"`,
  },
];

/**
 * One line for a failed `require(pkg)` of a native TF.js package: what is
 * missing and what the package needs, then the loader's own first line.
 */
export function explainLoadError(pkg: string, message: string): string {
  const first = message.split('\n')[0]!.trim();
  for (const r of RULES) {
    const m = message.match(r.test);
    if (m) {
      const why = r.explain(m, pkg);
      return why.includes(first) ? why : `${why} [${first}]`;
    }
  }
  return `${pkg} did not load: ${first}`;
}
