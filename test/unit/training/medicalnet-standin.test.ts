// The MedicalNet stand-in: the phantom's tissue labels (hand checks), a
// cohort disjoint from the study's, the masked cross-entropy (hand values),
// a leak-free step, a loss that falls, and a MedicalNet-format .pth that
// loads through loadMedicalNet (and PyTorch) and passes `mrcl config check`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend, tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import type { ExperimentConfig } from '../../../src/shared/config';
import { synthesizeCase } from '../../../src/engine/synth/case';
import { synthesizeCohort, SYNTH_DEFAULTS } from '../../../src/engine/synth/cohort';
import { headGrid } from '../../../src/engine/synth/grid';
import { rotationDeg } from '../../../src/engine/synth/math';
import { Phantom } from '../../../src/engine/synth/phantom';
import { TISSUE_CLASSES } from '../../../src/engine/synth/tissue';
import { Rng } from '../../../src/engine/util/rng';
import { readNifti } from '../../../src/engine/io/nifti';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { loadMedicalNet } from '../../../src/engine/networks/medicalnet';
import { torchStateDict } from '../../../src/engine/networks/module';
import { resnet3dFromConfig } from '../../../src/engine/networks/resnet3d';
import { MedicalNetSegHead } from '../../../src/engine/networks/medicalnet-decoder';
import { ConvTranspose3d2x } from '../../../src/engine/networks/layers/conv-transpose3d';
import { AdamW } from '../../../src/engine/training/adamw';
import { CancelledError } from '../../../src/engine/training/loop';
import { standinCase, standinIds } from '../../../src/engine/training/standin-cohort';
import {
  classDice,
  maskedCrossEntropy,
  readStandinRecord,
  standinEncoder,
  standinOutputGrid,
  standinStep,
  STANDIN_DESCRIPTION,
  trainMedicalNetStandin,
  type StandinRecord,
  type StandinResult,
} from '../../../src/engine/training/medicalnet-standin';
import { main } from '../../../src/cli/main';
import type { CommandContext } from '../../../src/cli/command';
import { findTorchPython } from '../torch-python';

const dir = mkdtempSync(join(tmpdir(), 'standin-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const torchPython = findTorchPython();

const INPUT = { data: { manifest: 'cohort/manifest.json', shape: [24, 24, 16] }, image: { depth: 10, shortcut: 'B', width: 2, outputStride: 8 }, backend: 'cpu', finetune: { folds: 2 } };
const config: ExperimentConfig = resolveConfig(INPUT, 'test');

before(async () => {
  await setBackend('cpu', { training: true });
});

// ---- labels -------------------------------------------------------------

test('Phantom.tissue: hand-placed template points get the compartment the template puts there', () => {
  const spec = { size: [1, 1, 1] as [number, number, number], rotation: rotationDeg(0, 0, 0), shift: [0, 0, 0] as [number, number, number], ventricleScale: 1, fourthVentricleScale: 1, periventricularEdema: false };
  const p = new Phantom(spec, new Rng(5));
  const at = (q: [number, number, number]) => p.tissue(q, q);
  assert.equal(at([0, 0, -200]), 'air'); // far below the head
  assert.equal(at([25, -10, 30]), 'white'); // deep in the hemisphere, away from nuclei and ventricles
  assert.equal(at([11, -8, 5]), 'deepGrey'); // the thalamus' centre
  assert.equal(at([8, 4, 14]), 'ventricle'); // the right lateral ventricle's centre
  assert.equal(at([-8, 4, 14]), 'ventricle'); // and the left
  assert.equal(at([30, -50, -40]), 'cerebellum'); // a cerebellar hemisphere, below the tentorium
  assert.equal(at([0, -12, -40]), 'brainstem');
  // along +x at z = 6 the intracranial space ends at the cerebrum's semi-axis, 62 mm: CSF the 3 mm
  // inside it, then bone 4.5 mm and scalp 4.5 mm outside it, then air
  assert.equal(at([58, 0, 6]), 'grey');
  assert.equal(at([60.5, 0, 6]), 'csf');
  assert.equal(at([64, 0, 6]), 'bone');
  assert.equal(at([69, 0, 6]), 'scalp');
  assert.equal(at([75, 0, 6]), 'air');
});

test('tissue map: on the image grid, background at the corners, tumour no class, deterministic, aligned with the image', () => {
  const grid = headGrid([24, 24, 16]);
  const a = synthesizeCase(2019, 'standin-001', 'internal', grid, undefined, { tissue: true });
  const b = synthesizeCase(2019, 'standin-001', 'internal', grid, undefined, { tissue: true });
  const t = a.tissue!;
  assert.deepEqual(t.labels, b.tissue!.labels);
  assert.equal(t.labels.length, 24 * 24 * 16);
  const [nx, ny, nz] = grid.dims;
  for (const [i, j, k] of [[0, 0, 0], [nx - 1, 0, 0], [0, ny - 1, nz - 1], [nx - 1, ny - 1, nz - 1]]) assert.equal(t.labels[i! + nx * (j! + ny * k!)], 0);
  assert.ok(!TISSUE_CLASSES.some((c) => /tumou?r/.test(c)));
  // the tumour region is the case's mask, and under it only intracranial tissue (CSF, grey, white, hindbrain)
  let tumourVoxels = 0;
  const sums = new Array<number>(6).fill(0);
  const counts = new Array<number>(6).fill(0);
  for (let v = 0; v < t.labels.length; v++) {
    assert.equal(t.tumour[v], a.mask.data[v]! > 0.5 ? 1 : 0, `voxel ${v}`);
    if (t.tumour[v]) {
      tumourVoxels++;
      assert.ok(t.labels[v]! >= 2 && t.labels[v]! <= 5, `tumour voxel ${v} labelled ${TISSUE_CLASSES[t.labels[v]!]}`);
      continue;
    }
    sums[t.labels[v]!] += a.image.data[v]!;
    counts[t.labels[v]!]++;
  }
  assert.ok(tumourVoxels > 0);
  assert.ok(counts.every((n) => n > 0), `every class present: ${counts}`);
  // FLAIR: air darkest, CSF dark, parenchyma bright (phantom SIGNAL); a misaligned map would mix them
  const mean = sums.map((s, i) => s / counts[i]!);
  const [bg, extra, csf, grey, white, hind] = mean as [number, number, number, number, number, number];
  assert.ok(bg < csf && csf < extra && csf < 0.5 * Math.min(grey, white, hind), `class means ${mean.map(Math.round)}`);
});

// ---- cohort -------------------------------------------------------------

let cohortDir = '';
before(async () => {
  cohortDir = join(dir, 'cohort');
  await synthesizeCohort({ out: cohortDir, internal: 12, external: 2, shape: [24, 24, 16], seed: SYNTH_DEFAULTS.seed });
});

test('the stand-in cohort is disjoint from a study cohort of the default seed: other ids, other images', () => {
  const manifest = JSON.parse(readFileSync(join(cohortDir, 'manifest.json'), 'utf8')) as { cases: { id: string; image: string }[] };
  const ids = standinIds(6, 2);
  const study = new Set(manifest.cases.map((c) => c.id));
  for (const id of [...ids.train, ...ids.heldOut]) {
    assert.match(id, /^standin-/);
    assert.ok(!study.has(id), id);
  }
  assert.deepEqual(ids.heldOut, ['standin-eval-001', 'standin-eval-002']);
  const studyImages = manifest.cases.map((c) => readNifti(join(cohortDir, c.image)).data);
  const grid = headGrid([24, 24, 16]);
  ids.train.forEach((id, i) => {
    // the stand-in's default seed and the study's default seed alike
    for (const seed of [2019, SYNTH_DEFAULTS.seed]) {
      const img = synthesizeCase(seed, id, i % 2 ? 'external' : 'internal', grid).image.data;
      for (const s of studyImages) assert.ok(s.length !== img.length || s.some((v, n) => v !== img[n]), `${id} equals a study image`);
    }
  });
  const c = standinCase(2019, ids.train[0]!, 0, config);
  assert.deepEqual(c.image.dims, [24, 24, 16]);
  assert.deepEqual(c.labels.dims, [24, 24, 16]);
  assert.ok(c.image.data.every((v) => v >= 0 && v <= 1), 'min–max normalised as training does');
});

// ---- loss and step ---------------------------------------------------------

test('maskedCrossEntropy: hand values; weight-0 voxels do not count', () => {
  const logits = tf.tensor5d([0, 0, Math.log(3), 0, 0, 0], [1, 1, 1, 3, 2]);
  const labels = tf.tensor1d([0, 1, 1]);
  const cases: [number[], number][] = [
    [[1, 0, 0], Math.log(2)], // voxel 0: −log ½
    [[1, 1, 0], (Math.log(2) + Math.log(4)) / 2], // voxel 1: −log ¼
    [[0, 0, 0], 0], // nothing counts
  ];
  for (const [w, want] of cases) {
    const weight = tf.tensor1d(w);
    const got = maskedCrossEntropy(logits, labels, weight);
    assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6, `${w}: ${got.dataSync()[0]} vs ${want}`);
    tf.dispose([weight, got]);
  }
  tf.dispose([logits, labels]);
});

test('classDice: hand values; weight-0 voxels left out; null for a class in neither', () => {
  //           voxel: 0  1  2  3  4  5
  const pred = [0, 0, 1, 1, 2, 2];
  const truth = [0, 1, 1, 1, 0, 2];
  const weight = [1, 1, 1, 1, 1, 0];
  // class 0: P {0,1} G {0,4} → 2·1/4; class 1: P {2,3} G {1,2,3} → 2·2/5; class 2: P {4} G {} → 0; class 3: none
  assert.deepEqual(classDice(pred, truth, weight, 4), [0.5, 0.8, 0, null]);
  assert.throws(() => classDice([0], [0, 1], [1], 2), /classDice: 1 predictions, 2 labels and 1 weights/);
});

test('ConvTranspose3d (2, stride 2): each input voxel writes its own 2×2×2 block, PyTorch layout [in, out, a, b, c]', () => {
  const layer = new ConvTranspose3d2x(1, 1, { init: 'zeros' });
  // W[0, 0, a, b, c] = 4a + 2b + c + 1, bias 0.5
  layer.weight.assign(tf.tensor5d(Array.from({ length: 8 }, (_, i) => i + 1), [1, 2, 2, 2, 1]));
  layer.bias.assign(tf.tensor1d([0.5]));
  const x = tf.tensor5d([1, 10], [1, 2, 1, 1, 1]);
  const y = layer.apply(x);
  assert.deepEqual(y.shape, [1, 4, 2, 2, 1]);
  const v = y.arraySync() as number[][][][][];
  for (let d = 0; d < 4; d++) for (let h = 0; h < 2; h++) for (let w = 0; w < 2; w++) {
    const a = d % 2;
    assert.equal(v[0]![d]![h]![w]![0], (d < 2 ? 1 : 10) * (4 * a + 2 * h + w + 1) + 0.5, `${d},${h},${w}`);
  }
  const torch = torchStateDict(layer);
  assert.deepEqual(torch.get('weight')!.shape, [1, 1, 2, 2, 2]);
  tf.dispose([x, y, ...torch.values()]);
  layer.dispose();
});

test('a training step leaks no tensors (after the optimizer has made its moments)', () => {
  const cases = [0, 1].map((i) => standinCase(7, `standin-00${i + 1}`, i, config));
  const g = standinOutputGrid(config);
  assert.deepEqual(g, [6, 6, 4]);
  const encoder = standinEncoder(config.image, 7);
  const head = new MedicalNetSegHead(16, TISSUE_CLASSES.length, { seed: 1 });
  const opt = new AdamW([...encoder.trainableWeights, ...head.trainableWeights], { lr: 1e-3 });
  const targets = cases.map((c) => {
    const labels = { ...c.labels, data: new Float32Array(6 * 6 * 4).fill(3), dims: g };
    return { labels, weight: { ...labels, data: new Float32Array(6 * 6 * 4).fill(1) } };
  });
  standinStep(encoder, head, opt, cases, targets);
  const n = tf.memory().numTensors;
  const loss = standinStep(encoder, head, opt, cases, targets);
  assert.ok(Number.isFinite(loss));
  assert.equal(tf.memory().numTensors, n);
  opt.dispose();
  encoder.dispose();
  head.dispose();
});

// ---- the whole stand-in -----------------------------------------------------

let result: StandinResult;
let trained: Map<string, Float32Array | Int32Array> = new Map();
let headCheck: { input: number[]; shape: number[]; output: number[] } | undefined;
before(async () => {
  result = await trainMedicalNetStandin({
    config,
    out: join(dir, 'out', 'standin.pth'),
    cases: 4,
    heldOut: 2,
    epochs: 4,
    batchSize: 2,
    seed: 11,
    onTrained: ({ encoder, head }) => {
      const state = torchStateDict(encoder);
      for (const [k, t] of state) trained.set(k, t.dataSync() as Float32Array | Int32Array);
      tf.dispose([...state.values()]);
      const x = tf.tensor5d(Array.from({ length: 16 * 3 * 3 * 2 }, (_, i) => Math.sin(i)), [1, 3, 3, 2, 16]);
      const y = head.apply(x);
      headCheck = { input: Array.from(x.dataSync()), shape: y.shape, output: Array.from(y.dataSync()) };
      tf.dispose([x, y]);
    },
  });
});

test('the loss falls over a few epochs on a fixed tiny set', () => {
  const l = result.summary.epochLosses;
  assert.equal(l.length, 4);
  assert.ok(l[3]! < l[0]!, `epoch losses ${l}`);
  assert.ok(l[0]! < 2 * Math.log(6) + 1, `a first loss near chance: ${l[0]}`);
});

test('the .pth is MedicalNet-format and loads strictly through loadMedicalNet, reproducing the trained encoder exactly', () => {
  const ck = loadTorchCheckpoint(result.checkpoint);
  assert.equal(ck.stateDictKey, 'state_dict');
  assert.deepEqual(ck.metadata, { ecpoch: 4 });
  const keys = [...ck.tensors.keys()];
  assert.ok(keys.every((k) => k.startsWith('module.')));
  assert.ok(!keys.some((k) => k.includes('self_attention')));
  assert.deepEqual(keys.filter((k) => k.includes('conv_seg')).sort(), [
    'module.conv_seg.0.bias', 'module.conv_seg.0.weight', 'module.conv_seg.1.bias', 'module.conv_seg.1.num_batches_tracked', 'module.conv_seg.1.running_mean',
    'module.conv_seg.1.running_var', 'module.conv_seg.1.weight', 'module.conv_seg.3.weight', 'module.conv_seg.4.bias', 'module.conv_seg.4.num_batches_tracked',
    'module.conv_seg.4.running_mean', 'module.conv_seg.4.running_var', 'module.conv_seg.4.weight', 'module.conv_seg.6.weight',
  ]);
  assert.deepEqual(ck.tensors.get('module.conv_seg.0.weight')!.shape, [16, 32, 2, 2, 2]);
  assert.deepEqual(ck.tensors.get('module.conv_seg.6.weight')!.shape, [6, 32, 1, 1, 1]);
  // a fresh encoder of the config (with its self-attention, which MedicalNet lacks), zeros first
  const fresh = resnet3dFromConfig(config.image, 0, 'zeros');
  const r = loadMedicalNet(fresh, result.checkpoint);
  assert.equal(r.ignored.length, 14);
  assert.ok(r.ignored.every((k) => k.startsWith('module.conv_seg.')));
  assert.ok(r.keptInitial.every((k) => k.startsWith('self_attention.')) && r.keptInitial.length > 0);
  assert.deepEqual(new Set(r.loaded), new Set(trained.keys()));
  const state = torchStateDict(fresh);
  for (const [k, want] of trained) assert.deepEqual(Array.from(state.get(k)!.dataSync()), Array.from(want), k);
  tf.dispose([...state.values()]);
  fresh.dispose();
});

test('the record beside it says what it is, with the cohort, epochs, final loss and held-out Dice', () => {
  const rec = JSON.parse(readFileSync(`${result.checkpoint}.json`, 'utf8')) as StandinRecord;
  assert.equal(rec.kind, 'medicalnet-standin');
  assert.equal(rec.description, STANDIN_DESCRIPTION);
  assert.match(rec.description, /stand-in for MedicalNet, not Med3D weights/);
  assert.equal(rec.checkpoint, 'standin.pth');
  assert.deepEqual(rec.cohort, { seed: 11, idPrefix: 'standin-', train: 4, heldOut: 2, shape: [24, 24, 16], normalization: 'minmax' });
  assert.equal(rec.training.epochs, 4);
  assert.equal(rec.training.stepsPerEpoch, 2);
  assert.equal(rec.finalLoss, rec.epochLosses[3]);
  assert.deepEqual(Object.keys(rec.heldOutDice), [...TISSUE_CLASSES]);
  assert.ok(Object.values(rec.heldOutDice).every((d) => d === null || (d >= 0 && d <= 1)));
  assert.ok(rec.heldOutDice.background! > 0.5, `background Dice ${rec.heldOutDice.background}`);
  assert.deepEqual(rec.decoder.outputGrid, [6, 6, 4]);
  assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['standin.pth', 'standin.pth.json']);
  assert.deepEqual(readStandinRecord(result.checkpoint), rec);
  // a released Med3D file has no record; a stray JSON that is not ours is refused, naming it
  assert.equal(readStandinRecord(join(dir, 'resnet_18.pth')), undefined);
  writeFileSync(join(dir, 'other.pth.json'), '{"kind": "something"}');
  assert.throws(() => readStandinRecord(join(dir, 'other.pth')), /other\.pth\.json: not a MedicalNet stand-in record/);
});

test('PyTorch reads the .pth (weights_only) and its conv_seg, run as MedicalNet builds it, gives our head\'s logits', { skip: torchPython.python ? false : torchPython.why, timeout: 120_000 }, () => {
  const io = join(dir, 'head-io.json');
  writeFileSync(io, JSON.stringify(headCheck));
  const script = `
import json, sys, torch, torch.nn as nn
ck = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
sd = ck["state_dict"]
seg = nn.Sequential(nn.ConvTranspose3d(16, 32, 2, stride=2), nn.BatchNorm3d(32), nn.ReLU(inplace=True),
    nn.Conv3d(32, 32, kernel_size=3, stride=(1, 1, 1), padding=(1, 1, 1), bias=False), nn.BatchNorm3d(32), nn.ReLU(inplace=True),
    nn.Conv3d(32, 6, kernel_size=1, stride=(1, 1, 1), bias=False))
seg.load_state_dict({k[len("module.conv_seg."):]: v for k, v in sd.items() if k.startswith("module.conv_seg.")}, strict=True)
seg.eval()
d = json.load(open(sys.argv[2]))
x = torch.tensor(d["input"], dtype=torch.float32).reshape(1, 3, 3, 2, 16).permute(0, 4, 1, 2, 3)
with torch.no_grad():
    y = seg(x).permute(0, 2, 3, 4, 1)
print(json.dumps({"ecpoch": ck["ecpoch"], "shape": list(y.shape), "out": y.reshape(-1).tolist()}))
`;
  const r = spawnSync(torchPython.python!, ['-c', script, result.checkpoint, io], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { ecpoch: number; shape: number[]; out: number[] };
  assert.equal(got.ecpoch, 4);
  assert.deepEqual(got.shape, headCheck!.shape);
  const worst = Math.max(...got.out.map((v, i) => Math.abs(v - headCheck!.output[i]!) / (1 + Math.abs(v))));
  assert.ok(worst < 1e-4, `largest relative difference ${worst}`);
});

// ---- CLI --------------------------------------------------------------------

function capture(signal = new AbortController().signal): { ctx: CommandContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { ctx: { stdout: (s) => void (out += s), stderr: (s) => void (err += s), tty: false, signal }, out: () => out, err: () => err };
}

function writeConfig(name: string, extra: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ ...INPUT, ...extra, image: { ...INPUT.image, ...(extra.image as object) } }, null, 2));
  return path;
}

test('a config with image.medicalNet pointing at the stand-in passes `mrcl config check`; a wider encoder does not', async () => {
  const ok = capture();
  const good = writeConfig('good.mrcl.json', { image: { medicalNet: 'out/standin.pth' } });
  assert.equal(await main(['config', 'check', good], ok.ctx), 0, ok.err());
  assert.match(ok.out(), /valid/);
  const bad = capture();
  const wide = writeConfig('wide.mrcl.json', { image: { medicalNet: 'out/standin.pth', width: 4 } });
  assert.equal(await main(['config', 'check', wide], bad.ctx), 1);
  assert.match(bad.err(), /standin\.pth.*conv1\.weight: shape/s);
});

test('mrcl medicalnet standin: writes the .pth and its record, progress on stderr, summary on stdout', async () => {
  const c = capture();
  const cfg = writeConfig('cli.mrcl.json', {});
  const out = join(dir, 'cli', 'm.pth');
  const code = await main(['medicalnet', 'standin', cfg, '--out', out, '--cases', '2', '--held-out', '1', '--epochs', '2', '--batch', '2', '--seed', '3'], c.ctx);
  assert.equal(code, 0, c.err());
  assert.ok(existsSync(out) && existsSync(`${out}.json`));
  assert.match(c.err(), /epoch 1\/2: mean loss \d/);
  assert.match(c.err(), /epoch 2\/2: mean loss \d/);
  assert.match(c.err(), /not Med3D weights/);
  assert.match(c.err(), /held-out Dice \(head grid\): background \d\.\d{3}/);
  const summary = JSON.parse(c.out()) as StandinRecord;
  assert.equal(summary.cohort.seed, 3);
  assert.equal(summary.training.epochs, 2);
});

test('bad arguments: clear errors, nothing written', async () => {
  const cfg = writeConfig('args.mrcl.json', {});
  const out = join(dir, 'bad', 'x.pth');
  const cases: [string[], number, RegExp][] = [
    [['medicalnet', 'standin', cfg], 2, /--out FILE\.pth is required/],
    [['medicalnet', 'train', cfg, '--out', out], 2, /unknown action "train" \(expected standin\)/],
    [['medicalnet', 'standin'], 2, /missing CONFIG/],
    [['medicalnet', 'standin', cfg, '--out', out, '--epochs', '0'], 2, /--epochs must be at least 1, got 0/],
    [['medicalnet', 'standin', cfg, '--out', out, '--cases', 'many'], 2, /--cases must be an integer, got "many"/],
    [['medicalnet', 'standin', cfg, '--out', out, '--cases', '2', '--batch', '3'], 1, /batch size 3 is larger than the 2 training cases/],
    [['medicalnet', 'standin', join(dir, 'none.mrcl.json'), '--out', out], 1, /none\.mrcl\.json/],
  ];
  for (const [argv, want, message] of cases) {
    const c = capture();
    assert.equal(await main(argv, c.ctx), want, `${argv.join(' ')}: ${c.err()}`);
    assert.match(c.err(), message);
  }
  assert.ok(!existsSync(join(dir, 'bad')));
  await assert.rejects(trainMedicalNetStandin({ config, out: '' }), /medicalnet standin: out must be a file path/);
  await assert.rejects(trainMedicalNetStandin({ config, out, cases: 1 }), /cases must be an integer from 2 to 10000, got 1/);
  await assert.rejects(trainMedicalNetStandin({ config, out, lr: -1 }), /lr must be a finite number ≥ 0, got -1/);
});

test('a cancel (AbortSignal) during training leaves no file at all', async () => {
  const ac = new AbortController();
  const out = join(dir, 'cancel', 'c.pth');
  await assert.rejects(
    trainMedicalNetStandin({ config, out, cases: 2, heldOut: 0, epochs: 3, batchSize: 1, signal: ac.signal, onProgress: (p) => p.phase === 'train' && p.step === 1 && ac.abort() }),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.ok(!existsSync(join(dir, 'cancel')));
  const c = capture(AbortSignal.abort());
  assert.equal(await main(['medicalnet', 'standin', writeConfig('cancel.mrcl.json', {}), '--out', out, '--cases', '2', '--batch', '1'], c.ctx), 130);
  assert.match(c.err(), /cancelled; nothing was written/);
  assert.ok(!existsSync(join(dir, 'cancel')));
});

after(() => {
  trained = new Map();
});
