// The pretraining model: 3D ResNet (+ self-attention) and Longformer
// encoders, global and local projection heads, the two cross-attention
// modules, and the learnable loss weights — one module tree, so a single
// state dict (PyTorch names) holds everything a checkpoint needs.
// follows: METHOD.md §2–§5
import { tf } from '../backend';
import { localWordKindProblem, type ExperimentConfig } from '../../shared/config';
import { Module } from '../networks/module';
import { resnet3dFromConfig, type ResNet3dEncoder } from '../networks/resnet3d';
import { createTextEncoder, type LongformerEncoder } from '../networks/longformer';
import type { VocabInfo } from '../networks/longformer-config';
import { createProjectionHeads, l2Normalize, type GlobalHead, type LocalImageHead, type LocalTextHead } from '../networks/heads';
import { foregroundPatches } from '../networks/foreground';
import { createCrossAttention, LearnedCrossAttention, type CrossAttention, type CrossAttentionOutput } from '../networks/cross-attention';
import type { TextBatch } from '../networks/text-batch';
import { globalTripletLoss, localTripletLoss, infoNceLoss, combineLosses } from '../losses';
import { crossedLocalCosines, crossedWordScores, localInfoNceLoss, wordLocalLoss, type CrossedAttend, type CrossedAttendWords } from '../losses/local-triplet';
import type { Rng } from '../util/rng';
import { hashSeed } from '../util/rng';
import { Dropout } from '../networks/layers/dropout';

/** s_G and s_L of the learned weighting (α = exp(−s_G), β = exp(−s_L)), init 0. */
class LossWeightParams extends Module {
  readonly sG: tf.Variable;
  readonly sL: tf.Variable;
  constructor() {
    super();
    this.sG = this.param('s_G', tf.scalar(0));
    this.sL = this.param('s_L', tf.scalar(0));
  }
}

export interface ContrastiveOutput {
  /** L2-normalised global embeddings [N, globalDim] */
  imageGlobal: tf.Tensor2D;
  textGlobal: tf.Tensor2D;
  /** L2-normalised local embeddings: patches v [N, P, localDim], words w [N, W, localDim] */
  imageLocal: tf.Tensor3D;
  textLocal: tf.Tensor3D;
  wordMask: tf.Tensor2D;
  cross: CrossAttentionOutput;
  /** [N, P] the patches the words may attend to (heads.crossAttentionForeground); undefined: all */
  patchMask?: tf.Tensor;
  /** layer4 self-attention [N, P4, P4] (null without it) */
  attention: tf.Tensor3D | null;
  /** layer3 grid [X3, Y3, Z3] the patches lie on */
  patchGrid: [number, number, number];
  /** layer4 grid [X4, Y4, Z4] */
  attentionGrid: [number, number, number];
}

export interface LossValues {
  total: tf.Scalar;
  global: tf.Scalar | null;
  local: tf.Scalar | null;
  alpha: number;
  beta: number;
}

export class ContrastiveModel extends Module {
  readonly image: ResNet3dEncoder;
  readonly text: LongformerEncoder;
  readonly imageGlobalHead: GlobalHead;
  readonly textGlobalHead: GlobalHead;
  readonly imageLocalHead: LocalImageHead;
  readonly textLocalHead: LocalTextHead;
  readonly crossAttention: CrossAttention | LearnedCrossAttention;
  readonly lossWeights: LossWeightParams;

  constructor(
    readonly config: ExperimentConfig,
    vocab: VocabInfo,
    seed: number,
    textEncoder?: LongformerEncoder,
  ) {
    super();
    this.image = this.child('image_encoder', resnet3dFromConfig(config.image, hashSeed(seed, 'image')));
    this.text = this.child(
      'text_encoder',
      textEncoder ?? createTextEncoder(config.text, vocab, { seed: hashSeed(seed, 'text') }),
    );
    // A small encoder trained from scratch trains whole (its embeddings are
    // random); text.trainableLayers freezes the rest of a pretrained one.
    if (!textEncoder) this.text.setTrainableLayers(config.text.layers + 1);
    const heads = createProjectionHeads(
      config.heads,
      { imageWidth: config.image.width, textHidden: this.text.config.hidden },
      hashSeed(seed, 'heads'),
    );
    this.imageGlobalHead = this.child('image_global_head', heads.imageGlobal);
    this.textGlobalHead = this.child('text_global_head', heads.textGlobal);
    this.imageLocalHead = this.child('image_local_head', heads.imageLocal);
    this.textLocalHead = this.child('text_local_head', heads.textLocal);
    this.crossAttention = this.child('cross_attention', createCrossAttention(config.heads, hashSeed(seed, 'cross_attention')));
    this.lossWeights = this.child('loss_weights', new LossWeightParams());
    if (config.loss.weighting !== 'learned') this.lossWeights.setFrozen(true);
  }

  /** The cross-attention as the local loss sees it (the authors L2-normalise each position's output of the learned modules); tensors are the caller's (use tidy). */
  attendLocal(patches: tf.Tensor3D, words: tf.Tensor3D, wordMask: tf.Tensor2D, patchMask?: tf.Tensor): CrossAttentionOutput {
    const cross = this.crossAttention.apply(patches, words, wordMask, patchMask);
    return { ...cross, reportWeightedImage: this.localOutput(cross.reportWeightedImage), imageWeightedText: this.localOutput(cross.imageWeightedText) };
  }

  /** The words' side of `attendLocal` alone (ŵ, normalised as there): what the word-level local loss reads; caller's tensors (use tidy). */
  attendLocalWords(patches: tf.Tensor3D, words: tf.Tensor3D, wordMask: tf.Tensor2D, patchMask?: tf.Tensor): tf.Tensor3D {
    return this.localOutput(this.crossAttention.attendWords(patches, words, wordMask, patchMask).imageWeightedText);
  }

  /** A cross-attention output as the local loss takes it: L2-normalised per position for the learned modules (the authors'), as it is otherwise. */
  private localOutput(t: tf.Tensor3D): tf.Tensor3D {
    return this.crossAttention instanceof LearnedCrossAttention ? (l2Normalize(t) as tf.Tensor3D) : t;
  }

  /** images [N, X, Y, Z, 1]; text from batchEncodings. Tensors are the caller's to dispose (use tidy). */
  forward(images: tf.Tensor5D, text: TextBatch, training: boolean): ContrastiveOutput {
    const img = this.image.apply(images, { training });
    return this.withReports(images, img, this.encodeText(text, training), training);
  }

  /**
   * The same images with several report batches (eval mode; the image
   * encoder runs once): element r equals `forward(images, texts[r], false)`.
   * Tensors are the caller's to dispose (use tidy).
   */
  forwardReports(images: tf.Tensor5D, texts: readonly TextBatch[]): ContrastiveOutput[] {
    const img = this.image.apply(images, { training: false });
    return texts.map((text) => this.withReports(images, img, this.encodeText(text, false), false));
  }

  /** The text encoder on a report batch (`cls`: the global heads' input); tensors are the caller's (use tidy). */
  encodeText(text: TextBatch, training: boolean) {
    return this.text.forward(
      {
        inputIds: text.inputIds,
        attentionMask: text.attentionMask,
        globalAttentionMask: text.globalAttentionMask,
        wordIndex: text.wordIndex,
        maxWords: text.maxWords,
      },
      { training },
    );
  }

  /** The heads and the cross-attention on the image encoder's and the text encoder's outputs. */
  private withReports(
    images: tf.Tensor5D,
    img: ReturnType<ResNet3dEncoder['apply']>,
    txt: ReturnType<ContrastiveModel['encodeText']>,
    training: boolean,
  ): ContrastiveOutput {
    const imageGlobal = l2Normalize(this.imageGlobalHead.apply(img.global, { training })) as tf.Tensor2D;
    const textGlobal = l2Normalize(this.textGlobalHead.apply(txt.cls, { training })) as tf.Tensor2D;
    const [N, X3, Y3, Z3] = img.layer3.shape;
    const local = this.imageLocalHead.apply(img.layer3); // [N, X3, Y3, Z3, d]
    const d = local.shape[local.shape.length - 1]!;
    const imageLocal = l2Normalize(local.reshape([N, X3 * Y3 * Z3, d])) as tf.Tensor3D;
    const textLocal = l2Normalize(this.textLocalHead.apply(txt.words)).mul(txt.wordMask.expandDims(2)) as tf.Tensor3D;
    // ours (heads.crossAttentionForeground): the words attend only to patches inside the head
    const fg = this.config.heads.crossAttentionForeground;
    const patchMask = fg > 0 ? foregroundPatches(images, [X3, Y3, Z3], fg) : undefined;
    const cross = this.attendLocal(imageLocal, textLocal, txt.wordMask, patchMask);
    const [, X4, Y4, Z4] = img.layer4.shape;
    return {
      imageGlobal,
      textGlobal,
      imageLocal,
      textLocal,
      wordMask: txt.wordMask,
      cross,
      patchMask,
      attention: img.attention,
      patchGrid: [X3, Y3, Z3],
      attentionGrid: [X4, Y4, Z4],
    };
  }

  /** Eq. 1–3 with the configured variant (ablations included). */
  loss(out: ContrastiveOutput, locations: readonly string[], rng: Rng): LossValues {
    const lc = this.config.loss;
    const useGlobal = lc.components !== 'local' && lc.weighting !== 'localOnly';
    const useLocal = lc.components !== 'global';
    let global: tf.Scalar | null = null;
    let local: tf.Scalar | null = null;
    if (useGlobal) {
      global =
        lc.kind === 'infonce'
          ? infoNceLoss(out.imageGlobal, out.textGlobal, { temperature: lc.temperature })
          : globalTripletLoss(out.imageGlobal, out.textGlobal, {
              locations: lc.useLocation ? locations : undefined,
              margin: lc.globalMargin,
              locationWeight: lc.locationWeight,
              locationMode: lc.locationMode,
              sameMargin: lc.sameLocationMargin,
              differentMargin: lc.differentLocationMargin,
              k: lc.negatives,
              rng,
            });
    }
    if (useLocal) {
      // follows: METHOD.md §5 (loss.localNegatives "crossed": every image with every report of the batch)
      const maskOf = (imageIndex: tf.Tensor1D) => (out.patchMask ? tf.gather(out.patchMask, imageIndex) : undefined);
      const attend: CrossedAttend = (patches, words, mask, imageIndex) => {
        const c = this.attendLocal(patches, words, mask, maskOf(imageIndex));
        return { imageWeighted: c.reportWeightedImage, textWeighted: c.imageWeightedText };
      };
      if (lc.localKind === 'word') {
        // follows: METHOD.md §5 (loss.localKind "word": GLoRIA's word-level scores, every image with every report; only the words' side is run)
        const problem = localWordKindProblem(lc); // resolveConfig refuses it too
        if (problem) throw new Error(problem);
        const attendWords: CrossedAttendWords = (patches, words, mask, imageIndex) => this.attendLocalWords(patches, words, mask, maskOf(imageIndex));
        local = tf.tidy(() => wordLocalLoss(crossedWordScores(out.imageLocal, out.textLocal, out.wordMask, attendWords, lc.localWordSharpness), lc.temperature));
      } else {
        const crossed = lc.localNegatives === 'crossed' ? tf.tidy(() => crossedLocalCosines(out.imageLocal, out.textLocal, out.wordMask, attend)) : undefined;
        local =
          lc.localKind === 'infonce'
            ? localInfoNceLoss(out.imageLocal, out.cross.reportWeightedImage, out.textLocal, out.cross.imageWeightedText, {
                temperature: lc.temperature,
                wordMask: out.wordMask,
                crossed,
              })
            : localTripletLoss(out.imageLocal, out.cross.reportWeightedImage, out.textLocal, out.cross.imageWeightedText, {
                margin: lc.localMargin,
                k: lc.negatives,
                rng,
                wordMask: out.wordMask,
                crossed,
              });
        if (crossed) tf.dispose([crossed.image, crossed.text]);
      }
    }
    const components = useGlobal && useLocal ? 'both' : useGlobal ? 'global' : 'local';
    const combined = combineLosses(
      { global: global ?? undefined, local: local ?? undefined },
      {
        weighting: lc.weighting === 'localOnly' ? 'localOnly' : lc.weighting,
        components,
        alpha: lc.alpha,
        beta: lc.beta,
        sG: this.lossWeights.sG as tf.Scalar,
        sL: this.lossWeights.sL as tf.Scalar,
      },
    );
    return { total: combined.total, global, local, alpha: combined.alpha, beta: combined.beta };
  }
}

/** Every Dropout in a module tree, in a stable order (their call counts are saved for exact resume). */
export function dropoutsOf(m: Module): Dropout[] {
  const out: Dropout[] = [];
  const walk = (node: Module) => {
    if (node instanceof Dropout) out.push(node);
    for (const [, c] of node.children()) walk(c);
  };
  walk(m);
  return out;
}
