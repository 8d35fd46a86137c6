// Benchmark (not a test): forward and forward+backward time and peak memory
// of the image encoder (ResNet-18-A + self-attention, conv1–layer2 frozen)
// and other cases on the active TF.js backend, optionally side by side with
// the same model in PyTorch. JSON on stdout, progress on stderr.
//
//   node scripts/bench.mjs [--cases encoder] [--sizes 64x64x40,128x128x80]
//     [--batch 2] [--width 64] [--iterations 3] [--warmup 1] [--threads N]
//     [--native auto|on|off|both] [--torch] [--python /usr/bin/python3]
//     [--profile] [--conv-size 32x32x32] [--channels 32] [--precision fp32|bf16]
//
// --precision bf16: the engine's bf16 convolutions and matrix products
// (config `precision`), PyTorch's forward under torch.autocast("cpu",
// bfloat16) with fp32 losses; both need a CPU with AVX512-BF16 or AMX.
// --flush-denormal: PyTorch with torch.set_flush_denormal(True) (subnormal
// floats as 0; on some CPUs its fp32 step otherwise slows down several
// times on subnormal gradients).
// Cases: conv (one 3³ conv layer, input and weight gradients), encoder,
// pretrain (a full contrastive step on six short reports), finetune (a
// classifier step), loop (the real pretraining loop's step: a synthetic
// cohort of two batches at the --sizes shape is written once into a
// temporary folder by a child process, its reports train the corpus tokenizer, and each step is
// the engine's own pretrainStep on the next batch — volumes through the
// Dataset, the synthetic reports' real lengths, so the Longformer runs its
// banded attention — while PyTorch runs the same model on the same token
// batches, reading the volumes with nibabel at every step).
// pretrain and loop need a batch of at least 3 (semi-hard negatives); a
// smaller --batch is raised to 3 for them. Their PyTorch model is built from
// the config and batches the TF.js worker writes (scripts/bench/torch-inputs.ts);
// a warning line says when the two sides' trainable parameter counts differ,
// and `node --import tsx scripts/bench/torch-parity.ts` checks that the two
// pretraining models compute the same values from the same weights.
// Each framework runs in its own process (so peak RSS is its own); with
// --torch the two are run alternately, iteration by iteration, and the
// medians and the ratio TF.js / PyTorch are reported.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// the TF.js side runs with the node flags every training process gets (src/shared/node-flags.ts)
const launch = join(root, 'dist', 'launch.js');
if (!existsSync(launch)) throw new Error(`bench: ${launch} is missing: run \`npm run build\` first (npm run bench does)`);
const { TRAINING_NODE_FLAGS } = createRequire(import.meta.url)(launch);
const { values: o } = parseArgs({
  options: {
    cases: { type: 'string', default: 'encoder' },
    sizes: { type: 'string', default: '64x64x40,128x128x80' },
    'conv-size': { type: 'string', default: '32x32x32' },
    channels: { type: 'string', default: '32' },
    batch: { type: 'string' },
    width: { type: 'string', default: '64' },
    iterations: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string', default: String(availableParallelism()) },
    native: { type: 'string', default: 'auto' },
    torch: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
    profile: { type: 'boolean', default: false },
    precision: { type: 'string', default: 'fp32' },
    'flush-denormal': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  process.stderr.write(lines.slice(0, lines.findIndex((l) => l.startsWith('import'))).join('\n') + '\n');
  process.exit(0);
}

function int(name, v, min = 1) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`bench: --${name} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}
function size(v) {
  const p = v.split('x').map((s) => int('sizes', s));
  if (p.length !== 3) throw new Error(`bench: a size is DxHxW, got "${v}"`);
  return p;
}
if (o.precision !== 'fp32' && o.precision !== 'bf16') throw new Error(`bench: --precision must be fp32 or bf16, got "${o.precision}"`);
const CASES = ['conv', 'encoder', 'pretrain', 'finetune', 'loop'];
/** Smallest batch of the pretraining cases: semi-hard negatives need two other cases (training/batch-rules.ts). */
const MIN_PRETRAIN_BATCH = 3;
const pretraining = (name) => name === 'pretrain' || name === 'loop';
const cases = o.cases.split(',').map((c) => c.trim());
for (const c of cases) if (!CASES.includes(c)) throw new Error(`bench: unknown case "${c}" (expected ${CASES.join(', ')})`);
const nativeModes = { auto: ['auto'], on: ['1'], off: ['0'], both: ['0', '1'] }[o.native];
if (!nativeModes) throw new Error(`bench: --native must be auto, on, off or both, got "${o.native}"`);
const iterations = int('iterations', o.iterations);
const warmup = int('warmup', o.warmup, 0);
const threads = int('threads', o.threads);
const width = int('width', o.width);
const channels = int('channels', o.channels);
if (o.torch && !existsSync(o.python)) throw new Error(`bench: --torch needs PyTorch's python at ${o.python} (--python PATH)`);

// The TF.js worker runs bundled, as `mrcl` does (esbuild.mjs target
// "bench"): under tsx its peak RSS would include the TypeScript loader
// (≈ 100 MB more at start than the bundled engine).
const WORKER_BUNDLE = join(root, 'dist', 'bench', 'worker.js');
const built = spawnSync(process.execPath, ['esbuild.mjs', 'bench'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (built.status !== 0 || !existsSync(WORKER_BUNDLE)) throw new Error(`bench: building ${WORKER_BUNDLE} failed (node esbuild.mjs bench, exit ${built.status})`);

/** A worker process speaking the one-JSON-line protocol. */
class Worker {
  constructor(label, command, args, env) {
    this.label = label;
    this.proc = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.pending = [];
    this.exited = new Promise((res) => this.proc.on('exit', (code) => res(code)));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      if (!line.startsWith('@@bench ')) return;
      this.pending.shift()?.(JSON.parse(line.slice(8)));
    });
  }

  async send(cmd) {
    const answer = new Promise((res) => this.pending.push(res));
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const r = await Promise.race([answer, this.exited.then((code) => ({ ok: false, error: `${this.label} exited (${code})` }))]);
    if (!r.ok) throw new Error(`${this.label}: ${r.error}`);
    return r;
  }

  async close() {
    try {
      await this.send({ cmd: 'exit' });
    } catch {
      // already gone
    }
    this.proc.stdin.end();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) => ({ median: +median(xs).toFixed(2), min: +Math.min(...xs).toFixed(2), runs: xs.map((x) => +x.toFixed(2)) });
const log = (m) => process.stderr.write(`bench: ${m}\n`);

async function runCase(name, sz) {
  let batch = o.batch ? int('batch', o.batch) : pretraining(name) ? 4 : 2;
  if (pretraining(name) && batch < MIN_PRETRAIN_BATCH) {
    log(`${name}: a batch of ${batch} has too few negatives for semi-hard sampling; using ${MIN_PRETRAIN_BATCH}`);
    batch = MIN_PRETRAIN_BATCH;
  }
  const setup = { cmd: 'setup', case: name, size: sz, batch, width, channels, threads, precision: o.precision, flushDenormal: o['flush-denormal'] };
  const workers = nativeModes.map(
    (m) => new Worker(`tfjs${m === 'auto' ? '' : m === '1' ? '+native' : ' pure-JS'}`, process.execPath, [...TRAINING_NODE_FLAGS, WORKER_BUNDLE], m === 'auto' ? {} : { MRCL_NATIVE: m }),
  );
  if (o.torch) workers.push(new Worker('pytorch', o.python, ['scripts/bench/torch_worker.py'], { OMP_NUM_THREADS: String(threads) }));
  const result = { case: name, precision: o.precision, size: sz, batch, width: name === 'conv' ? undefined : width, channels: name === 'conv' ? channels : undefined, frameworks: [] };
  try {
    const infos = [];
    for (const w of workers) {
      // the PyTorch side of pretrain/loop reads the TF.js worker's config and batches
      const own = w.label === 'pytorch' && infos[0]?.inputs ? { ...setup, inputs: infos[0].inputs } : setup;
      infos.push(await w.send(own));
    }
    if (infos[0]?.reportTokens) result.reportTokens = infos[0].reportTokens; // per batch, the same on both sides
    const counts = new Set(infos.map((info) => info.params));
    if (counts.size > 1) {
      log(`WARNING: ${name}: the frameworks train different numbers of parameters (${workers.map((w, j) => `${w.label} ${infos[j].params}`).join(', ')}): the times do not compare like with like`);
    }
    for (let i = 0; i < warmup; i++) for (const w of workers) await w.send({ cmd: 'forward' }), await w.send({ cmd: 'step' });
    const times = workers.map(() => ({ forward: [], step: [] }));
    for (let i = 0; i < iterations; i++) {
      // alternate the order so neither framework always runs on a warm cache
      const order = workers.map((_, j) => j);
      if (i % 2) order.reverse();
      for (const what of ['forward', 'step']) for (const j of order) times[j][what].push((await workers[j].send({ cmd: what })).ms);
      log(`${name} ${sz.join('x')} iteration ${i + 1}/${iterations}: ${workers.map((w, j) => `${w.label} fwd ${times[j].forward.at(-1).toFixed(0)} ms, step ${times[j].step.at(-1).toFixed(0)} ms`).join('; ')}`);
    }
    for (const [j, w] of workers.entries()) {
      const mem = await w.send({ cmd: 'memory' });
      const entry = {
        framework: w.label,
        backend: infos[j].backend,
        native: infos[j].native,
        threads: infos[j].threads,
        trainableParams: infos[j].params,
        forwardMs: stats(times[j].forward),
        forwardBackwardMs: stats(times[j].step),
        peakTensorBytes: mem.peakTensorBytes ?? null,
        // TF.js only: tensors held before the step (weights, optimizer state, inputs, by tf.memory), and the peak of the
        // distinct arrays of the variables and of the step, each array once
        ...(mem.peakArrayBytes !== undefined ? { heldTensorBytes: mem.heldTensorBytes, peakArrayBytes: mem.peakArrayBytes } : {}),
        peakRssBytes: mem.peakRssBytes,
      };
      if (o.profile && w.label !== 'pytorch') entry.stepProfile = (await w.send({ cmd: 'profile', top: 25 })).kernels;
      result.frameworks.push(entry);
    }
    const torch = result.frameworks.find((f) => f.framework === 'pytorch');
    if (torch) {
      result.ratio = {};
      for (const f of result.frameworks) {
        if (f === torch) continue;
        result.ratio[f.framework] = {
          forward: +(f.forwardMs.median / torch.forwardMs.median).toFixed(2),
          forwardBackward: +(f.forwardBackwardMs.median / torch.forwardBackwardMs.median).toFixed(2),
        };
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  return result;
}

const results = [];
for (const c of cases) {
  const sizes = c === 'conv' ? [size(o['conv-size'])] : o.sizes.split(',').map(size);
  for (const sz of sizes) results.push(await runCase(c, sz));
}
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  memoryBytes: totalmem(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
process.stdout.write(`${JSON.stringify({ machine, threads, iterations, warmup, results }, null, 2)}\n`);
