// Finds and loads the optional oneDNN addon (native/, built by
// scripts/build-native.mjs at install time when oneDNN is present).
// MRCL_NATIVE=0 turns it off; MRCL_NATIVE=1 makes a missing addon an error
// (CI uses it so that the native path cannot silently go untested);
// MRCL_NATIVE_ADDON names a .node file to load instead of the built one.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

type F32 = Float32Array;
export type Precision = 'fp32' | 'bf16';
type Shape = number[];

/** The functions the compiled addon exports (native/src/*.cc). */
export interface NativeAddon {
  /** bf16: whether the CPU has AVX512-BF16 or AMX (an older build lacks bf16 and precision) */
  version(): { onednn: string; cpuRuntime: string; isa: string; mallocTuned: boolean; bf16?: boolean; precision?: Precision };
  /** the arithmetic of convolutions and matrix products from now on; throws for bf16 where the CPU lacks it */
  setPrecision?(mode: Precision): void;
  /** {op: oneDNN implementation}, e.g. {"conv3d.fwd.bf16": "brgconv:avx512_core_amx_bf16"} */
  implementations?(): Record<string, string>;
  /** detaches the buffer, freeing its memory now; false where it cannot (an older build lacks it) */
  freeArray?(buffer: ArrayBufferLike): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  clearCaches(): void;
  cachedPrimitives(): number;
  conv3dForward(x: F32, xShape: Shape, w: F32, wShape: Shape, y: F32, yShape: Shape, strides: Shape, padFront: Shape, padBack: Shape, dilations: Shape): void;
  conv3dBackwardData(dx: F32, xShape: Shape, w: F32, wShape: Shape, dy: F32, yShape: Shape, strides: Shape, padFront: Shape, padBack: Shape, dilations: Shape): void;
  conv3dBackwardWeights(x: F32, xShape: Shape, dw: F32, wShape: Shape, dy: F32, yShape: Shape, strides: Shape, padFront: Shape, padBack: Shape, dilations: Shape): void;
  pad(x: F32, xShape: Shape, y: F32, yShape: Shape, before: Shape, value: number): void;
  slice(x: F32, xShape: Shape, y: F32, yShape: Shape, begin: Shape): void;
  transpose(x: F32, xShape: Shape, perm: Shape, y: F32): void;
  unsortedSegmentSum(x: F32, rows: number, inner: number, ids: Int32Array, numSegments: number, y: F32): void;
  binary(op: number, a: F32, aShape: Shape, b: F32, bShape: Shape, y: F32, yShape: Shape): void;
  unary(op: number, x: F32, y: F32, alpha: number): void;
  /** false when the axes cannot be reduced in place (the caller falls back) */
  reduce(op: number, x: F32, xShape: Shape, axes: Shape, y: F32): boolean;
  batchMatMul(a: F32, b: F32, y: F32, batchA: number, batchB: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): void;
  pool3d(x: F32, xShape: Shape, y: F32, yShape: Shape, filter: Shape, strides: Shape, padFront: Shape, dilations: Shape, isMax: boolean): void;
  adamw(p: F32, g: F32, m: F32, v: F32, pOut: F32, mOut: F32, vOut: F32, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2Sqrt: number): void;
  softmax(x: F32, cols: number, y: F32): void;
  scaleShift(x: F32, scale: F32, shift: F32, y: F32, relu: boolean): void;
  /** `residual` (x's size), when given, is added before the ReLU: a residual block's end (fused.cc) */
  batchNormTrain(x: F32, gamma: F32, beta: F32, eps: number, y: F32, mean: F32, variance: F32, relu: boolean, residual?: F32): void;
  /** true where batchNormTrain takes `residual` and batchNormTrainGrad `dresidual` (an older build ignores them) */
  batchNormTrainResidual?: boolean;
  /** `dresidual`, when given, receives the residual's gradient (dy gated by the ReLU) */
  batchNormTrainGrad(x: F32, dy: F32, y: F32, mean: F32, variance: F32, gamma: F32, eps: number, relu: boolean, dx: F32, dgamma: F32, dbeta: F32, dresidual?: F32): void;
  /** y = x·scale where murmur3_32(i, seed) >> 8 ≥ threshold, else x·0 (dropout.ts) */
  dropout(x: F32, y: F32, seed: number, threshold: number, scale: number): void;
  /** layer norm over the last axis (gamma's length): y, and per row mean and 1/√(variance + ε) (transformer.cc) */
  layerNorm?(x: F32, gamma: F32, beta: F32, eps: number, y: F32, mean: F32, rstd: F32): void;
  layerNormGrad?(x: F32, dy: F32, mean: F32, rstd: F32, gamma: F32, dx: F32, dgamma: F32, dbeta: F32): void;
  /** exact (erf) GELU and its gradient */
  gelu?(x: F32, y: F32): void;
  geluGrad?(x: F32, dy: F32, dx: F32): void;
  /** dx = y·(dy − Σ dy·y) per row of `cols` */
  softmaxGrad?(y: F32, dy: F32, cols: number, dx: F32): void;
  pool3dGrad(dy: F32, yShape: Shape, x: F32, xShape: Shape, dx: F32, filter: Shape, strides: Shape, padFront: Shape, dilations: Shape, isMax: boolean): void;
}

export type NativeMode = 'auto' | 'off' | 'required';

export interface AddonLoad {
  addon: NativeAddon | null;
  /** where it was loaded from, or why not */
  detail: string;
  path: string | null;
}

export const ADDON_RELATIVE_PATH = join('native', 'build', 'Release', 'mrcl_native.node');

/** MRCL_NATIVE: unset/auto → 'auto', 0/off/false → 'off', 1/on/true/required → 'required'. */
export function nativeMode(value = process.env.MRCL_NATIVE): NativeMode {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === '0' || v === 'off' || v === 'false' || v === 'no') return 'off';
  if (v === '1' || v === 'on' || v === 'true' || v === 'yes' || v === 'required') return 'required';
  throw new Error(`MRCL_NATIVE: unknown value "${value}" (expected 0, 1 or auto)`);
}

/** The built addon, searched upwards from this file (works from src/ under tsx and from the dist/ bundle). */
export function findAddon(start = __dirname): string | null {
  const explicit = process.env.MRCL_NATIVE_ADDON;
  if (explicit) return resolve(explicit);
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

let cached: AddonLoad | undefined;

/** Loads the addon once per process; never throws in mode 'auto'. */
export function loadAddon(mode: NativeMode = nativeMode()): AddonLoad {
  if (mode === 'off') return { addon: null, path: null, detail: 'disabled by MRCL_NATIVE=0' };
  if (!cached) {
    const path = findAddon();
    if (!path) {
      cached = { addon: null, path: null, detail: `native addon not built (no ${ADDON_RELATIVE_PATH}; run npm run build:native with oneDNN installed)` };
    } else {
      try {
        // Idle OpenMP threads sleep instead of spinning (read once, when
        // libgomp loads with the addon): on a busy machine spinning threads
        // take the cores the working ones need, and a parallel region then
        // waits a whole scheduler slice. OMP_WAIT_POLICY=active restores it.
        process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
        // Loaded at run time on purpose: the addon is optional.
        const addon = require(path) as NativeAddon;
        if (typeof addon.conv3dForward !== 'function') throw new Error('it exports no conv3dForward');
        cached = { addon, path, detail: `loaded ${path}` };
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        cached = { addon: null, path, detail: `native addon ${path} did not load: ${msg}` };
      }
    }
  }
  if (mode === 'required' && !cached.addon) throw new Error(`MRCL_NATIVE=1 but ${cached.detail}`);
  return cached;
}
