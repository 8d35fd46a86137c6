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
// the loss takes them. Evaluation mode; no mask is read.
import { tf } from '../backend';
import type { ContrastiveModel } from '../model/contrastive';
import type { TextBatch } from '../networks/text-batch';

export interface LocalPairingCase {
  image: { own: number; otherReport: number };
  text: { own: number; otherImage: number };
}

export interface LocalPairingSummary {
  cases: number;
  /** means over the cases; difference = own − other */
  image: { own: number; otherReport: number; difference: number };
  text: { own: number; otherImage: number; difference: number };
}

/** Below this difference in both modalities the local representation does not read the other modality. */
export const LOCAL_PAIRING_FLOOR = 0.01;

function rowCosines(a: tf.Tensor, b: tf.Tensor): number[] {
  return tf.tidy(() => {
    const n = a.shape[0]!;
    const x = a.reshape([n, -1]);
    const y = b.reshape([n, -1]);
    const dot = x.mul(y).sum(1);
    const norms = x.norm('euclidean', 1).mul(y.norm('euclidean', 1)).maximum(1e-12);
    return Array.from(dot.div(norms).dataSync());
  });
}

/**
 * Case k of the result is image k (own report vs report k + 1) and report k
 * (own image vs image k − 1). `shifted` holds report (i + 1) mod n in slot i.
 */
export function localPairingBatch(model: ContrastiveModel, images: tf.Tensor5D, own: TextBatch, shifted: TextBatch): LocalPairingCase[] {
  const n = images.shape[0];
  if (n < 2) throw new Error(`localPairingBatch: needs at least 2 cases, got ${n}`);
  return tf.tidy(() => {
    const o = model.forward(images, own, false);
    const s = model.forward(images, shifted, false);
    const mo = o.wordMask.expandDims(2);
    const ms = s.wordMask.expandDims(2);
    const imageOwn = rowCosines(o.imageLocal, o.cross.reportWeightedImage);
    const imageOther = rowCosines(s.imageLocal, s.cross.reportWeightedImage);
    const textOwn = rowCosines(o.textLocal.mul(mo), o.cross.imageWeightedText.mul(mo));
    // slot i of the shifted batch: report i + 1 asking image i
    const shiftedText = rowCosines(s.textLocal.mul(ms), s.cross.imageWeightedText.mul(ms));
    return imageOwn.map((own, k) => ({
      image: { own, otherReport: imageOther[k]! },
      text: { own: textOwn[k]!, otherImage: shiftedText[(k - 1 + n) % n]! },
    }));
  });
}

export function summarizeLocalPairing(cases: readonly LocalPairingCase[]): LocalPairingSummary | null {
  if (!cases.length) return null;
  const mean = (f: (c: LocalPairingCase) => number) => cases.reduce((s, c) => s + f(c), 0) / cases.length;
  const image = { own: mean((c) => c.image.own), otherReport: mean((c) => c.image.otherReport) };
  const text = { own: mean((c) => c.text.own), otherImage: mean((c) => c.text.otherImage) };
  return {
    cases: cases.length,
    image: { ...image, difference: image.own - image.otherReport },
    text: { ...text, difference: text.own - text.otherImage },
  };
}

/** True when neither modality's counterpart depends on the other modality's content. */
export function localPairingDegenerate(s: LocalPairingSummary): boolean {
  return Math.abs(s.image.difference) < LOCAL_PAIRING_FLOOR && Math.abs(s.text.difference) < LOCAL_PAIRING_FLOOR;
}
