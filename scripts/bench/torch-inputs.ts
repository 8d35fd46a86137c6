// The PyTorch side's inputs for the pretraining cases of the bench: the
// resolved config the TF.js worker built its model from, the vocabulary, and
// each batch's padded token tensors, locations and (loop case) volume paths,
// in a JSON file torch_worker.py reads at setup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentConfig } from '../../src/shared/config';
import { writeFileAtomic } from '../../src/engine/io/atomic';
import type { TextBatch } from '../../src/engine/networks/text-batch';

/** One batch as the PyTorch side reads it: the padded token tensors, locations and (loop) the volumes. */
export interface TorchBatch {
  inputIds: number[][];
  attentionMask: number[][];
  globalAttentionMask: number[][];
  wordIndex: number[][];
  /** tokens kept per report */
  lengths: number[];
  locations: string[];
  /** loop: image paths, read with nibabel by the PyTorch side */
  images?: string[];
  /** loop: Σ x[i]·(i mod 97 + 1) over the engine's input [N, X, Y, Z, 1], checked by the PyTorch side */
  inputSum?: number;
}

export function torchBatch(b: TextBatch, locations: string[]): TorchBatch {
  return {
    inputIds: b.inputIds.arraySync(),
    attentionMask: b.attentionMask.arraySync(),
    globalAttentionMask: b.globalAttentionMask.arraySync(),
    wordIndex: b.wordIndex.arraySync(),
    lengths: b.lengths,
    locations,
  };
}

/** A temporary folder for a case's files, removed by the returned function (and at exit). */
export function scratchFolder(kind: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `mrcl-bench-${kind}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return { dir, remove };
}

/** Writes the PyTorch side's inputs: the resolved config, the vocabulary and the batches. */
export function writeTorchInputs(dir: string, config: ExperimentConfig, vocab: { size: number; padId: number }, batches: TorchBatch[], shape?: number[]): string {
  const path = join(dir, 'torch-inputs.json');
  writeFileAtomic(path, [new TextEncoder().encode(JSON.stringify({ config, vocab, batches, shape }))]);
  return path;
}
