// Can an arm's Dice say anything? Per arm and cohort: the mean foreground
// fraction of its binary maps, the whole-map floor and grid-cell bound of
// the Dice, the layer4 grid, and the warnings the tables, the CLI and the
// results panel show when the maps cover more than half the volume (Dice ≈
// the floor whatever the model) or the grid is below 4×4×3 along some axis.
// follows: METHOD.md §7 (degenerate maps)
import { gridTooCoarse, MAX_FOREGROUND_FRACTION, MIN_ATTENTION_GRID } from '../explain/coverage';
import { metricFolds, summarize } from './aggregate';
import type { ArmResult, AttentionGrid, ExplainCheck, MetricKey, Split } from './types';

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
export const gridText = (g: readonly number[]): string => g.join('×');

function meanOver(arm: ArmResult, split: Split, metric: MetricKey): number | null {
  const mf = metricFolds(arm, split, metric);
  return mf.values.length ? summarize(mf.values).mean : null;
}

/** The distinct layer4 grids of an arm's folds that have `split`, in fold order. */
function gridsOf(arm: ArmResult, split: Split): AttentionGrid[] {
  const out: AttentionGrid[] = [];
  for (const f of [...arm.folds].sort((a, b) => a.fold - b.fold)) {
    const g = f.attentionGrid;
    if (!g || f[split] === null) continue;
    if (!out.some((o) => o.every((d, i) => d === g[i]))) out.push([g[0], g[1], g[2]]);
  }
  return out;
}

/** The warning of a grid below MIN_ATTENTION_GRID, with the grid-cell bound when known. */
export function coarseGridWarning(grids: readonly AttentionGrid[], bound3d: number | null, bound2d: number | null): string {
  const coarse = grids.filter(gridTooCoarse).map(gridText).join(', ');
  const head = `attention grid ${coarse} < ${gridText(MIN_ATTENTION_GRID)}`;
  if (bound3d === null || bound2d === null) return `${head}: too coarse to outline a tumour`;
  return `${head}: a perfect map made of whole grid cells would reach at most ${pct(bound3d)} 3D Dice (${pct(bound2d)} 2D) on these cases`;
}

/** The warning of maps covering more than MAX_FOREGROUND_FRACTION of the volume. */
export function wholeVolumeWarning(label: string, foreground: number, floor3d: number | null, floor2d: number | null): string {
  const head = `${label} maps cover ${pct(foreground)} of the volume on average (> ${pct(MAX_FOREGROUND_FRACTION).replace('.0%', '%')})`;
  if (floor3d === null || floor2d === null) return `${head}: their Dice measures coverage, not localisation`;
  return `${head}: Dice ≈ the whole-volume floor (${pct(floor3d)} 3D, ${pct(floor2d)} 2D), whatever the model`;
}

/** The check of one arm on one cohort, or undefined when it has no attention maps there. */
export function explainCheck(arm: ArmResult, split: Split): ExplainCheck | undefined {
  if (arm.status === 'not run' || arm.status === 'failed') return undefined;
  const foreground = meanOver(arm, split, 'foreground');
  const dice3d = meanOver(arm, split, 'dice3d');
  const grids = gridsOf(arm, split);
  if (foreground === null && dice3d === null && grids.length === 0) return undefined;
  const folds = arm.folds.filter((f) => {
    const m = f[split];
    return m !== null && ((m.foreground ?? null) !== null || m.dice3d !== null);
  }).length;
  const check: ExplainCheck = {
    arm: arm.arm,
    label: arm.label,
    split,
    folds,
    attentionGrids: grids,
    foreground,
    dice2d: meanOver(arm, split, 'dice2d'),
    dice3d,
    floor2d: meanOver(arm, split, 'floor2d'),
    floor3d: meanOver(arm, split, 'floor3d'),
    bound2d: meanOver(arm, split, 'bound2d'),
    bound3d: meanOver(arm, split, 'bound3d'),
    coarseGrid: grids.some(gridTooCoarse),
    wholeVolume: foreground !== null && foreground > MAX_FOREGROUND_FRACTION,
    warnings: [],
  };
  if (check.coarseGrid) check.warnings.push(coarseGridWarning(grids, check.bound3d, check.bound2d));
  if (check.wholeVolume) check.warnings.push(wholeVolumeWarning(arm.label, foreground as number, check.floor3d, check.floor2d));
  return check;
}

/** The checks of every arm on every cohort it has attention maps on. */
export function explainChecks(arms: readonly ArmResult[], splits: readonly Split[]): ExplainCheck[] {
  return arms.flatMap((a) => splits.map((s) => explainCheck(a, s))).filter((c): c is ExplainCheck => c !== undefined);
}
