// Where one case's files are in a run folder (README "Runs"): the image and
// mask from the run's manifest, the heatmaps of each fine-tuned fold, the
// cross-attention file, the engine's Dice (predictions.csv) and the run's
// explain.threshold. Only reads files; every error names the file.
import { existsSync, readdirSync } from 'node:fs';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseManifest } from '../../engine/data/manifest';

export interface CaseFiles {
  runDir: string;
  caseId: string;
  image?: string;
  mask?: string;
  /** the finetune/<init>/fold-<k> folder the heatmap comes from */
  fold?: string;
  heatmap?: string;
  binary?: string;
  attention?: string;
  /** the report text file, when the manifest names one */
  report?: string;
  threshold: number;
  topPercent?: number;
  engineDice?: { dice2d: number | null; dice3d: number | null };
}

interface RunConfig {
  path: string;
  manifest?: string;
  /** data.allowOutsidePaths as the run recorded it */
  allowOutsidePaths?: boolean;
  threshold: number;
  /** explain.rule 'topPercent': its percentage */
  topPercent?: number;
}

const DEFAULT_THRESHOLD = 0.01;

export function readRunConfig(runDir: string): RunConfig {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) return { path, threshold: DEFAULT_THRESHOLD };
  let c: { data?: { manifest?: unknown; allowOutsidePaths?: unknown }; explain?: { threshold?: unknown; rule?: unknown; topPercent?: unknown } };
  try {
    c = JSON.parse(readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'config' })) as typeof c;
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const m = c.data?.manifest;
  const t = c.explain?.threshold;
  return {
    path,
    ...(typeof m === 'string' ? { manifest: isAbsolute(m) ? m : resolve(runDir, m) } : {}),
    ...(c.data?.allowOutsidePaths === true ? { allowOutsidePaths: true } : {}),
    threshold: typeof t === 'number' && Number.isFinite(t) ? t : DEFAULT_THRESHOLD,
    ...(c.explain?.rule === 'topPercent' ? { topPercent: typeof c.explain.topPercent === 'number' ? c.explain.topPercent : 5 } : {}),
  };
}

/** finetune/<init>/fold-<k>/ folders holding a heatmap of the case, the proposed init first. */
export function heatmapDirs(runDir: string, caseId: string): string[] {
  const root = join(runDir, 'finetune');
  if (!existsSync(root)) return [];
  const inits = readdirSync(root).sort((a, b) => (a === 'pretrained' ? -1 : b === 'pretrained' ? 1 : a.localeCompare(b)));
  const out: string[] = [];
  for (const init of inits) {
    const d = join(root, init);
    let folds: string[] = [];
    try {
      folds = readdirSync(d).filter((f) => /^fold-\d+$/.test(f)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    } catch {
      continue;
    }
    for (const f of folds) if (existsSync(join(d, f, 'heatmaps', `${caseId}.heatmap.nii.gz`))) out.push(join(d, f));
  }
  return out;
}

/** The case's dice2d/dice3d from a fold's predictions.csv (header: id, cohort, label, score, dice2d, dice3d). */
export function engineDiceFrom(csvPath: string, caseId: string): { dice2d: number | null; dice3d: number | null } | undefined {
  if (!existsSync(csvPath)) return undefined;
  const lines = readTextBounded(csvPath, { maxBytes: READ_LIMITS.predictions, what: 'predictions file' }).split(/\r?\n/).filter((l) => l.trim());
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const [iid, i2, i3] = ['id', 'dice2d', 'dice3d'].map((h) => header.indexOf(h));
  if (iid! < 0) return undefined;
  const num = (s: string | undefined) => (s === undefined || s.trim() === '' || !Number.isFinite(Number(s)) ? null : Number(s));
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    if (cells[iid!] === caseId) return { dice2d: i2! >= 0 ? num(cells[i2!]) : null, dice3d: i3! >= 0 ? num(cells[i3!]) : null };
  }
  return undefined;
}

/**
 * Everything the viewer and the report panel need for `caseId` of `runDir`;
 * the heatmap of `fold` (a finetune/<init>/fold-<k> folder) when it has one,
 * else of the first fold that has (the proposed init first).
 */
export function locateCase(runDir: string, caseId: string, fold?: string): CaseFiles {
  const cfg = readRunConfig(runDir);
  const out: CaseFiles = { runDir, caseId, threshold: cfg.threshold, ...(cfg.topPercent !== undefined ? { topPercent: cfg.topPercent } : {}) };
  if (cfg.manifest && existsSync(cfg.manifest)) {
    const parsed = parseManifest(cfg.manifest, { allowOutsidePaths: cfg.allowOutsidePaths === true });
    const c = parsed.cases.find((x) => x.id === caseId);
    if (c) {
      out.image = c.image;
      if (c.mask) out.mask = c.mask;
      if (c.report?.kind === 'file') out.report = c.report.path;
    }
  }
  const folds = heatmapDirs(runDir, caseId);
  const chosen = fold !== undefined && folds.includes(fold) ? fold : folds[0];
  if (chosen) {
    out.fold = chosen;
    out.heatmap = join(chosen, 'heatmaps', `${caseId}.heatmap.nii.gz`);
    const bin = join(chosen, 'heatmaps', `${caseId}.binary.nii.gz`);
    if (existsSync(bin)) out.binary = bin;
    const d = engineDiceFrom(join(chosen, 'predictions.csv'), caseId);
    if (d) out.engineDice = d;
  }
  const attention = join(runDir, 'pretrain', 'attention', `${caseId}.json`);
  if (existsSync(attention)) out.attention = attention;
  return out;
}

/** Case ids with a heatmap or saved attention in the run (for a quick pick). */
export function casesOfRun(runDir: string): string[] {
  const ids = new Set<string>();
  const attention = join(runDir, 'pretrain', 'attention');
  if (existsSync(attention)) for (const f of readdirSync(attention)) if (f.endsWith('.json')) ids.add(f.slice(0, -5));
  const root = join(runDir, 'finetune');
  if (existsSync(root)) {
    for (const init of readdirSync(root)) {
      const d = join(root, init);
      let folds: string[] = [];
      try {
        folds = readdirSync(d);
      } catch {
        continue;
      }
      for (const f of folds) {
        const h = join(d, f, 'heatmaps');
        if (existsSync(h)) for (const n of readdirSync(h)) if (n.endsWith('.heatmap.nii.gz')) ids.add(n.slice(0, -'.heatmap.nii.gz'.length));
      }
    }
  }
  return [...ids].sort();
}

/** The run folder above a file inside it (the folder holding config.json and run.json), if any. */
export function runDirOf(path: string): string | undefined {
  let d = dirname(path);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, 'run.json')) && existsSync(join(d, 'config.json'))) return d;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return undefined;
}
