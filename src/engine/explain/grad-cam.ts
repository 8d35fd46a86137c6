// Grad-CAM (Selvaraju et al., ICCV 2017) of the fine-tuned marker classifier,
// a baseline for the self-attention heatmaps (METHOD.md §7, baseline
// explanations):
//   A   = the feature maps of the target layer, [X4, Y4, Z4, C] per case
//   y   = the classifier's single logit (the positive class, V600E)
//   w_c = mean over the positions of ∂y/∂A_c
//   map = ReLU(Σ_c w_c · A_c), on the layer4 grid
// The map then takes the attention maps' path (explainMap in dice-eval.ts):
// trilinear upsampling with align corners to the image grid, the same
// binarisation rule and threshold, Dice and foreground fraction.
//
// Target layer, named as MONAI's GradCAM(target_layers=…) names a module:
//   'layer4' (default): the output of the `layer4` residual stage, before the
//     `self_attention` block (a separate module, as in the authors' model), so
//     the gradient passes through the self-attention and the map is the
//     standard Grad-CAM of the last convolutional stage;
//   'self_attention': the block's output γ·attended + layer4. The classifier
//     averages it over the positions, so ∂y/∂A is the same at every position
//     and the map is ReLU(Σ_c ∂y/∂g_c · A_c)/P (g the pooled features): CAM
//     (Zhou et al., 2016), with the head's weights for the linear 'paper'
//     head.
// The class is the single logit: MONAI's default class (argmax of the
// logits) is that logit for a one-output network, for positive and negative
// cases alike. Eval mode: dropout off, BatchNorm on its running statistics,
// so the cases of a batch are independent and one backward pass of the summed
// logits gives each case its own gradient.
// MONAI upsamples with align_corners=False and min–max normalises; here the
// upsampling is the attention maps' (align corners), so the methods differ
// only in the map.
// follows: METHOD.md §7 (baseline explanations)
import { tf } from '../backend';
import type { MarkerClassifier } from '../model/classifier';
import { gridToVolumeOrder } from '../networks/image-input';
import { maxPool3d } from '../networks/layers/maxpool3d';
import type { ResNet3dEncoder } from '../networks/resnet3d';
import type { Grid3 } from './attention-map';

/** The module whose output Grad-CAM weighs (MONAI's `target_layers`). */
export type GradCamLayer = 'layer4' | 'self_attention';
export const GRAD_CAM_LAYERS: readonly GradCamLayer[] = ['layer4', 'self_attention'];

export interface GradCamOptions {
  /** 'layer4' (default: before the self-attention) or 'self_attention' (its output) */
  layer?: GradCamLayer;
}

export interface GradCamResult {
  /** one map per case on `grid`, Volume order (x fastest), ≥ 0 */
  maps: Float32Array[];
  /** the layer4 grid [X4, Y4, Z4] */
  grid: Grid3;
  /** each case's logit (the value Grad-CAM differentiates) */
  logits: number[];
}

type Classifier = Pick<MarkerClassifier, 'image' | 'head'>;

const EVAL = { training: false } as const;

/** The encoder's eval-mode forward pass up to the output of `layer4` (before the self-attention). */
export function encoderToLayer4(enc: ResNet3dEncoder, x: tf.Tensor5D): tf.Tensor5D {
  // the same sequence as ResNet3dEncoder.apply (dropouts are the identity in eval mode)
  return tf.tidy(() => {
    const [stem, drop1, drop2, drop3] = enc.dropouts;
    let h = enc.bn1.applyRelu(enc.conv1.apply(x), EVAL) as tf.Tensor5D;
    h = stem!.apply(maxPool3d(h, { kernel: 3, stride: 2, padding: 1 }), EVAL) as tf.Tensor5D;
    h = drop1!.apply(enc.layer1.apply(h, EVAL), EVAL) as tf.Tensor5D;
    h = drop2!.apply(enc.layer2.apply(h, EVAL), EVAL) as tf.Tensor5D;
    h = drop3!.apply(enc.layer3.apply(h, EVAL), EVAL) as tf.Tensor5D;
    return enc.layer4.apply(h, EVAL);
  });
}

/** The rest of the classifier from the target layer's output: [N] logits. */
function logitsFrom(model: Classifier, a: tf.Tensor5D, layer: GradCamLayer): tf.Tensor1D {
  return tf.tidy(() => {
    const sa = model.image.selfAttention;
    const out = layer === 'layer4' && sa ? sa.apply(a, EVAL).out : a;
    return model.head.apply(out.mean([1, 2, 3]) as tf.Tensor2D, false);
  });
}

/**
 * Grad-CAM maps of a batch `images` [N, X, Y, Z, 1] (volumesToInput). The
 * model is used in eval mode and left unchanged.
 */
export function gradCam(model: Classifier, images: tf.Tensor5D, options: GradCamOptions = {}): GradCamResult {
  const layer = options.layer ?? 'layer4';
  if (!GRAD_CAM_LAYERS.includes(layer)) throw new Error(`gradCam: layer must be one of ${GRAD_CAM_LAYERS.join(', ')}, got ${JSON.stringify(layer)}`);
  if (layer === 'self_attention' && !model.image.selfAttention) {
    throw new Error("gradCam: layer 'self_attention' needs an encoder with self-attention (image.selfAttention is false); use 'layer4'");
  }
  const [cams, logits] = tf.tidy(() => {
    const l4 = encoderToLayer4(model.image, images);
    const a = layer === 'layer4' ? l4 : model.image.selfAttention!.apply(l4, EVAL).out;
    // Σ over the batch: in eval mode each logit depends on its own case only
    const grads = tf.grad((t: tf.Tensor) => logitsFrom(model, t as tf.Tensor5D, layer).sum())(a);
    const weights = grads.mean([1, 2, 3], true); // [N, 1, 1, 1, C]
    return [tf.relu(a.mul(weights).sum(-1)), logitsFrom(model, a, layer)] as [tf.Tensor4D, tf.Tensor1D];
  });
  try {
    const [n, gx, gy, gz] = cams.shape;
    const grid: Grid3 = [gx, gy, gz];
    const values = cams.dataSync();
    const p = gx * gy * gz;
    const maps = Array.from({ length: n }, (_, b) => gridToVolumeOrder(values.subarray(b * p, (b + 1) * p), grid));
    return { maps, grid, logits: Array.from(logits.dataSync()) };
  } finally {
    tf.dispose([cams, logits]);
  }
}
