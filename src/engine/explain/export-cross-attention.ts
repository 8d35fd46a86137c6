// After pretraining: the cross-attention of every internal case with a
// report (S_A: the words each patch attends to; S_B: the patches each word
// attends to), saved per case for the report-attention views.
// follows: METHOD.md §4
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend';
import { DEFAULT_ZERO_SHOT_PROMPTS, type ExperimentConfig } from '../../shared/config';
import { ContrastiveModel, type ContrastiveOutput } from '../model/contrastive';
import { volumesToInput } from '../networks/image-input';
import { disposeTextBatch } from '../networks/text-batch';
import { loadTokenizer, type ReportTokenizer } from '../text/tokenizer';
import { loadModelWeights } from '../training/checkpoint';
import type { Dataset } from '../training/dataset';
import type { CaseRecord } from '../data/manifest';
import { pretrainingCases, pretrainSplit } from '../training/dataset';
import { saveCrossAttention } from './cross-attention-io';
import { loadHfTextEncoder } from '../networks/hf-text';
import { retrievalByLocation, retrievalRanks, RETRIEVAL_KS, type RetrievalByLocation } from '../metrics/retrieval-ranks';
import { embeddingSpread, type EmbeddingSpread } from '../metrics/embedding-spread';
import { labelNeighbours, type LabelNeighbours, type LocationNeighbours } from '../metrics/label-neighbours';
import { readJson, writeJsonAtomic } from '../training/run-folder';
import { caseFile } from '../io/safe-path';
import { zeroShotLocation, type ZeroShotLocation } from './zero-shot-location';
import { localPairingFromOutputs, wordSharpness, summarizeLocalPairing, type LocalPairingCase, type LocalPairingSummary } from './local-pairing';

/**
 * A pretraining stage's model as it finished: the stage's tokenizer, the
 * contrastive model of `config` (with its pretrained text encoder, where
 * `text.pretrained` names one) and the stage's weights. The caller disposes
 * the model.
 */
export async function loadStageModel(config: ExperimentConfig, stageDir: string): Promise<{ tokenizer: ReportTokenizer; model: ContrastiveModel }> {
  const tokenizer = loadTokenizer(join(stageDir, 'tokenizer.json'));
  const text = config.text.pretrained
    ? (await loadHfTextEncoder(config.text.pretrained, { globalCls: config.text.globalCls, maxWords: config.text.maxWords })).encoder
    : undefined;
  const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, config.seed, text);
  try {
    loadModelWeights(join(stageDir, 'model.safetensors'), model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { tokenizer, model };
}

/**
 * The pairs retrieval, zero-shot and the spread are measured on: the
 * held-out pairs (pretrain.heldOut), else the training pairs. `evaluated`:
 * their indices in `cases` (the internal cases with a report).
 */
function retrievalPairs(ds: Dataset): { cases: CaseRecord[]; held: Set<string>; pairs: 'held-out' | 'training'; evaluated: number[] } {
  const cases = pretrainingCases(ds);
  const held = new Set(pretrainSplit(ds).heldOut.map((c) => c.id));
  return { cases, held, pairs: held.size ? 'held-out' : 'training', evaluated: cases.flatMap((c, i) => (!held.size || held.has(c.id) ? [i] : [])) };
}

/** Image i against report j: embeddings are L2-normalised, so the dot product is the cosine similarity. */
function pairSimilarities(imageEmb: readonly (readonly number[])[], textEmb: readonly (readonly number[])[]): number[][] {
  return imageEmb.map((a) => textEmb.map((b) => a.reduce((s, v, i) => s + v * b[i]!, 0)));
}

/** Pairs as the model takes them: the images, the reports' encodings and their text batch (the caller disposes x and tb). */
function pairBatch(ds: Dataset, tokenizer: ReportTokenizer, model: ContrastiveModel, batch: readonly CaseRecord[]) {
  const encodings = batch.map((c) => tokenizer.encode(ds.report(c)!, { maxTokens: model.text.maxTokens }));
  const x = volumesToInput(
    batch.map((c) => ds.image(c)),
    batch.map((c) => c.id),
  );
  return { x, encodings, tb: model.text.batch(encodings) };
}

export interface CrossAttentionExport {
  files: string[];
  /**
   * which pairs retrieval and zero-shot were measured on: 'held-out' (kept
   * out of pretraining by pretrain.heldOut) or 'training' (heldOut 0: the
   * pairs pretraining learnt from, so they measure fit, not generalisation)
   */
  pairs: 'held-out' | 'training';
  /**
   * image↔report retrieval over the `pairs` (cosine of the global
   * embeddings): 'recall@1', 'recall@5', 'recall@10', 'medianRank', 'meanRank'
   * (1-based rank of the true item, ties counted against the query)
   */
  retrieval: Record<string, { imageToReport: number; reportToImage: number }>;
  /** the same figures for a similarity that ignores the pairing: recall@k = k/N, ranks (N + 1)/2 */
  chance: Record<string, number>;
  /**
   * the wrong items ranked above each true item, split into those of the
   * query's tumour location and those of other locations, against chance;
   * null when an evaluated case has no location
   */
  byLocation: RetrievalByLocation | null;
  /**
   * whether the local representation reads the other modality, on the
   * `pairs` (retrieval.json `localPairing`; explain/local-pairing.ts); null
   * when no batch had two cases
   */
  localPairing: LocalPairingSummary | null;
  /** zero-shot location of the same images from eval.zeroShot.prompts (zero-shot.json); null when not computed */
  zeroShot: ZeroShotLocation | null;
  /**
   * whether the global embeddings are organised by tumour location: within
   * the images and within the reports, the share of each item's nearest other
   * item with its location, against chance, on the evaluated pairs and (when
   * they are held out) on the training pairs; null when a case has no location
   */
  locationNeighbours: LocationNeighbours | null;
  /** whether the global embeddings are collapsed, on the `pairs` (retrieval.json `globalSpread`); null with fewer than 2 pairs */
  globalSpread: EmbeddingSpread | null;
  /** the ε of the global heads' input standardisation (heads.globalInputNormEps), null when they do not standardise */
  standardisedEps: number | null;
}

/**
 * Location neighbours of the cases at `idx` (global embeddings of both
 * modalities), or null when one has no location, or when they are fewer than
 * 2 or share one location (the measure would be 1 = chance for any model).
 */
export function locationNeighboursOf(
  idx: number[],
  locations: readonly (string | undefined)[],
  imageEmb: number[][],
  textEmb: number[][],
  what: string,
): { image: LabelNeighbours; report: LabelNeighbours } | null {
  const labels = idx.map((i) => locations[i]);
  if (idx.length < 2 || !labels.every((l): l is string => l !== undefined) || new Set(labels).size < 2) return null;
  return {
    image: labelNeighbours(idx.map((i) => imageEmb[i]!), labels, `${what} image embeddings`),
    report: labelNeighbours(idx.map((i) => textEmb[i]!), labels, `${what} report embeddings`),
  };
}

export async function exportCrossAttention(config: ExperimentConfig, ds: Dataset, stageDir: string): Promise<CrossAttentionExport> {
  // retrieval and zero-shot on the held-out pairs (pretrain.heldOut), else on the training pairs
  const { cases, held, pairs, evaluated } = retrievalPairs(ds);
  // every file name first: a bad case id fails the export before anything is read or written
  const attentionDir = join(stageDir, 'attention');
  const paths = new Map(cases.map((c) => [c, caseFile(attentionDir, c.id, '.json', stageDir)]));
  const { tokenizer, model } = await loadStageModel(config, stageDir);
  const written: string[] = [];
  const pairing = new Map<number, LocalPairingCase>();
  const imageEmb: number[][] = [];
  const textEmb: number[][] = [];
  let zeroShot: ZeroShotLocation | null = null;
  // the ε the loaded heads use (an older run's config may not name it)
  const standardisedEps = model.textGlobalHead.inputNorm?.eps ?? null;
  try {
    const bs = Math.max(1, Math.min(config.pretrain.batchSize, 8));
    for (let i = 0; i < cases.length; i += bs) {
      const batch = cases.slice(i, i + bs);
      const { x, encodings, tb } = pairBatch(ds, tokenizer, model, batch);
      // follows: METHOD.md §5 (the local loss's shortcut): each image with the next case's report as well
      const shifted = batch.length >= 2 ? model.text.batch(batch.map((_, k) => encodings[(k + 1) % batch.length]!)) : undefined;
      try {
        const [sA, sB, mask, grid, ig, tg] = tf.tidy(() => {
          // the image encoder runs once for both report batches
          const [out, withShifted] = model.forwardReports(x, shifted ? [tb, shifted] : [tb]) as [ContrastiveOutput, ContrastiveOutput?];
          if (withShifted) localPairingFromOutputs(out, withShifted, wordSharpness(config)).forEach((p, k) => pairing.set(i + k, p));
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
        if (shifted) disposeTextBatch(shifted);
      }
    }
    // an older run's config has no eval section: the default prompts then
    zeroShot = zeroShotLocation(
      model,
      (t) => tokenizer.encode(t, { maxTokens: model.text.maxTokens }),
      config.eval?.zeroShot?.prompts ?? DEFAULT_ZERO_SHOT_PROMPTS,
      evaluated.map((i) => ({ id: cases[i]!.id, location: cases[i]!.location, embedding: imageEmb[i]! })),
    );
  } finally {
    model.dispose();
  }
  const sim = pairSimilarities(evaluated.map((i) => imageEmb[i]!), evaluated.map((i) => textEmb[i]!));
  // follows: METHOD.md §7 (retrieval recall@k, median and mean rank, against chance)
  const r = retrievalRanks(sim);
  const retrieval: CrossAttentionExport['retrieval'] = {};
  const chance: CrossAttentionExport['chance'] = {};
  for (const k of RETRIEVAL_KS) {
    retrieval[`recall@${k}`] = { imageToReport: r.imageToReport.recallAt[k]!, reportToImage: r.reportToImage.recallAt[k]! };
    chance[`recall@${k}`] = r.chance.recallAt[k]!;
  }
  for (const m of ['medianRank', 'meanRank'] as const) {
    retrieval[m] = { imageToReport: r.imageToReport[m], reportToImage: r.reportToImage[m] };
    chance[m] = r.chance[m];
  }
  // each query's rank: the report draws the whole recall@k curve (k = 1…N) from them
  const ranks = { imageToReport: r.imageToReport.ranks, reportToImage: r.reportToImage.ranks };
  // locations evaluate only: which of the misses share the query's location
  const allLocations = cases.map((c) => c.location);
  const locations = evaluated.map((i) => allLocations[i]);
  const byLocation = locations.every((l): l is string => l !== undefined) ? retrievalByLocation(sim, locations) : null;
  // is the location what is close? within each modality, held-out pairs against the training pairs
  const evaluatedNeighbours = locationNeighboursOf(evaluated, allLocations, imageEmb, textEmb, `${pairs} pairs'`);
  const trainingIdx = held.size ? cases.flatMap((c, i) => (held.has(c.id) ? [] : [i])) : [];
  const locationNeighbours: LocationNeighbours | null = evaluatedNeighbours
    ? { evaluated: evaluatedNeighbours, training: locationNeighboursOf(trainingIdx, allLocations, imageEmb, textEmb, "training pairs'") }
    : null;
  const localPairing = summarizeLocalPairing(evaluated.flatMap((i) => (pairing.has(i) ? [pairing.get(i)!] : [])));
  // are the global embeddings collapsed? (the pairs retrieval is measured on)
  const globalSpread = evaluated.length >= 2 ? embeddingSpread(evaluated.map((i) => imageEmb[i]!), evaluated.map((i) => textEmb[i]!)) : null;
  writeJsonAtomic(join(stageDir, 'retrieval.json'), {
    pairs,
    cases: sim.length,
    ...retrieval,
    chance,
    ranks,
    ...(byLocation ? { byLocation } : {}),
    ...(locationNeighbours ? { locationNeighbours } : {}),
    ...(localPairing ? { localPairing } : {}),
    ...(globalSpread ? { globalSpread } : {}),
  });
  if (zeroShot) writeJsonAtomic(join(stageDir, 'zero-shot.json'), { pairs, ...zeroShot });
  return { files: written, pairs, retrieval, chance, byLocation, zeroShot, locationNeighbours, localPairing, globalSpread, standardisedEps };
}

/** What `addGlobalSpread` measured and wrote. */
export interface GlobalSpreadBackfill {
  pairs: 'held-out' | 'training';
  globalSpread: EmbeddingSpread;
  standardisedEps: number | null;
  /** false when retrieval.json already held it (nothing written) */
  written: boolean;
}

/**
 * For a pretraining stage exported before retrieval.json recorded
 * `globalSpread`: the same global embeddings of the pairs retrieval was
 * measured on (pretrain/split.json's held-out pairs, else the training
 * pairs), from the stage's model; the retrieval they give must be the stored
 * one (else the model or the data is not what the stage measured, and nothing
 * is written). retrieval.json is rewritten atomically with `globalSpread`
 * added, every other field unchanged. `mrcl evaluate RUN --global-spread`.
 */
export async function addGlobalSpread(config: ExperimentConfig, ds: Dataset, stageDir: string): Promise<GlobalSpreadBackfill> {
  const path = join(stageDir, 'retrieval.json');
  if (!existsSync(path)) throw new Error(`${path}: missing (the pretraining stage did not finish its export)`);
  const stored = readJson<Record<string, unknown> & { pairs?: string; cases?: number; globalSpread?: EmbeddingSpread }>(path);
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw new Error(`${path}: not a retrieval file (a JSON object with "pairs", "cases" and recall@k)`);
  const { cases: all, pairs, evaluated: idx } = retrievalPairs(ds);
  const evaluated = idx.map((i) => all[i]!);
  if (stored.pairs !== pairs || stored.cases !== evaluated.length) {
    throw new Error(`${path}: measured on ${String(stored.cases)} ${String(stored.pairs)} pairs, but the run's dataset and split give ${evaluated.length} ${pairs} pairs`);
  }
  if (evaluated.length < 2) throw new Error(`${path}: the spread needs at least 2 pairs, the stage has ${evaluated.length}`);
  const { tokenizer, model } = await loadStageModel(config, stageDir);
  const standardisedEps = model.textGlobalHead.inputNorm?.eps ?? null;
  const imageEmb: number[][] = [];
  const textEmb: number[][] = [];
  try {
    const bs = Math.max(1, Math.min(config.pretrain.batchSize, 8));
    for (let i = 0; i < evaluated.length; i += bs) {
      const { x, tb } = pairBatch(ds, tokenizer, model, evaluated.slice(i, i + bs));
      try {
        const [ig, tg] = tf.tidy(() => {
          const [out] = model.forwardReports(x, [tb]) as [ContrastiveOutput];
          return [out.imageGlobal.arraySync(), out.textGlobal.arraySync()] as const;
        });
        imageEmb.push(...ig);
        textEmb.push(...tg);
      } finally {
        x.dispose();
        disposeTextBatch(tb);
      }
    }
  } finally {
    model.dispose();
  }
  // the same embeddings as the export's: they must rank as the stored retrieval did
  const r = retrievalRanks(pairSimilarities(imageEmb, textEmb));
  for (const k of RETRIEVAL_KS) {
    const s = stored[`recall@${k}`] as { imageToReport?: number; reportToImage?: number } | undefined;
    for (const d of ['imageToReport', 'reportToImage'] as const) {
      const now = r[d].recallAt[k]!;
      if (typeof s?.[d] !== 'number' || Math.abs(s[d]! - now) > 1e-9) {
        throw new Error(`${path}: recall@${k} ${d} is ${String(s?.[d])} there but ${now} from the stage's model now: the model, tokenizer or images are not the ones the stage measured; nothing written`);
      }
    }
  }
  const globalSpread = embeddingSpread(imageEmb, textEmb);
  const written = stored.globalSpread === undefined;
  if (written) writeJsonAtomic(path, { ...stored, globalSpread });
  return { pairs, globalSpread: written ? globalSpread : stored.globalSpread!, standardisedEps, written };
}
