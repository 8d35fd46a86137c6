// Chooses the TF.js backend: tensorflow (libtensorflow, GPU then CPU) when
// its package loads, else the pure-JS cpu backend. Forced by config or by
// MRCL_BACKEND. wasm is refused for training: its Conv3D input gradient is
// wrong in tfjs 4.22.
import * as tf from '@tensorflow/tfjs';
import { enableNativeKernels, type NativeStatus } from './native/register';
import { loadAddon } from './native/addon';
import { explainLoadError } from './backend-errors';
import { precisionProblem, type Precision } from './native/precision';
import { setTapeEarlyFree } from './util/tape-memory';

export { tf };

export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'cpu' | 'wasm';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'cpu', 'wasm'];

export interface BackendInfo {
  /** the tf backend name now active ('tensorflow', 'cpu', 'wasm') */
  name: string;
  /** which package provided it */
  provider: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node' | '@tensorflow/tfjs' | '@tensorflow/tfjs-backend-wasm';
  /** human-readable reasons the preferred candidates did not load */
  skipped: string[];
  /** for 'cpu': whether native (oneDNN) kernels serve the heavy ops */
  native?: NativeStatus;
}

export interface BackendProbe {
  preference: Exclude<BackendPreference, 'auto'>;
  available: boolean;
  detail: string;
}

const NODE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

let current: BackendInfo | undefined;

function tryRequire(name: string): { ok: true } | { ok: false; reason: string } {
  try {
    // Loaded at run time on purpose: the packages are optional.
    require(name);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: explainLoadError(name, e instanceof Error ? e.message : String(e)) };
  }
}

function parsePreference(value: string, source: string): BackendPreference {
  if ((BACKEND_PREFERENCES as readonly string[]).includes(value)) return value as BackendPreference;
  throw new Error(`${source}: unknown backend "${value}" (expected one of ${BACKEND_PREFERENCES.join(', ')})`);
}

/** Which backends could be loaded here, without switching to any of them. */
export function probeBackends(): BackendProbe[] {
  const out: BackendProbe[] = [];
  for (const pref of ['tensorflow-gpu', 'tensorflow'] as const) {
    const r = tryRequire(NODE_PACKAGES[pref]);
    out.push({ preference: pref, available: r.ok, detail: r.ok ? `${NODE_PACKAGES[pref]} loads` : r.reason });
  }
  out.push({ preference: 'cpu', available: true, detail: 'pure-JS @tensorflow/tfjs cpu backend (always available)' });
  const w = tryRequire('@tensorflow/tfjs-backend-wasm');
  out.push({
    preference: 'wasm',
    available: w.ok,
    detail: w.ok ? 'loads (inference only: its Conv3D input gradient is wrong in tfjs 4.22)' : w.reason,
  });
  return out;
}

export interface SetBackendOptions {
  /** true when the caller will train: wasm is then refused */
  training?: boolean;
  /** training processes sharing this machine: native kernels get cores ÷ workers threads */
  workers?: number;
  /** config.precision (default 'fp32'); 'bf16' is refused, with the reason, where it cannot run */
  precision?: Precision;
}

/**
 * Activates a backend. `preference` defaults to $MRCL_BACKEND, then 'auto'.
 * An explicit preference that cannot load is an error, never a silent fallback.
 */
export async function setBackend(preference?: BackendPreference | string, options: SetBackendOptions = {}): Promise<BackendInfo> {
  const pref =
    preference !== undefined
      ? parsePreference(String(preference), 'backend')
      : process.env.MRCL_BACKEND
        ? parsePreference(process.env.MRCL_BACKEND, 'MRCL_BACKEND')
        : 'auto';
  const skipped: string[] = [];

  if (pref === 'wasm') {
    if (options.training) {
      throw new Error('backend "wasm" cannot be used for training: its Conv3D input gradient is wrong in tfjs 4.22; use "cpu" or "tensorflow"');
    }
    refusePrecision(options.precision, 'wasm');
    const r = tryRequire('@tensorflow/tfjs-backend-wasm');
    if (!r.ok) throw new Error(`backend "wasm" requested but ${r.reason}`);
    await activate('wasm');
    return (current = { name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', skipped });
  }

  const candidates: Array<'tensorflow-gpu' | 'tensorflow'> =
    pref === 'auto' ? ['tensorflow-gpu', 'tensorflow'] : pref === 'cpu' ? [] : [pref];
  for (const c of candidates) {
    const r = tryRequire(NODE_PACKAGES[c]);
    if (r.ok && tf.findBackend('tensorflow')) {
      refusePrecision(options.precision, `tensorflow (${NODE_PACKAGES[c]})`);
      await activate('tensorflow');
      return (current = { name: 'tensorflow', provider: NODE_PACKAGES[c], skipped });
    }
    const reason = r.ok ? `${NODE_PACKAGES[c]} loaded but registered no "tensorflow" backend` : r.reason;
    if (pref !== 'auto') throw new Error(`backend "${pref}" requested but ${reason}`);
    skipped.push(reason);
  }
  await activate('cpu');
  const native = enableNativeKernels({ workers: options.workers, precision: options.precision });
  return (current = { name: 'cpu', provider: '@tensorflow/tfjs', skipped, native });
}

function refusePrecision(precision: Precision | undefined, backend: string): void {
  const problem = precisionProblem(precision ?? 'fp32', { backend, native: false, nativeDetail: '' });
  if (problem) throw new Error(problem);
}

async function activate(name: string): Promise<void> {
  // PROD silences tfjs's console advert for tfjs-node on the cpu backend
  // (this module already reports which backend is used and why).
  tf.env().set('PROD', true);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend("${name}") failed`);
  await tf.ready();
  setTapeEarlyFree();
}

/** The backend chosen by the last setBackend() call, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** Whether `precision: "bf16"` can run on the backend `info` describes, and what runs it or why not. */
export function bf16Support(info: BackendInfo): { available: boolean; detail: string } {
  const native = info.native?.active === true;
  const v = native ? loadAddon().addon?.version() : undefined;
  const problem = precisionProblem('bf16', { backend: info.name, native, nativeDetail: info.native?.detail ?? 'no native kernels on this backend', bf16: v?.bf16, isa: v?.isa });
  return problem ? { available: false, detail: problem } : { available: true, detail: `bf16 convolutions and matrix products on oneDNN ${v!.isa}` };
}

/** One line for logs and the status bar. */
export function describeBackend(info: BackendInfo): string {
  const base = `${info.name} (${info.provider})${info.native ? `, ${info.native.detail}` : ''}`;
  return info.skipped.length ? `${base}; skipped: ${info.skipped.join('; ')}` : base;
}
