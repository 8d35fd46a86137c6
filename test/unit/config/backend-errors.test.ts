import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainLoadError } from '../../../src/engine/backend-errors';

const GPU = '@tensorflow/tfjs-node-gpu';
const CPU = '@tensorflow/tfjs-node';
const BINDING = '/app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node';

// The loader's messages as Node.js and the tfjs-node packages print them.
const CASES: Array<{ pkg: string; message: string; want: RegExp }> = [
  {
    pkg: GPU,
    message: `Cannot find module '${GPU}'\nRequire stack:\n- /app/dist/cli.js`,
    want: /^@tensorflow\/tfjs-node-gpu is not installed \(an optional dependency; its install downloads libtensorflow/,
  },
  {
    pkg: GPU,
    message: `libcudnn.so.8: cannot open shared object file: No such file or directory`,
    want: /^cuDNN 8 not found \(libcudnn\.so\.8\): tfjs-node-gpu needs CUDA 11\.2 \+ cuDNN 8\.1 \(libtensorflow 2\.9\.1\) \[libcudnn\.so\.8: cannot open/,
  },
  {
    pkg: GPU,
    message: `${BINDING}: libcudart.so.11.0: cannot open shared object file: No such file or directory`,
    want: /^CUDA 11 runtime library not found \(libcudart\.so\.11\.0\): tfjs-node-gpu needs CUDA 11\.2 \+ cuDNN 8\.1/,
  },
  {
    pkg: GPU,
    message: `libcublasLt.so.11: cannot open shared object file: No such file or directory`,
    want: /^CUDA 11 runtime library not found \(libcublasLt\.so\.11\)/,
  },
  {
    pkg: GPU,
    message: `libcuda.so.1: cannot open shared object file: No such file or directory`,
    want: /^NVIDIA driver not found \(libcuda\.so\.1\): tfjs-node-gpu needs CUDA 11\.2 \+ cuDNN 8\.1/,
  },
  {
    pkg: CPU,
    message: `${BINDING}: libtensorflow.so.2: cannot open shared object file: No such file or directory`,
    want: /^libtensorflow not found \(libtensorflow\.so\.2\): @tensorflow\/tfjs-node's install did not download it; reinstall @tensorflow\/tfjs-node where storage\.googleapis\.com is reachable/,
  },
  {
    pkg: CPU,
    message: `The Node.js native addon module (tfjs_binding.node) can not be found at path: ${BINDING}. \nPlease run command 'npm rebuild @tensorflow/tfjs-node build-addon-from-source' to rebuild the native addon module.`,
    want: /^@tensorflow\/tfjs-node's native addon \(tfjs_binding\.node\) was not built: its install script failed; run "npm rebuild @tensorflow\/tfjs-node --build-addon-from-source"/,
  },
  {
    pkg: CPU,
    message: `/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.27' not found (required by ${BINDING})`,
    want: /^this system's C library is too old for @tensorflow\/tfjs-node's libtensorflow \(it needs GLIBC_2\.27\)/,
  },
  {
    pkg: CPU,
    message: `${BINDING}: undefined symbol: TF_NewStatus`,
    want: /^@tensorflow\/tfjs-node's native addon does not match its libtensorflow \(undefined symbol TF_NewStatus\)/,
  },
  {
    pkg: CPU,
    message: `The module '${BINDING}'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 93. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling`,
    want: /^@tensorflow\/tfjs-node's native addon was built for another Node\.js \(module version 93, this Node\.js needs 115\); run "npm rebuild @tensorflow\/tfjs-node"/,
  },
];

for (const c of CASES) {
  test(`load error → one line: ${c.message.split('\n')[0]!.slice(0, 70)}`, () => {
    const line = explainLoadError(c.pkg, c.message);
    assert.match(line, c.want);
    assert.ok(!line.includes('\n'), `"${line}" is one line`);
  });
}

test('an unrecognised load error keeps the package and the loader\'s first line', () => {
  assert.equal(explainLoadError(GPU, 'Segmentation fault in something\nmore'), `${GPU} did not load: Segmentation fault in something`);
});

test('a missing transitive dependency is not mistaken for the package itself', () => {
  const line = explainLoadError(CPU, `Cannot find module '@mapbox/node-pre-gyp'\nRequire stack:`);
  assert.equal(line, `${CPU} did not load: Cannot find module '@mapbox/node-pre-gyp'`);
});
