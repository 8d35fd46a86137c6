// study.json: what `mrcl study reproduce` did in a study folder, rewritten
// atomically after every step. The report reads the run folders from it.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { STUDY_SCALES, type StudyScale } from './scales';
import type { AugmentOptions } from '../training/augment';

export const STUDY_FILE = 'study.json';
export const STUDY_FORMAT = 'mrcl-study-1';

export const STEP_NAMES = ['cohort', 'medicalnet-standin', 'experiment', 'location-excluded', 'ablation', 'external-check', 'probe', 'report'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** pending: not started; running: in progress (or its process was killed); interrupted: cancelled, resumable; failed: stopped by an error, retried on the next invocation. */
export type StepStatus = 'pending' | 'running' | 'done' | 'interrupted' | 'failed';

export interface StudyStep {
  name: StepName;
  description: string;
  status: StepStatus;
  /** seconds spent in this step, over every invocation */
  seconds: number;
  /** ISO times of the latest start and of the finish */
  startedAt?: string;
  finishedAt?: string;
  /** the run folder of a run step, relative to the study folder */
  runDir?: string;
  error?: string;
}

export interface StudyRecord {
  format: typeof STUDY_FORMAT;
  kind: 'reproduce';
  scale: StudyScale;
  seed: number;
  /** `--augment`: the pretraining augmentation of every pretraining of the study (absent: none, the paper's method) */
  augment?: AugmentOptions;
  /** `--width`: the image encoder's width in every run of the study, where it is not the scale's own (absent: the scale's) */
  width?: number;
  /** `--text-pretrained`: the pretrained Longformer folder (absolute) every run's text encoder loads (absent: the scale's small encoder, trained from scratch) */
  textPretrained?: string;
  status: 'running' | 'done' | 'cancelled' | 'failed';
  /** the step a cancelled study stopped in */
  interrupted?: StepName;
  error?: string;
  created: string;
  updated: string;
  /** seconds spent in steps, over every invocation */
  seconds: number;
  /** config name → path relative to the study folder (configs/*.mrcl.json) */
  configs: Record<string, string>;
  steps: StudyStep[];
}

const STEP_STATUSES: readonly StepStatus[] = ['pending', 'running', 'done', 'interrupted', 'failed'];

/** Whether v can be a study's image-encoder width (`--width`, study.json `width`): a whole number ≥ 1. */
export const isStudyWidth = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** Reads and checks a study.json; a bad one is an error naming the file and the problem. */
export function readStudyRecord(path: string): StudyRecord {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable study record (${(e as Error).message})`);
  }
  const bad = (what: string) => new Error(`${path}: not a study record of this version (${what})`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const r = value as Partial<StudyRecord>;
  if (r.format !== STUDY_FORMAT) throw bad(`"format" is ${JSON.stringify(r.format)}, expected "${STUDY_FORMAT}"`);
  if (!STUDY_SCALES.includes(r.scale as StudyScale)) throw bad(`"scale" is ${JSON.stringify(r.scale)}, expected one of ${STUDY_SCALES.join(', ')}`);
  if (!Number.isInteger(r.seed)) throw bad('"seed" is not an integer');
  if (!Array.isArray(r.steps) || r.steps.length === 0) throw bad('"steps" is not a list of steps');
  for (const [i, s] of r.steps.entries()) {
    if (!STEP_NAMES.includes(s?.name) || !STEP_STATUSES.includes(s?.status) || typeof s?.seconds !== 'number') throw bad(`step ${i + 1} is malformed`);
    if (s.runDir !== undefined && (typeof s.runDir !== 'string' || s.runDir.startsWith('/') || s.runDir.split(/[\\/]/).includes('..'))) {
      throw bad(`step ${s.name}: runDir must be a folder inside the study folder`);
    }
  }
  if (r.augment !== undefined) {
    const a = r.augment as Partial<AugmentOptions> | null;
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (typeof a !== 'object' || a === null || !ok(a.shift) || !ok(a.intensity)) throw bad('"augment" must be { shift, intensity } with numbers ≥ 0');
  }
  if (r.width !== undefined && !isStudyWidth(r.width)) throw bad('"width" must be a whole number ≥ 1');
  if (r.textPretrained !== undefined && !(typeof r.textPretrained === 'string' && isAbsolute(r.textPretrained))) throw bad('"textPretrained" must be an absolute folder path');
  if (typeof r.configs !== 'object' || r.configs === null) throw bad('"configs" is not an object');
  if (typeof r.seconds !== 'number') r.seconds = 0;
  return r as StudyRecord;
}
