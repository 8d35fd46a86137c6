// Zero-shot classification from embeddings, as CLIP does it: each class is
// described by one or more prompt reports; a class's embedding is the mean
// of its prompts' L2-normalised text embeddings, renormalised; an image's
// score for a class is the cosine similarity of its global embedding with
// the class embedding, and its predicted class the highest score (the first
// class on ties). No label is used to classify; the labels given only
// evaluate: accuracy, and per class the one-vs-rest ROC AUC of that class's
// score (null when the evaluated images hold that class only or never), with
// the macro AUC the mean over the classes that have one.
// follows: METHOD.md §7 (zero-shot location, beyond the paper)
import { rocAuc } from './roc-auc';

export interface ZeroShotClass {
  label: string;
  /** text embeddings of the class's prompts (each of length D) */
  prompts: readonly (ArrayLike<number>)[];
}

export interface ZeroShotResult {
  classes: string[];
  /** scores[i][c]: cosine similarity of image i and class c */
  scores: number[][];
  /** predicted class label per image */
  predicted: string[];
}

export interface ZeroShotEvaluation extends ZeroShotResult {
  /** images evaluated */
  n: number;
  accuracy: number;
  /** one-vs-rest AUC per class label; null when the images hold one side only */
  auc: Record<string, number | null>;
  /** mean of the per-class AUCs that are defined; null when none is */
  macroAuc: number | null;
  /** classes the macro AUC averages */
  aucClasses: number;
}

function normalised(v: ArrayLike<number>, what: string): number[] {
  let ss = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new Error(`zeroShot: ${what} has a non-finite entry at ${i} (${v[i]})`);
    ss += v[i] * v[i];
  }
  const norm = Math.sqrt(ss);
  if (norm === 0) throw new Error(`zeroShot: ${what} is the zero vector; its direction is undefined`);
  return Array.from(v, (x) => x / norm);
}

/** The class embedding: the renormalised mean of the L2-normalised prompt embeddings. */
export function classEmbedding(prompts: readonly (ArrayLike<number>)[], label = 'class'): number[] {
  if (prompts.length === 0) throw new Error(`zeroShot: class '${label}' has no prompts`);
  const d = prompts[0].length;
  const sum = new Array<number>(d).fill(0);
  prompts.forEach((p, k) => {
    if (p.length !== d) throw new Error(`zeroShot: class '${label}' prompt ${k} has ${p.length} dimensions, prompt 0 has ${d}`);
    const u = normalised(p, `class '${label}' prompt ${k}`);
    for (let i = 0; i < d; i++) sum[i] += u[i];
  });
  return normalised(sum, `the mean prompt of class '${label}'`);
}

export function zeroShotClassify(images: readonly (ArrayLike<number>)[], classes: readonly ZeroShotClass[]): ZeroShotResult {
  if (classes.length < 2) throw new Error(`zeroShot: needs at least 2 classes, got ${classes.length}`);
  const labels = classes.map((c) => c.label);
  if (new Set(labels).size !== labels.length) throw new Error(`zeroShot: class labels repeat (${labels.join(', ')})`);
  const emb = classes.map((c) => classEmbedding(c.prompts, c.label));
  const d = emb[0].length;
  emb.forEach((e, c) => {
    if (e.length !== d) throw new Error(`zeroShot: class '${labels[c]}' has ${e.length}-dimensional prompts, class '${labels[0]}' ${d}`);
  });
  const scores = images.map((img, i) => {
    if (img.length !== d) throw new Error(`zeroShot: image ${i} has a ${img.length}-dimensional embedding, the prompts ${d}`);
    const u = normalised(img, `image ${i}'s embedding`);
    return emb.map((e) => e.reduce((s, x, j) => s + x * u[j], 0));
  });
  const predicted = scores.map((row) => labels[row.reduce((best, s, c) => (s > row[best] ? c : best), 0)]);
  return { classes: labels, scores, predicted };
}

/** Classify, then evaluate against the images' true labels (one per image). */
export function zeroShotEvaluate(images: readonly (ArrayLike<number>)[], classes: readonly ZeroShotClass[], truth: readonly string[]): ZeroShotEvaluation {
  if (images.length === 0) throw new Error('zeroShot: no images');
  if (truth.length !== images.length) throw new Error(`zeroShot: ${images.length} images but ${truth.length} labels`);
  const r = zeroShotClassify(images, classes);
  truth.forEach((t, i) => {
    if (!r.classes.includes(t)) throw new Error(`zeroShot: image ${i} is labelled '${t}', which is none of the classes (${r.classes.join(', ')})`);
  });
  const accuracy = r.predicted.filter((p, i) => p === truth[i]).length / images.length;
  const auc: Record<string, number | null> = {};
  const defined: number[] = [];
  r.classes.forEach((label, c) => {
    const y = truth.map((t) => (t === label ? 1 : 0));
    const pos = y.reduce((s: number, v) => s + v, 0);
    if (pos === 0 || pos === y.length) auc[label] = null;
    else {
      auc[label] = rocAuc(r.scores.map((row) => row[c]), y);
      defined.push(auc[label] as number);
    }
  });
  const macroAuc = defined.length ? defined.reduce((s, a) => s + a, 0) / defined.length : null;
  return { ...r, n: images.length, accuracy, auc, macroAuc, aucClasses: defined.length };
}
