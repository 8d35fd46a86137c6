// RUN/slurm/jobs.json: every submission of a run (round, role, job id,
// units in array-task order), so that status, resume and cancel find the
// Slurm task of each unit. Written atomically after each submission.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../training/run-folder';
import type { SubmissionRole } from './script';

export interface Submission {
  round: number;
  role: SubmissionRole;
  jobId: string;
  /** absolute path of the sbatch script */
  script: string;
  /** unit ids; task i of an array job runs units[i] */
  units: string[];
  array: boolean;
  /** sbatch --dependency, if any */
  dependency?: string;
  submitted: string;
}

export interface SlurmJobs {
  format: 'mrcl-slurm-1';
  submissions: Submission[];
}

export function slurmDir(runDir: string): string {
  return join(runDir, 'slurm');
}

export function jobsPath(runDir: string): string {
  return join(runDir, 'slurm', 'jobs.json');
}

export function hasSlurmJobs(runDir: string): boolean {
  return existsSync(jobsPath(runDir));
}

export function readJobs(runDir: string): SlurmJobs {
  const p = jobsPath(runDir);
  if (!existsSync(p)) return { format: 'mrcl-slurm-1', submissions: [] };
  const j = readJson<SlurmJobs>(p);
  if (j.format !== 'mrcl-slurm-1' || !Array.isArray(j.submissions)) throw new Error(`${p}: not an mrcl Slurm job list (format ${String(j.format)})`);
  return j;
}

export function writeJobs(runDir: string, jobs: SlurmJobs): void {
  mkdirSync(slurmDir(runDir), { recursive: true });
  writeJsonAtomic(jobsPath(runDir), jobs);
}

/** The latest submission that ran each unit, with the unit's array index. */
export function latestTask(jobs: SlurmJobs, unit: string): { submission: Submission; index: number | undefined } | undefined {
  for (let i = jobs.submissions.length - 1; i >= 0; i--) {
    const s = jobs.submissions[i]!;
    const k = s.units.indexOf(unit);
    if (k >= 0) return { submission: s, index: s.array ? k : undefined };
  }
  return undefined;
}
