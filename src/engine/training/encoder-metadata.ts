// `metadata.json` beside every saved model.safetensors (pretraining's model,
// each checkpoint): what a PyTorch or MONAI user needs to rebuild the image
// encoder and feed it, in the spirit of a MONAI bundle's metadata — the
// architecture options, the input (shape, axes, orientation, intensity
// normalisation) and the outputs. scripts/torch/load_encoder.py builds the
// encoder from this file alone. Layout in docs/formats.md, "Image encoder
// for PyTorch".
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import { dilatedLayout, encoderGrids } from '../networks/grids';
import { writeJsonAtomic } from './run-folder';

export const ENCODER_METADATA_FORMAT = 'mrcl-image-encoder-1';

export interface EncoderMetadata {
  format: typeof ENCODER_METADATA_FORMAT;
  description: string;
  /** the weights file beside this one */
  weights: string;
  /** the prefix of the encoder's tensors in `weights` (PyTorch state-dict names after it) */
  keyPrefix: string;
  network: {
    architecture: 'resnet3d-basicblock';
    depth: 10 | 18 | 34;
    /** BasicBlocks in layer1..4 */
    blocks: [number, number, number, number];
    width: number;
    shortcut: 'A' | 'B';
    outputStride: 8 | 16 | 32;
    /** stride and dilation of layer3 and layer4 */
    layer3: { stride: number; dilation: number };
    layer4: { stride: number; dilation: number };
    selfAttention: boolean;
    /** the self-attention's scores scaled by 1/√C before the softmax (image.attentionScale; false: unscaled, the authors') */
    attentionScale: boolean;
    /** layer4 added back to the self-attention's output (image.attentionResidual; true: the authors'; absent in metadata written before it existed, which means true) */
    attentionResidual?: boolean;
    /** learned register keys and values after the voxels' in the self-attention (image.attentionRegisters; absent in metadata written before it existed, which means 0) */
    attentionRegisters?: number;
    batchNormEps: number;
  };
  input: {
    /** [N, C, D, H, W] as PyTorch takes it; D, H, W are the volume's x, y, z axes */
    shape: [number, 1, number, number, number];
    axes: string;
    orientation: 'RAS';
    spacing: string;
    dtype: 'float32';
    normalization: { mode: 'minmax' | 'zscore'; description: string };
  };
  output: {
    layer4: { shape: [number, number, number, number, number]; description: string };
    global: { shape: [number, number]; description: string };
    attention?: { shape: [number, number, number]; description: string };
  };
}

const NORMALIZATION = {
  minmax: '(v - min) / (max - min) over all voxels of the volume, into [0, 1]; a constant volume becomes zeros',
  zscore: '(v - mean) / std over the non-zero voxels (population std); zero voxels stay 0; std 0 gives zeros',
} as const;

const BLOCKS = { 10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3] } as const;

/** The metadata of the image encoder `config` describes, its weights in `weights` under `keyPrefix`. */
export function encoderMetadata(config: ExperimentConfig, weights = 'model.safetensors', keyPrefix = 'image_encoder.'): EncoderMetadata {
  const image = config.image;
  const shortcut = image.shortcut ?? (image.depth === 10 ? 'B' : 'A');
  const stride = image.outputStride;
  const layout = dilatedLayout(stride, image.dilate);
  const [x, y, z] = config.data.shape as [number, number, number];
  const grid = encoderGrids([x, y, z], stride).layer4;
  const c = 8 * image.width;
  const positions = grid[0] * grid[1] * grid[2];
  const mode = config.data.normalization;
  return {
    format: ENCODER_METADATA_FORMAT,
    description: "3D ResNet image encoder (MedicalNet BasicBlocks) with self-attention on layer4; PyTorch state-dict names under keyPrefix",
    weights,
    keyPrefix,
    network: {
      architecture: 'resnet3d-basicblock',
      depth: image.depth,
      blocks: [...BLOCKS[image.depth]] as [number, number, number, number],
      width: image.width,
      shortcut,
      outputStride: stride,
      layer3: { ...layout.layer3 },
      layer4: { ...layout.layer4 },
      selfAttention: image.selfAttention,
      attentionScale: image.attentionScale,
      attentionResidual: image.attentionResidual ?? true,
      attentionRegisters: image.attentionRegisters ?? 0,
      batchNormEps: 1e-5,
    },
    input: {
      shape: [1, 1, x, y, z],
      axes: 'N, C, D=x (R), H=y (A), W=z (S): the NIfTI array after reorientation to RAS+, as nibabel gives it',
      orientation: 'RAS',
      spacing: `none fixed: each volume's field of view is resampled (trilinear) to ${x}×${y}×${z} voxels`,
      dtype: 'float32',
      normalization: { mode, description: NORMALIZATION[mode] },
    },
    output: {
      layer4: {
        shape: [1, c, ...grid],
        description: image.selfAttention ? ((image.attentionResidual ?? true) ? 'layer4 after self-attention: gamma * attended values + layer4' : 'layer4 after self-attention without the residual: gamma * attended values') : 'layer4',
      },
      global: { shape: [1, c], description: 'layer4 output averaged over its D·H·W positions: the global image representation' },
      ...(image.selfAttention
        ? { attention: { shape: [1, positions, positions] as [number, number, number], description: (image.attentionRegisters ?? 0) > 0 ? `softmax over the key positions and ${image.attentionRegisters} registers (row = query), the positions' columns only (a row sums to 1 less its registers' share), positions in row-major (d, h, w) order` : 'softmax over key positions (row = query), positions in row-major (d, h, w) order' } }
        : {}),
    },
  };
}

/** Writes `dir/metadata.json` for the encoder in `dir/<weights>`. */
export function writeEncoderMetadata(dir: string, config: ExperimentConfig, weights = 'model.safetensors', keyPrefix = 'image_encoder.'): void {
  writeJsonAtomic(join(dir, 'metadata.json'), encoderMetadata(config, weights, keyPrefix));
}
