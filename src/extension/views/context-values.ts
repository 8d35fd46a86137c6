// contextValue strings of tree items: the node kind first, then flags that
// package.json menus match with regular expressions (e.g. "run active
// folder config"; Stop is offered where /\bactive\b/ matches). Pure.
import type { Job } from '../runs/job';
import { resumeCommand } from '../runs/job';
import type { NodeStatus, RunModel } from './run-scan';

export type NodeKind = 'experiment' | 'run' | 'stage' | 'artifact' | 'job' | 'group' | 'message';

export function contextValue(kind: NodeKind, flags: Record<string, boolean | undefined>): string {
  return [kind, ...Object.keys(flags).filter((k) => flags[k]).sort()].join(' ');
}

/** The status shown for a run folder: an active job working on it wins over run.json. */
export function runStatus(run: RunModel, job: Job | undefined): NodeStatus {
  if (job && (job.status === 'queued' || job.status === 'running')) return job.status;
  return run.status;
}

export function runContextValue(run: RunModel, job: Job | undefined): string {
  const status = runStatus(run, job);
  // only a job of this window can be stopped; a run.json "running" without one
  // belongs to another process (a CLI, another window): neither stopped nor deleted from here
  const active = job !== undefined && (job.status === 'queued' || job.status === 'running');
  return contextValue('run', {
    active,
    resumable: !active && (status === 'cancelled' || status === 'failed') && resumeCommand(run.kind) !== undefined,
    results: run.results !== undefined,
    folder: true,
    config: true,
    deletable: !active && status !== 'running',
  });
}

export function jobContextValue(job: Job): string {
  const active = job.status === 'queued' || job.status === 'running';
  const finished = job.runDir !== undefined && !active;
  // a finished job's folder has results (a run) or a manifest (a synthetic cohort) to open
  const training = !['synth', 'validate', 'import'].includes(job.request.command);
  return contextValue('job', { active, folder: finished, results: finished && job.status === 'done', training });
}

/** <run>/…/heatmaps/<case>.heatmap|binary.nii(.gz) and <run>/pretrain/attention/<case>.json. */
export function isCaseArtifact(path: string): boolean {
  return /[\\/]heatmaps[\\/][^\\/]+\.(heatmap|binary)\.nii(\.gz)?$/.test(path) || /[\\/]pretrain[\\/]attention[\\/][^\\/]+\.json$/.test(path);
}
