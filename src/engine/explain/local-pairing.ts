// Does a pretrained model's local representation read the other modality?
// (docs/METHOD.md §5, loss.localNegatives.) The local loss compares a case's
// local embeddings with their cross-attended counterpart: v (patches) with
// v̂ (the patches asking the report's words), w (words) with ŵ (the words
// asking the image's patches). If v̂ is as close to v when the image asks
// *another* report's words, the counterpart carries nothing of the report
// (and likewise ŵ of the image): the local loss is then met by each
// modality's own queries. For a batch of n ≥ 2 cases, image i is given its
// own report and report i + 1 (mod n):
//
//   image: own = cos(v_i, v̂_{i←i}), otherReport = cos(v_i, v̂_{i←i+1})
//   text:  own = cos(w_j, ŵ_{j←j}), otherImage = cos(w_j, ŵ_{j←j−1})
//
// cosines of each case's flattened vectors, padded word slots zeroed, as
// the loss takes them; and, as loss.localKind "word" takes them, each word
// scored on its own and the scores aggregated over the report's real words
// (1/γ) ln Σ_j exp(γ · cos(w_{j,k}, ŵ_{j,k})), γ = loss.localWordSharpness:
//
//   words: own = Z(report j, image j), otherImage = Z(report j, image j−1)
//
// Evaluation mode; no mask is read.
import { tf } from '../backend';
import { DEFAULT_LOCAL_WORD_SHARPNESS, type ExperimentConfig } from '../../shared/config';
import type { ContrastiveModel, ContrastiveOutput } from '../model/contrastive';
import { rowCosine } from '../losses/cosine';
import { realWordMask, wordScores } from '../losses/local-triplet';
import type { TextBatch } from '../networks/text-batch';

export interface LocalPairingCase {
  image: { own: number; otherReport: number };
  text: { own: number; otherImage: number };
  /** the word-level scores (loss.localKind "word") */
  words: { own: number; otherImage: number };
}

export interface LocalPairingSummary {
  cases: number;
  /** means over the cases; difference = own − other */
  image: { own: number; otherReport: number; difference: number };
  text: { own: number; otherImage: number; difference: number };
  words: { own: number; otherImage: number; difference: number };
}

/** γ of the word-level scores: the config's, or the default for a run configured before the option existed. */
export function wordSharpness(config: ExperimentConfig): number {
  return config.loss.localWordSharpness ?? DEFAULT_LOCAL_WORD_SHARPNESS;
}

/** Below this difference in all three the local representation does not read the other modality. */
export const LOCAL_PAIRING_FLOOR = 0.01;

/** cos of each case's flattened vectors (the local loss's cosine), as numbers. */
export function caseCosines(a: tf.Tensor, b: tf.Tensor): number[] {
  return tf.tidy(() => {
    const n = a.shape[0]!;
    return Array.from(rowCosine(a.reshape([n, -1]) as tf.Tensor2D, b.reshape([n, -1]) as tf.Tensor2D).dataSync());
  });
}

/**
 * From the model's outputs for a batch of n ≥ 2 cases with their own reports
 * (`own`) and with report (i + 1) mod n in slot i (`shifted`): case k is image
 * k (own report vs report k + 1) and report k (own image vs image k − 1);
 * `sharpness` is γ of the word-level scores.
 */
export function localPairingFromOutputs(own: ContrastiveOutput, shifted: ContrastiveOutput, sharpness: number): LocalPairingCase[] {
  const n = own.imageLocal.shape[0];
  if (n < 2) throw new Error(`localPairingFromOutputs: needs at least 2 cases, got ${n}`);
  return tf.tidy(() => {
    const mo = own.wordMask.expandDims(2);
    const ms = shifted.wordMask.expandDims(2);
    const imageOwn = caseCosines(own.imageLocal, own.cross.reportWeightedImage);
    const imageOther = caseCosines(shifted.imageLocal, shifted.cross.reportWeightedImage);
    const textOwn = caseCosines(own.textLocal.mul(mo), own.cross.imageWeightedText.mul(mo));
    // slot i of the shifted batch: report i + 1 asking image i
    const shiftedText = caseCosines(shifted.textLocal.mul(ms), shifted.cross.imageWeightedText.mul(ms));
    const wordsOwn = Array.from(wordScores(own.textLocal, own.cross.imageWeightedText, realWordMask(own.wordMask), sharpness).dataSync());
    const wordsShifted = Array.from(wordScores(shifted.textLocal, shifted.cross.imageWeightedText, realWordMask(shifted.wordMask), sharpness).dataSync());
    return imageOwn.map((o, k) => ({
      image: { own: o, otherReport: imageOther[k]! },
      text: { own: textOwn[k]!, otherImage: shiftedText[(k - 1 + n) % n]! },
      words: { own: wordsOwn[k]!, otherImage: wordsShifted[(k - 1 + n) % n]! },
    }));
  });
}

/** The same from the images and the two text batches (`shifted` holds report (i + 1) mod n in slot i); eval mode. */
export function localPairingBatch(model: ContrastiveModel, images: tf.Tensor5D, own: TextBatch, shifted: TextBatch): LocalPairingCase[] {
  const n = images.shape[0];
  if (n < 2) throw new Error(`localPairingBatch: needs at least 2 cases, got ${n}`);
  let cases: LocalPairingCase[] = [];
  tf.tidy(() => {
    const [withOwn, withShifted] = model.forwardReports(images, [own, shifted]); // the image encoder runs once
    cases = localPairingFromOutputs(withOwn!, withShifted!, wordSharpness(model.config));
  });
  return cases;
}

export function summarizeLocalPairing(cases: readonly LocalPairingCase[]): LocalPairingSummary | null {
  if (!cases.length) return null;
  const mean = (f: (c: LocalPairingCase) => number) => cases.reduce((s, c) => s + f(c), 0) / cases.length;
  const image = { own: mean((c) => c.image.own), otherReport: mean((c) => c.image.otherReport) };
  const text = { own: mean((c) => c.text.own), otherImage: mean((c) => c.text.otherImage) };
  const words = { own: mean((c) => c.words.own), otherImage: mean((c) => c.words.otherImage) };
  return {
    cases: cases.length,
    image: { ...image, difference: image.own - image.otherReport },
    text: { ...text, difference: text.own - text.otherImage },
    words: { ...words, difference: words.own - words.otherImage },
  };
}

/** What a local representation that does not read the other modality means (the pretraining warning and the study report). */
export const LOCAL_PAIRING_SHORTCUT = "the local loss is met by each modality's own queries, so the cross-attention maps say nothing about the pairing";

/** A summary as stored; `words` is absent in runs from before the word-level scores. */
export type StoredLocalPairing = Omit<LocalPairingSummary, 'words'> & { words?: LocalPairingSummary['words'] };

/** True when neither modality's counterpart depends on the other modality's content, flattened or word by word (where measured). */
export function localPairingDegenerate(s: StoredLocalPairing): boolean {
  return [s.image, s.text, ...(s.words ? [s.words] : [])].every((d) => Math.abs(d.difference) < LOCAL_PAIRING_FLOOR);
}

/**
 * The pretraining's warning when the local representation does not read the
 * other modality on the export's `pairs` (held-out or training); undefined
 * when it does.
 */
export function localPairingWarning(stage: string, pairs: string, p: LocalPairingSummary): string | undefined {
  if (!localPairingDegenerate(p)) return undefined;
  return `${stage}: the local representation does not read the other modality: on the ${pairs} pairs an image's report-weighted patches are as close to its patches with another case's report (cosine ${p.image.own.toFixed(3)} vs ${p.image.otherReport.toFixed(3)}) and a report's image-weighted words to its words with another image (${p.text.own.toFixed(3)} vs ${p.text.otherImage.toFixed(3)}; word by word ${p.words.own.toFixed(3)} vs ${p.words.otherImage.toFixed(3)}); ${LOCAL_PAIRING_SHORTCUT} (docs/METHOD.md §5; loss.localNegatives "crossed" with loss.localKind "infonce" removes it)`;
}
