// How a stage's description reads in the experiments tree, with the Slurm
// state of its unit when the run was submitted to Slurm (pure: unit-tested).
import type { UnitState } from '../../engine/slurm/parse';

export function stageDescription(status: string, metrics: string, slurm: UnitState | undefined): string {
  const base = metrics ? `${status} · ${metrics}` : status;
  return slurm ? `${base} · slurm: ${slurm}` : base;
}
