// After pretraining: the cross-attention of every internal case with a
// report (S_A: the words each patch attends to; S_B: the patches each word
// attends to), saved per case for the report-attention views.
// follows: METHOD.md §4
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { ContrastiveModel } from '../model/contrastive';
import { volumesToInput } from '../networks/image-input';
import { disposeTextBatch } from '../networks/text-batch';
import { loadTokenizer } from '../text/tokenizer';
import { loadModelWeights } from '../training/checkpoint';
import type { Dataset } from '../training/dataset';
import { pretrainingCases } from '../training/dataset';
import { saveCrossAttention } from './cross-attention-io';
import { loadHfTextEncoder } from '../networks/hf-text';
import { recallAtK } from '../metrics/retrieval';
import { writeJsonAtomic } from '../training/run-folder';
import { caseFile } from '../io/safe-path';

export interface CrossAttentionExport {
  files: string[];
  /** image↔report retrieval over the internal pairs (cosine of the global embeddings) */
  retrieval: Record<string, { imageToReport: number; reportToImage: number }>;
}

export async function exportCrossAttention(config: ExperimentConfig, ds: Dataset, stageDir: string): Promise<CrossAttentionExport> {
  const cases = pretrainingCases(ds);
  // every file name first: a bad case id fails the export before anything is read or written
  const attentionDir = join(stageDir, 'attention');
  const paths = new Map(cases.map((c) => [c, caseFile(attentionDir, c.id, '.json', stageDir)]));
  const tokenizer = loadTokenizer(join(stageDir, 'tokenizer.json'));
  const text = config.text.pretrained
    ? (await loadHfTextEncoder(config.text.pretrained, { globalCls: config.text.globalCls, maxWords: config.text.maxWords })).encoder
    : undefined;
  const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, config.seed, text);
  const written: string[] = [];
  const imageEmb: number[][] = [];
  const textEmb: number[][] = [];
  try {
    loadModelWeights(join(stageDir, 'model.safetensors'), model);
    const bs = Math.max(1, Math.min(config.pretrain.batchSize, 8));
    for (let i = 0; i < cases.length; i += bs) {
      const batch = cases.slice(i, i + bs);
      const x = volumesToInput(
        batch.map((c) => ds.image(c)),
        batch.map((c) => c.id),
      );
      const tb = model.text.batch(batch.map((c) => tokenizer.encode(ds.report(c)!, { maxTokens: model.text.maxTokens })));
      try {
        const [sA, sB, mask, grid, ig, tg] = tf.tidy(() => {
          const out = model.forward(x, tb, false);
          return [out.cross.scoresA.arraySync(), out.cross.scoresB.arraySync(), out.wordMask.arraySync(), out.patchGrid, out.imageGlobal.arraySync(), out.textGlobal.arraySync()] as const;
        });
        imageEmb.push(...ig);
        textEmb.push(...tg);
        batch.forEach((c, b) => {
          const realSlots = mask[b]!.flatMap((m, w) => (m > 0 ? [w] : []));
          const P = sA[b]!.length;
          const W = realSlots.length;
          const imageToText = new Float32Array(P * W);
          const textToImage = new Float32Array(W * P);
          for (let p = 0; p < P; p++) realSlots.forEach((w, j) => (imageToText[p * W + j] = sA[b]![p]![w]!));
          realSlots.forEach((w, j) => {
            for (let p = 0; p < P; p++) textToImage[j * P + p] = sB[b]![w]![p]!;
          });
          const path = paths.get(c)!;
          saveCrossAttention(path, {
            caseId: c.id,
            words: realSlots.map((w) => tb.words[b]![w] ?? ''),
            patchGrid: grid,
            imageToText,
            textToImage,
            reference: { image: c.image },
          });
          written.push(path);
        });
      } finally {
        x.dispose();
        disposeTextBatch(tb);
      }
    }
  } finally {
    model.dispose();
  }
  // embeddings are L2-normalised: the dot product is the cosine similarity
  const sim = imageEmb.map((a) => textEmb.map((b) => a.reduce((s, v, i) => s + v * b[i]!, 0)));
  const retrieval: CrossAttentionExport['retrieval'] = {};
  for (const k of [1, 5, 10]) retrieval[`recall@${k}`] = recallAtK(sim, Math.min(k, sim.length));
  writeJsonAtomic(join(stageDir, 'retrieval.json'), { cases: sim.length, ...retrieval });
  return { files: written, retrieval };
}
