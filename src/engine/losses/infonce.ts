// Symmetric InfoNCE (CLIP-style) over in-batch negatives, the
// "contrastive loss" ablation:
//
//   S = Î·T̂ᵀ / τ   (rows L2-normalised)
//   L = ½ [ −1/N Σ_i log softmax_j(S)_{i,i} − 1/N Σ_i log softmax_j(Sᵀ)_{i,i} ]
//
// follows: METHOD.md §5 (ablation "contrastive loss")
import { tf } from '../backend';
import { l2NormalizeRows } from './cosine';
import { checkPair } from './global-triplet';

export interface InfoNceOptions {
  /** τ, default 0.07 */
  temperature?: number;
}

const WHERE = 'infoNceLoss';

export function infoNceLoss(image: tf.Tensor2D, text: tf.Tensor2D, options: InfoNceOptions = {}): tf.Scalar {
  const n = checkPair(image, text, WHERE);
  if (n < 1) throw new Error(`${WHERE}: empty batch`);
  const tau = checkTemperature(options.temperature ?? 0.07, WHERE);
  return tf.tidy(() => symmetricInfoNce(tf.matMul(l2NormalizeRows(image), l2NormalizeRows(text), false, true), tau));
}

/** τ of an InfoNCE: a finite number > 0, else an error naming `where`. */
export function checkTemperature(tau: number, where: string): number {
  if (!Number.isFinite(tau) || tau <= 0) throw new Error(`${where}: temperature must be a finite number > 0, got ${tau}`);
  return tau;
}

/** ½ [CE over the rows + CE over the columns] of the [N, N] similarities S / τ, the positives on the diagonal. */
export function symmetricInfoNce(similarities: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const n = similarities.shape[0];
    const logits = tf.div(similarities, tf.scalar(tau));
    const eye = tf.eye(n);
    // −mean of the diagonal of the row-wise log-softmax, for S and Sᵀ
    const imageToText = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, 1), eye), 1)));
    const textToImage = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.transpose(logits), 1), eye), 1)));
    return tf.mul(tf.add(imageToText, textToImage), tf.scalar(0.5));
  });
}
