// TF.js side of `npm run bench`: builds one case and times it on command.
// Protocol (shared with torch_worker.py): one JSON command per stdin line,
// one JSON answer per stdout line prefixed with "@@bench " (TF.js prints
// its own banner on stdout). Run by scripts/bench.mjs through tsx.
import { createInterface } from 'node:readline';
import { tf, setBackend, describeBackend } from '../../src/engine/backend';
import { enableNativeKernels, nativeStatus } from '../../src/engine/native/register';
import { resnet3d18 } from '../../src/engine/networks/resnet3d';
import { Conv3d } from '../../src/engine/networks/layers/conv3d';
import { conv3dPadded } from '../../src/engine/native/padded-conv3d';
import { setupTrainingCase, type TrainingCase } from './training-cases';
import { trackLiveArrays } from '../../src/engine/util/live-arrays';
import { SYNTH_ENV, synthesizeRequested } from './loop-case';

interface Setup {
  cmd: 'setup';
  case: 'conv' | 'encoder' | 'pretrain' | 'finetune' | 'loop';
  size: [number, number, number];
  batch: number;
  width: number;
  channels: number;
  threads: number;
  precision: 'fp32' | 'bf16';
}

interface Runner {
  forward(): void;
  step(): void;
  params: number;
}

/** The same deterministic input in both frameworks: x[i] = sin(0.001·i). */
export function benchInput(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(0.001 * i);
  return out;
}

function convCase(s: Setup): Runner {
  const [d, h, w] = s.size;
  const x = tf.tensor5d(benchInput([s.batch, d, h, w, s.channels]), [s.batch, d, h, w, s.channels]);
  const conv = new Conv3d(s.channels, s.channels, 3, { padding: 1, seed: 1 });
  const dy = tf.tidy(() => tf.onesLike(conv.apply(x)));
  // what Conv3d runs: PyTorch's explicit padding (one native kernel when available)
  const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => conv3dPadded(xi as tf.Tensor5D, wi as tf.Tensor5D, 1, 1));
  return {
    params: conv.countParameters(),
    forward: () => conv.apply(x).dispose(),
    step: () => tf.dispose(grads([x, conv.weight], dy)),
  };
}

function encoderCase(s: Setup): Runner {
  const [d, h, w] = s.size;
  const x = tf.tensor5d(benchInput([s.batch, d, h, w, 1]), [s.batch, d, h, w, 1]);
  const enc = resnet3d18({ width: s.width, selfAttention: true, trainableFrom: 'layer3', seed: 1 });
  const vars = enc.trainableWeights;
  const loss = () => {
    const o = enc.apply(x, { training: true });
    return o.global.square().mean().add(o.layer3.mean()) as tf.Scalar;
  };
  return {
    params: enc.countParameters(true),
    forward: () => {
      const o = enc.apply(x, { training: true });
      tf.dispose([o.layer3, o.layer4, o.global]);
      o.attention?.dispose();
    },
    step: () => {
      const r = tf.variableGrads(loss, vars);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    },
  };
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function reply(o: unknown): void {
  process.stdout.write(`@@bench ${JSON.stringify(o)}\n`);
}

async function main(): Promise<void> {
  const synth = process.env[SYNTH_ENV];
  if (synth) return synthesizeRequested(synth);
  let runner: Runner | TrainingCase | undefined;
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const c = JSON.parse(line) as { cmd: string; top?: number };
      if (c.cmd === 'setup') {
        const s = c as unknown as Setup;
        const info = await setBackend('cpu', { precision: s.precision });
        if (info.native?.active) info.native = enableNativeKernels({ threads: s.threads, precision: s.precision });
        tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
        runner = s.case === 'conv' ? convCase(s) : s.case === 'encoder' ? encoderCase(s) : await setupTrainingCase(s.case, s);
        // pretrain, loop: the PyTorch worker reads this case's config and batches from `inputs`
        const inputs = 'inputs' in runner ? runner.inputs : undefined;
        const reportTokens = 'reportTokens' in runner ? runner.reportTokens : undefined;
        reply({ ok: true, backend: describeBackend(info), native: nativeStatus().active, threads: nativeStatus().threads, params: runner.params, inputs, reportTokens });
      } else if (c.cmd === 'forward' || c.cmd === 'step') {
        if (!runner) throw new Error('setup first');
        const r = runner;
        reply({ ok: true, ms: time(() => (c.cmd === 'forward' ? r.forward() : r.step())) });
      } else if (c.cmd === 'memory') {
        if (!runner) throw new Error('setup first');
        const r = runner;
        // tf.profile counts every tensor record (shared arrays again); trackLiveArrays each array once: every variable's
        // (weights, AdamW moments) and every one the step writes
        const before = tf.memory().numBytes;
        const live = trackLiveArrays(tf.backend(), Object.values(tf.engine().registeredVariables));
        let p: Awaited<ReturnType<typeof tf.profile>>;
        try {
          p = await tf.profile(() => r.step());
        } finally {
          live.stop();
        }
        reply({ ok: true, peakTensorBytes: p.peakBytes, heldTensorBytes: before, peakArrayBytes: live.peak, peakRssBytes: process.resourceUsage().maxRSS * 1024, numTensors: tf.memory().numTensors });
      } else if (c.cmd === 'profile') {
        if (!runner) throw new Error('setup first');
        const r = runner;
        const p = await tf.profile(() => r.step());
        const byName = new Map<string, { ms: number; calls: number }>();
        for (const k of p.kernels) {
          const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
          e.ms += Number(k.kernelTimeMs);
          e.calls += 1;
          byName.set(k.name, e);
        }
        const kernels = [...byName.entries()].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.ms - a.ms).slice(0, c.top ?? 25);
        reply({ ok: true, kernels });
      } else if (c.cmd === 'exit') {
        if (runner && 'dispose' in runner) runner.dispose?.();
        reply({ ok: true });
        break;
      } else {
        throw new Error(`unknown command ${c.cmd}`);
      }
    } catch (e) {
      reply({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  process.exit(0);
}

void main();
