// The study report's content, between the runs and the two renderings
// (report.md in report.ts, report.html in report-html.ts).
import type { StandinRecord } from '../training/medicalnet-standin';
import type { RunData, ZeroShotFile } from './run-data';
import type { Claim } from './verdict';

export interface Figure {
  /** file name under figures/ */
  file: string;
  title: string;
  caption: string;
  svg: string;
}

export interface ReportDoc {
  verdict: Claim[];
  standin: StandinRecord | undefined;
  figures: Figure[];
  /** figures that could not be drawn, with why */
  missing: string[];
  runs: { role: string; run: RunData }[];
}

export function standinNote(s: StandinRecord): string {
  return `The MedicalNet arm is initialised from a synthetic stand-in, not from MedicalNet's released Med3D weights: ${s.description} (checkpoint ${s.checkpoint}; trained ${s.training.epochs} epochs on ${s.cohort.train} synthetic cases).`;
}

export function allWarnings(doc: ReportDoc): string[] {
  return doc.runs.flatMap(({ role, run }) => (run.doc.warnings ?? []).map((w) => `${role}: ${w}`));
}

export function zeroShotLine(z: ZeroShotFile): string {
  return `Zero-shot tumour location (${z.pairs ?? 'pairs'}): accuracy ${z.accuracy.toFixed(3)}, macro AUC ${z.macroAuc === null ? 'n/a' : z.macroAuc.toFixed(3)} over ${z.n} cases, classes ${z.classes.join(', ')}`;
}
