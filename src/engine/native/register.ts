// Puts the native kernels in place of the TF.js cpu backend's own (keeping
// the originals through tf.getKernel, so they can be restored and used as
// the fallback for inputs the native code does not take). Everything else
// in the engine stays unchanged: ops, gradients and tidy() all go through
// the kernel registry.
import { tf } from '../backend';
import { loadAddon, nativeMode, type NativeAddon, type NativeMode, type Precision } from './addon';
import { precisionProblem } from './precision';
import { defaultThreads } from './threads';
import type { NativeKernelFunc } from './kernels/cpu-data';
import { conv3dKernels } from './kernels/conv3d';
import { disableOutputPool, enableOutputPool } from './kernels/output-pool';
import { layoutKernels } from './kernels/layout';
import { segmentKernels } from './kernels/segments';
import { elementwiseKernels } from './kernels/elementwise';
import { matmulKernels } from './kernels/matmul';
import { pool3dKernels } from './kernels/pool3d';
import { ADAMW_KERNEL, adamwKernel } from './fused-adamw';
import { paddedConv3dKernels, registerPaddedConv3dGradient } from './padded-conv3d';
import { SCALE_SHIFT, registerScaleShiftGradient, scaleShiftKernel } from './scale-shift';
import { batchNormTrainKernels, registerBatchNormTrainGradient } from './batch-norm-train';
import { DROPOUT_KERNEL, nativeDropoutKernel, registerDropout } from './dropout';
import { TRANSFORMER_FUNCTIONS, registerTransformerGradients, transformerKernels } from './transformer';

export interface NativeStatus {
  /** true when native kernels are registered over the cpu backend */
  active: boolean;
  /** e.g. "oneDNN 2.6.3 (omp), 2 threads", or why the pure-JS kernels are used */
  detail: string;
  /** kernel names now served natively */
  kernels: string[];
  threads: number;
  onednn: string | null;
  /** arithmetic of the native convolutions and matrix products */
  precision: Precision;
}

export interface EnableNativeOptions {
  /** threads for the native kernels (default: MRCL_THREADS, else cores ÷ workers) */
  threads?: number;
  /** training processes sharing this machine (default 1) */
  workers?: number;
  /** default: MRCL_NATIVE ('auto') */
  mode?: NativeMode;
  /** default 'fp32'; 'bf16' throws where it cannot run (precision.ts) */
  precision?: Precision;
}

const BACKEND = 'cpu';
const originals = new Map<string, tf.KernelConfig>();
const added = new Set<string>();
/** the addon whose kernels are registered (its precision is reset to fp32 when they are removed) */
let registeredAddon: NativeAddon | null = null;
let status: NativeStatus = { active: false, detail: 'native kernels not enabled', kernels: [], threads: 1, onednn: null, precision: 'fp32' };

/** calls per kernel, and how many of them fell back to the JS kernel (for tests and profiling) */
const counts = new Map<string, { calls: number; fallbacks: number }>();

function count(name: string): { calls: number; fallbacks: number } {
  let c = counts.get(name);
  if (!c) counts.set(name, (c = { calls: 0, fallbacks: 0 }));
  return c;
}

function original(name: string): NativeKernelFunc {
  const k = originals.get(name) ?? tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`native kernels: no cpu kernel "${name}" to fall back to`);
  count(name).fallbacks++;
  return k.kernelFunc as unknown as NativeKernelFunc;
}

/** How often each native kernel ran natively since the last reset (fallbacks to JS not counted). */
export function nativeKernelCalls(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, c] of counts) if (c.calls - c.fallbacks > 0) out[name] = c.calls - c.fallbacks;
  return out;
}

export function resetNativeKernelCalls(): void {
  counts.clear();
}

/** Kernel groups, each with the addon functions it needs (an older build may lack some). */
function allKernels(addon: NativeAddon): Record<string, NativeKernelFunc> {
  const groups: Array<[Array<keyof NativeAddon>, (a: NativeAddon, o: typeof original) => Record<string, NativeKernelFunc>]> = [
    [['conv3dForward', 'conv3dBackwardData', 'conv3dBackwardWeights'], conv3dKernels],
    [['pad', 'slice'], layoutKernels],
    [['transpose', 'unsortedSegmentSum'], segmentKernels],
    [['binary', 'unary', 'reduce', 'softmax'], elementwiseKernels],
    [['batchMatMul'], matmulKernels],
    [['pool3d', 'pool3dGrad'], pool3dKernels],
    [['adamw'], (a) => ({ [ADAMW_KERNEL]: adamwKernel(a) })],
    [['conv3dForward', 'conv3dBackwardData', 'conv3dBackwardWeights'], paddedConv3dKernels],
    [['scaleShift'], (a) => ({ [SCALE_SHIFT]: scaleShiftKernel(a) })],
    [['batchNormTrain', 'batchNormTrainGrad'], batchNormTrainKernels],
    [['dropout'], (a) => ({ [DROPOUT_KERNEL]: nativeDropoutKernel(a) })],
    [[...TRANSFORMER_FUNCTIONS], transformerKernels],
  ];
  const out: Record<string, NativeKernelFunc> = {};
  for (const [needs, make] of groups) {
    if (needs.every((n) => typeof addon[n] === 'function')) Object.assign(out, make(addon, original));
  }
  return out;
}

/**
 * Registers the native kernels over the cpu backend's (idempotent; a second
 * call only updates the thread count). Never throws in mode 'auto': without
 * the addon, the status says the pure-JS kernels are in use and why.
 */
export function enableNativeKernels(options: EnableNativeOptions = {}): NativeStatus {
  const mode = options.mode ?? nativeMode();
  const load = loadAddon(mode);
  if (!load.addon) {
    disableNativeKernels();
    status = { active: false, detail: `pure-JS kernels: ${load.detail}`, kernels: [], threads: 1, onednn: null, precision: 'fp32' };
    const problem = precisionProblem(options.precision ?? 'fp32', { backend: 'cpu', native: false, nativeDetail: status.detail });
    if (problem) throw new Error(problem);
    return status;
  }
  const addon = load.addon;
  const threads = options.threads ?? defaultThreads(options.workers ?? 1);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`native kernels: threads must be a positive integer, got ${threads}`);
  const precision = options.precision ?? 'fp32';
  const v = addon.version();
  const problem = precisionProblem(precision, { backend: 'cpu', native: true, nativeDetail: '', bf16: v.bf16, isa: v.isa });
  if (problem) throw new Error(problem);
  addon.setPrecision?.(precision);
  registeredAddon = addon;
  addon.setNumThreads(threads);
  if (!status.active) {
    registerPaddedConv3dGradient();
    registerScaleShiftGradient();
    registerBatchNormTrainGradient();
    registerTransformerGradients();
    // the JavaScript dropout kernel first, so the native one replaces it and disabling restores it
    registerDropout();
    for (const [name, kernelFunc] of Object.entries(allKernels(addon))) {
      const counted: NativeKernelFunc = (args) => {
        count(name).calls++;
        return kernelFunc(args);
      };
      const orig = tf.getKernel(name, BACKEND);
      if (orig) {
        originals.set(name, orig);
        tf.unregisterKernel(name, BACKEND);
        tf.registerKernel({ ...orig, kernelFunc: counted as unknown as tf.KernelFunc });
      } else {
        // a fused kernel TF.js does not have
        added.add(name);
        tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: counted as unknown as tf.KernelFunc });
      }
    }
  }
  // MRCL_OUTPUT_POOL=0 allocates every output afresh (for comparison); MRCL_OUTPUT_POOL_MB and MRCL_OUTPUT_POOL_ARRAYS set its limit and how many of the largest outputs it makes room for
  const backend = tf.findBackend(BACKEND);
  const poolMb = Number(process.env.MRCL_OUTPUT_POOL_MB);
  const poolArrays = Number(process.env.MRCL_OUTPUT_POOL_ARRAYS);
  if (backend && process.env.MRCL_OUTPUT_POOL !== '0') {
    enableOutputPool(backend, Number.isFinite(poolMb) && poolMb >= 0 ? poolMb * 1024 * 1024 : undefined, undefined, addon.freeArray?.bind(addon), Number.isFinite(poolArrays) && poolArrays > 0 ? poolArrays : undefined);
  } else disableOutputPool();
  const kernels = [...originals.keys(), ...added].sort();
  const bf16 = precision === 'bf16' ? `, bf16 convolutions and matrix products (${v.isa})` : '';
  status = { active: true, detail: `native kernels: oneDNN ${v.onednn} (${v.cpuRuntime}), ${threads} thread${threads === 1 ? '' : 's'}${bf16}`, kernels, threads, onednn: v.onednn, precision };
  return status;
}

/** Restores the cpu backend's own kernels. */
export function disableNativeKernels(): void {
  registeredAddon?.setPrecision?.('fp32');
  registeredAddon = null;
  disableOutputPool();
  for (const [name, orig] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(orig);
  }
  originals.clear();
  for (const name of added) tf.unregisterKernel(name, BACKEND);
  added.clear();
  if (status.active) status = { active: false, detail: 'pure-JS kernels: native kernels disabled', kernels: [], threads: 1, onednn: null, precision: 'fp32' };
}

export function nativeStatus(): NativeStatus {
  return status;
}
