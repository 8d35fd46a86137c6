// Trainable and frozen parameter counts per component, for pretraining and
// fine-tuning, laid out as the paper's Table 7. Counts are read from the
// models the config builds (never computed by formula), with the text
// encoder shaped by text.pretrained's config.json when set (no weights are
// read, so Clinical-Longformer's shape needs only its config.json).
//
// Grouping (METHOD.md §4, "Table 7"): the text encoder column holds the
// Longformer and the two text heads (the authors' text module owns them);
// "MLP heads" is the global image head; the local image head is a row of its
// own (Table 7 counts it in the total but in no column); the learned loss
// weights s_G, s_L (ours) are a row of their own too.
// follows: METHOD.md §4
import { existsSync } from 'node:fs';
import { readModelConfig } from '../networks/hf-text';
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import { resolveIn } from '../config/resolve';
import type { Module } from '../networks/module';
import { LongformerEncoder } from '../networks/longformer';
import { loadTokenizer } from '../text/tokenizer';
import { ContrastiveModel } from './contrastive';
import { MarkerClassifier } from './classifier';
import type { ParamCount, StageSummary, ModelSummary } from '../../shared/model-summary';

export type { ParamCount, StageSummary, ModelSummary } from '../../shared/model-summary';

export const SUMMARY_COMPONENTS: readonly (keyof StageSummary)[] = [
  'imageEncoder',
  'imageLocalHead',
  'textEncoder',
  'crossAttention',
  'heads',
  'lossWeights',
  'classifier',
  'total',
];

export const COMPONENT_LABELS: Record<keyof StageSummary, string> = {
  imageEncoder: 'Image encoder',
  imageLocalHead: 'Local image head',
  textEncoder: 'Text encoder (+ text heads)',
  crossAttention: 'Cross-attention',
  heads: 'MLP heads (global image)',
  lossWeights: 'Loss weights s_G, s_L',
  classifier: 'Classifier',
  total: 'Total',
};

const ZERO: ParamCount = { trainable: 0, frozen: 0 };

export function countParams(...modules: Module[]): ParamCount {
  let trainable = 0;
  let all = 0;
  for (const m of modules) {
    trainable += m.countParameters(true);
    all += m.countParameters(false);
  }
  return { trainable, frozen: all - trainable };
}

/** Counts for `config` (relative paths against `baseDir`). Builds the models, counts, disposes them. */
export function modelSummary(config: ExperimentConfig, baseDir: string): ModelSummary {
  let textEncoder: LongformerEncoder | undefined;
  let textDesc: string;
  let vocabSize: number;
  if (config.text.pretrained) {
    const dir = resolveIn(baseDir, config.text.pretrained);
    const configPath = join(dir, 'config.json');
    if (!existsSync(configPath)) throw new Error(`${dir}: config.json is missing (text.pretrained)`);
    textEncoder = LongformerEncoder.fromHfConfig(readModelConfig(configPath), configPath, {
      init: 'zeros',
      globalCls: config.text.globalCls,
      trainableLayers: config.text.trainableLayers,
      maxWords: config.text.maxWords,
    });
    const c = textEncoder.config;
    vocabSize = c.vocabSize;
    textDesc = `Longformer from ${configPath}: ${c.layers} layers, hidden ${c.hidden}, last ${config.text.trainableLayers} trainable`;
  } else {
    // a corpus tokenizer is learnt at run time: its target size; a pretrained one is read
    const corpus = config.tokenizer.kind === 'corpus';
    vocabSize = corpus ? config.tokenizer.vocabSize : loadTokenizer(resolveIn(baseDir, config.tokenizer.path)).vocabSize;
    textDesc = `small Longformer trained from scratch: ${config.text.layers} layers, hidden ${config.text.hidden} (vocabulary ${vocabSize}${corpus ? ', the corpus tokenizer\'s target size' : `, ${config.tokenizer.path}`})`;
  }
  const img = config.image;
  const imageDesc = `ResNet-${img.depth}-${img.shortcut} width ${img.width}${img.selfAttention ? ' + self-attention' : ''}, trainable from ${img.trainableFrom}`;

  const pre = new ContrastiveModel(config, { size: vocabSize, padId: 1 }, config.seed, textEncoder);
  let pretrain: StageSummary;
  try {
    pretrain = {
      imageEncoder: countParams(pre.image),
      imageLocalHead: countParams(pre.imageLocalHead),
      textEncoder: countParams(pre.text, pre.textGlobalHead, pre.textLocalHead),
      crossAttention: countParams(pre.crossAttention),
      heads: countParams(pre.imageGlobalHead),
      lossWeights: countParams(pre.lossWeights),
      classifier: ZERO,
      total: countParams(pre),
    };
  } finally {
    pre.dispose();
  }
  const clf = new MarkerClassifier(config, config.seed);
  let finetune: StageSummary;
  try {
    finetune = {
      imageEncoder: countParams(clf.image),
      imageLocalHead: ZERO,
      textEncoder: ZERO,
      crossAttention: ZERO,
      heads: ZERO,
      lossWeights: ZERO,
      classifier: countParams(clf.head),
      total: countParams(clf),
    };
  } finally {
    clf.dispose();
  }
  return { pretrain, finetune, built: { imageEncoder: imageDesc, textEncoder: textDesc, vocabSize } };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** A plain-text table: one row per component, trainable and frozen for each stage. */
export function renderModelSummary(s: ModelSummary): string {
  const header = ['Component', 'Pretraining trainable', 'Pretraining frozen', 'Fine-tuning trainable', 'Fine-tuning frozen'];
  const rows = SUMMARY_COMPONENTS.map((k) => [
    COMPONENT_LABELS[k],
    fmt(s.pretrain[k].trainable),
    fmt(s.pretrain[k].frozen),
    fmt(s.finetune[k].trainable),
    fmt(s.finetune[k].frozen),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(0, -1).map(line),
    widths.map((w) => '-'.repeat(w)).join('  '),
    line(rows[rows.length - 1]!),
    '',
    `image: ${s.built.imageEncoder}`,
    `text:  ${s.built.textEncoder}`,
  ].join('\n');
}
