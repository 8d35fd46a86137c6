// Zero-shot tumour location after pretraining: the prompt reports of each
// location (eval.zeroShot.prompts) go through the text encoder and its global
// head; each image's global embedding is classified by cosine similarity
// (metrics/zero-shot.ts, CLIP's recipe). The cases' location labels only
// evaluate: accuracy and one-vs-rest AUC per location, macro AUC.
// follows: METHOD.md §7 (zero-shot location, beyond the paper)
import { tf } from '../backend';
import type { ContrastiveModel } from '../model/contrastive';
import { l2Normalize } from '../networks/heads';
import { disposeTextBatch, type EncodingLike } from '../networks/text-batch';
import { zeroShotEvaluate, type ZeroShotEvaluation } from '../metrics/zero-shot';

/** The texts' L2-normalised global embeddings (the text side of the global loss), in batches. */
export function textGlobalEmbeddings(model: ContrastiveModel, encodings: readonly EncodingLike[], batchSize = 8): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < encodings.length; i += batchSize) {
    const tb = model.text.batch(encodings.slice(i, i + batchSize));
    try {
      const emb = tf.tidy(() => {
        const txt = model.text.forward(
          { inputIds: tb.inputIds, attentionMask: tb.attentionMask, globalAttentionMask: tb.globalAttentionMask, wordIndex: tb.wordIndex, maxWords: tb.maxWords },
          { training: false },
        );
        return (l2Normalize(model.textGlobalHead.apply(txt.cls)) as tf.Tensor2D).arraySync();
      });
      out.push(...emb);
    } finally {
      disposeTextBatch(tb);
    }
  }
  return out;
}

export interface ZeroShotLocation extends Omit<ZeroShotEvaluation, 'scores' | 'predicted'> {
  /** the prompts per location label */
  prompts: Record<string, string[]>;
  /** per evaluated case: its label, the prediction and the class scores (in `classes` order) */
  perCase: { id: string; location: string; predicted: string; scores: number[] }[];
  /** cases left out: no location, or a location without prompts */
  excluded: number;
}

/**
 * Zero-shot location of the images (their global embeddings) from the prompts;
 * null with fewer than two locations prompted or no case labelled with one.
 */
export function zeroShotLocation(
  model: ContrastiveModel,
  encode: (text: string) => EncodingLike,
  prompts: Record<string, readonly string[]>,
  images: readonly { id: string; location?: string; embedding: readonly number[] }[],
): ZeroShotLocation | null {
  const labels = Object.keys(prompts);
  if (labels.length < 2) return null;
  const used = images.filter((c) => c.location !== undefined && labels.includes(c.location));
  if (used.length === 0) return null;
  const texts = labels.flatMap((l) => prompts[l]!.map((t) => t));
  const emb = textGlobalEmbeddings(model, texts.map(encode));
  let k = 0;
  const classes = labels.map((label) => ({ label, prompts: prompts[label]!.map(() => emb[k++]!) }));
  const e = zeroShotEvaluate(
    used.map((c) => c.embedding),
    classes,
    used.map((c) => c.location!),
  );
  return {
    classes: e.classes,
    n: e.n,
    accuracy: e.accuracy,
    auc: e.auc,
    macroAuc: e.macroAuc,
    aucClasses: e.aucClasses,
    prompts: Object.fromEntries(labels.map((l) => [l, [...prompts[l]!]])),
    perCase: used.map((c, i) => ({ id: c.id, location: c.location!, predicted: e.predicted[i]!, scores: e.scores[i]! })),
    excluded: images.length - used.length,
  };
}
