// How far a tumour reaches into an image encoder's features: the same case
// rendered with and without its tumour (synthetic cohorts only: the
// generator's `tumourFree` image, same head, scanner and noise), both through
// the frozen encoder; each patch's change is the Euclidean norm of the
// difference of its feature vectors. Grouped by the patch's Chebyshev
// distance, in patches, from the nearest patch whose block of the input holds
// tumour, it says whether a patch far from the tumour still knows about it:
// a local feature changes at the tumour and little elsewhere, a global one
// (a receptive field as large as the volume) about as much everywhere. Where
// every patch carries the tumour, neither attention needs to look at it: the
// words' context and the pooled representation are served by any patch.
// The input's own change, grouped the same way, is the reference (the
// tumour's oedema and mass effect reach a little beyond its mask).
// The mask is read here for scoring only.
import { tf } from '../backend';
import type { Volume } from '../io/volume';
import { volumesToInput } from '../networks/image-input';
import { blockMeans } from '../networks/foreground';
import type { ResNet3dEncoder } from '../networks/resnet3d';

/** Distances 0, 1, …, REACH_BINS − 2 and "REACH_BINS − 1 or more", in patches. */
export const REACH_BINS = 4;

/**
 * Chebyshev distance (in patches) of every patch of a [gx, gy, gz] grid, patch
 * order (x·gy + y)·gz + z, to the nearest patch flagged in `tumour`; −1
 * everywhere when none is flagged.
 */
export function patchDistances(tumour: ArrayLike<number>, grid: readonly [number, number, number]): Int32Array {
  const [gx, gy, gz] = grid;
  const P = gx * gy * gz;
  if (tumour.length !== P) throw new Error(`patchDistances: ${tumour.length} flags for a ${gx}×${gy}×${gz} grid`);
  const at: [number, number, number][] = [];
  for (let x = 0; x < gx; x++) for (let y = 0; y < gy; y++) for (let z = 0; z < gz; z++) if (tumour[(x * gy + y) * gz + z]! > 0) at.push([x, y, z]);
  const out = new Int32Array(P).fill(-1);
  if (!at.length) return out;
  for (let x = 0; x < gx; x++) {
    for (let y = 0; y < gy; y++) {
      for (let z = 0; z < gz; z++) {
        let d = Infinity;
        for (const [a, b, c] of at) d = Math.min(d, Math.max(Math.abs(x - a), Math.abs(y - b), Math.abs(z - c)));
        out[(x * gy + y) * gz + z] = d;
      }
    }
  }
  return out;
}

export interface ReachBin {
  /** the smallest distance of the bin (the last bin: this or more) */
  distance: number;
  patches: number;
  /** mean change of the bin's patches (NaN for an empty bin) */
  change: number;
}

export interface ReachProfile {
  bins: ReachBin[];
  /** each bin's mean change over the tumour patches' (distance 0); NaN where either is empty or the tumour's is 0 */
  relative: number[];
  /** the tumour patches' share of the summed squared change */
  tumourShare: number;
  /** the tumour patches' share of the patches (the share a change spread evenly would give them) */
  tumourFraction: number;
}

/** Per-patch changes grouped by distance (patchDistances; bins as REACH_BINS). */
export function reachProfile(change: ArrayLike<number>, distance: Int32Array): ReachProfile {
  if (change.length !== distance.length) throw new Error(`reachProfile: ${change.length} changes for ${distance.length} distances`);
  const sums = new Array<number>(REACH_BINS).fill(0);
  const counts = new Array<number>(REACH_BINS).fill(0);
  let total = 0;
  let inside = 0;
  for (let p = 0; p < change.length; p++) {
    const d = distance[p]!;
    if (d < 0) throw new Error('reachProfile: the case has no tumour patch');
    const c = change[p]!;
    const b = Math.min(d, REACH_BINS - 1);
    sums[b] += c;
    counts[b]++;
    total += c * c;
    if (d === 0) inside += c * c;
  }
  const bins = sums.map((s, b) => ({ distance: b, patches: counts[b]!, change: counts[b] ? s / counts[b]! : NaN }));
  const at0 = bins[0]!.change;
  return {
    bins,
    relative: bins.map((b) => (at0 > 0 && b.patches ? b.change / at0 : NaN)),
    tumourShare: total > 0 ? inside / total : NaN,
    tumourFraction: counts[0]! / change.length,
  };
}

/** Patches (of a grid) whose block of the mask's volume holds any tumour voxel, patch order. */
export function tumourPatches(mask: Pick<Volume, 'data' | 'dims'>, grid: readonly [number, number, number]): Float32Array {
  return tf.tidy(() => {
    const m = volumesToInput([mask]);
    return blockMeans(m, grid, 'tumourPatches').greater(0).cast('float32').dataSync() as Float32Array;
  });
}

/** Root mean square of the voxel change a − b in each patch's block (patch order). */
export function inputChange(a: Pick<Volume, 'data' | 'dims'>, b: Pick<Volume, 'data' | 'dims'>, grid: readonly [number, number, number]): Float32Array {
  return tf.tidy(() => {
    const d = tf.sub(volumesToInput([a]), volumesToInput([b]));
    return blockMeans(d.square(), grid, 'inputChange').sqrt().dataSync() as Float32Array;
  });
}

export interface FeatureChange {
  grid: [number, number, number];
  /** ‖f_p(a) − f_p(b)‖ per patch, patch order */
  change: Float32Array;
}

/**
 * The per-patch feature change between two inputs of the frozen encoder (eval
 * mode): layer3 (the words' patches) and layer4 after the self-attention (the
 * pooled representation's and the attention map's).
 */
export function featureChange(encoder: ResNet3dEncoder, a: Pick<Volume, 'data' | 'dims'>, b: Pick<Volume, 'data' | 'dims'>): { layer3: FeatureChange; layer4: FeatureChange } {
  const norms = tf.tidy(() => {
    const out = encoder.apply(volumesToInput([a, b]), { training: false });
    return [out.layer3, out.layer4].map((t) => {
      const [fa, fb] = tf.split(t, 2, 0);
      return tf.sub(fa!, fb!).squeeze([0]).square().sum(-1).sqrt();
    });
  });
  const one = (t: tf.Tensor): FeatureChange => {
    const [gx, gy, gz] = t.shape as [number, number, number];
    const change = t.dataSync() as Float32Array;
    t.dispose();
    return { grid: [gx, gy, gz], change };
  };
  return { layer3: one(norms[0]!), layer4: one(norms[1]!) };
}

/** A profile averaged over cases: each bin's relative change and the tumour share, case means. */
export interface ReachSummary {
  cases: number;
  /** mean over cases of each bin's change ÷ the tumour patches' (cases with the bin empty left out of that bin; null: empty in every case) */
  relative: (number | null)[];
  /** mean over cases of the tumour patches' share of the squared change (null: no change at all) */
  tumourShare: number | null;
  /** mean over cases of the tumour patches' share of the patches */
  tumourFraction: number;
}

export function summarizeReach(profiles: readonly ReachProfile[]): ReachSummary {
  // null, not NaN, for nothing to average: the summary is written to JSON as it is
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null);
  const finite = (xs: number[]) => xs.filter((v) => Number.isFinite(v));
  return {
    cases: profiles.length,
    relative: Array.from({ length: REACH_BINS }, (_, b) => mean(finite(profiles.map((p) => p.relative[b]!)))),
    tumourShare: mean(finite(profiles.map((p) => p.tumourShare))),
    tumourFraction: mean(profiles.map((p) => p.tumourFraction)) ?? 0,
  };
}

/** A case's image and its tumour-free counterpart, both on the encoder's input grid and scaled alike, with its mask. */
export interface ReachCase {
  id: string;
  image: Pick<Volume, 'data' | 'dims'>;
  tumourFree: Pick<Volume, 'data' | 'dims'>;
  mask: Pick<Volume, 'data' | 'dims'>;
}

/**
 * The input's change and each encoder's (layer3, layer4) over the cases.
 * Encoders are taken one at a time from the iterable (a generator may build
 * each and dispose of it once the next is asked for); each case's patch
 * distances and the input's change are computed once, on the first
 * encoder's layer3 grid.
 */
export function measureTumourReach<E extends { name: string; encoder: ResNet3dEncoder }>(
  cases: readonly ReachCase[],
  encoders: Iterable<E>,
): { input: ReachSummary; encoders: (E & { layer3: ReachSummary; layer4: ReachSummary })[] } {
  const distances = cases.map(() => new Map<string, Int32Array>());
  const dist = (i: number, grid: [number, number, number]) => {
    const key = grid.join('x');
    let d = distances[i]!.get(key);
    if (!d) distances[i]!.set(key, (d = patchDistances(tumourPatches(cases[i]!.mask, grid), grid)));
    return d;
  };
  let input: ReachProfile[] | undefined;
  const out: (E & { layer3: ReachSummary; layer4: ReachSummary })[] = [];
  for (const e of encoders) {
    const layer3: ReachProfile[] = [];
    const layer4: ReachProfile[] = [];
    const first = !input;
    input ??= [];
    cases.forEach((c, i) => {
      const fc = featureChange(e.encoder, c.image, c.tumourFree);
      layer3.push(reachProfile(fc.layer3.change, dist(i, fc.layer3.grid)));
      layer4.push(reachProfile(fc.layer4.change, dist(i, fc.layer4.grid)));
      if (first) input!.push(reachProfile(inputChange(c.image, c.tumourFree, fc.layer3.grid), dist(i, fc.layer3.grid)));
    });
    out.push({ ...e, layer3: summarizeReach(layer3), layer4: summarizeReach(layer4) });
  }
  return { input: summarizeReach(input ?? []), encoders: out };
}
