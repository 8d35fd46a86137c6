// One synthetic case from (seed, id): labels, patient, anatomy, tumour,
// scanner, then the mask, the image and (internal cases) the report. Each
// case has its own generator derived from the seed and its id, so a case
// does not change when the cohort around it grows.
import { hashSeed, Rng } from '../util/rng';
import type { Volume } from '../io/volume';
import { sampleLabels, type CaseLabels, type SynthMarker } from './labels';
import { type Grid } from './grid';
import { matMul, matVec, add, type Vec3 } from './math';
import { HeadPose, Phantom, samplePhantomSpec, type Plane, type PhantomSpec } from './phantom';
import { maskProblem, maskStats, rasterizeMask, renderImage, type MaskStats } from './render';
import { writeReport, type ReportFacts } from './reports';
import { sampleScanner, type Cohort } from './scanner';
import { sampleTumour, Tumour, type TumourSpec } from './tumour';
import { rasterizeTissue, type TissueMap } from './tissue';

/** Tumour redraws allowed before a case is declared impossible on this grid. */
const MAX_ATTEMPTS = 40;

export interface SynthCase {
  id: string;
  cohort: Cohort;
  labels: CaseLabels;
  image: Volume;
  mask: Volume;
  report: string | null;
  /** the tentorium in world mm; normal points to the supratentorial side */
  tentorium: Plane;
  stats: MaskStats;
  facts: ReportFacts;
  tumour: TumourSpec;
  /** the phantom's tissue classes on the image grid (only with `{ tissue: true }`) */
  tissue?: TissueMap;
  /**
   * The same head through the same scanner, with the same noise, without the
   * tumour (its signal, oedema and mass effect; the ventricles as the case
   * has them); only with `{ tumourFree: true }`. Evaluation only: what an
   * encoder's features owe to the tumour (explain/tumour-reach.ts).
   */
  tumourFree?: Volume;
}

function caseRng(seed: number, id: string): Rng {
  return new Rng(hashSeed(seed, `case:${id}`));
}

/** The labels case `id` gets under `seed`: what `synthesizeCase` would draw, without any volume. */
export function caseLabels(seed: number, id: string, prior?: Readonly<Record<SynthMarker, number>>): CaseLabels {
  return sampleLabels(caseRng(seed, id).fork('labels'), prior);
}

export function synthesizeCase(
  seed: number,
  id: string,
  cohort: Cohort,
  grid: Grid,
  prior?: Readonly<Record<SynthMarker, number>>,
  options: { tissue?: boolean; tumourFree?: boolean } = {},
): SynthCase {
  const rng = caseRng(seed, id);
  const labels = sampleLabels(rng.fork('labels'), prior);
  const patient = rng.fork('patient');
  const ageYears = 1 + patient.int(17);
  const sex = patient.next() < 0.5 ? 'boy' : 'girl';
  // the paper's Dataset 1 spans 2000–2018, Dataset 2 2018–2023
  const year = cohort === 'internal' ? 2000 + patient.int(19) : 2018 + patient.int(6);
  const head = samplePhantomSpec(rng.fork('head'), ageYears);
  const scanner = sampleScanner(rng.fork('scanner'), cohort);
  // the scanner's positioning is applied on top of the head's own pose
  const rotation = matMul(scanner.poseRotation, head.rotation);
  const shift: Vec3 = add(matVec(scanner.poseRotation, head.shift), scanner.poseShift);
  const pose = new HeadPose(head.size, rotation, shift);
  const tentorium = pose.tentoriumWorld();

  let problem = '';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const trng = rng.fork(`tumour:${attempt}`);
    const spec = sampleTumour(trng, labels.location, labels.marker);
    const tumour = new Tumour(spec, trng.fork('fields'));
    const maskData = rasterizeMask(pose, tumour, grid);
    const stats = maskStats(maskData, grid, tentorium);
    const why = maskProblem(stats, labels.location);
    if (why) {
      problem = why;
      continue;
    }
    const prng = trng.fork('ventricles');
    const phantomSpec: PhantomSpec = {
      size: head.size,
      rotation,
      shift,
      ventricleScale: spec.hydrocephalus ? prng.uniform(1.5, 2) : prng.uniform(0.9, 1.1),
      fourthVentricleScale: spec.fourthVentricleEffaced ? 0.35 : 1,
      periventricularEdema: spec.hydrocephalus && prng.next() < 0.6,
    };
    const phantom = new Phantom(phantomSpec, rng.fork('phantom'));
    const imageData = renderImage(phantom, tumour, scanner, grid, rng.fork('noise'));
    // forked again: the same noise stream as the image's
    const tumourFree = options.tumourFree ? renderImage(phantom, null, scanner, grid, rng.fork('noise')) : undefined;
    const facts: ReportFacts = {
      ...labels,
      site: spec.site,
      side: spec.side,
      ageYears,
      sex,
      extentMm: stats.extentMm,
      volumeMl: stats.volumeMl,
      cyst: spec.cyst !== null,
      largeCyst: spec.cyst !== null && spec.cyst.radius > 0.6 * Math.min(...spec.radii) * (1 - spec.lobulation),
      nodule: spec.nodule !== null,
      heterogeneous: spec.heterogeneity >= 0.06,
      margin: spec.margin < 1.3 ? 'circumscribed' : spec.margin < 2.3 ? 'lobulated' : 'infiltrative',
      edema: spec.edema > 0,
      massEffectMm: spec.massEffect,
      midlineShiftMm: tumour.midlineShift(),
      hydrocephalus: spec.hydrocephalus,
      periventricularEdema: phantomSpec.periventricularEdema,
      fourthVentricleEffaced: spec.fourthVentricleEffaced,
      year,
    };
    const volume = (data: Float32Array): Volume => ({ data, dims: [...grid.dims], pixdim: [...grid.pixdim], affine: grid.affine.map((r) => [...r]) as Volume['affine'] });
    return {
      id,
      cohort,
      labels,
      image: volume(imageData),
      mask: volume(Float32Array.from(maskData)),
      report: cohort === 'internal' ? writeReport(facts, rng.fork('report')) : null,
      tentorium,
      stats,
      facts,
      tumour: spec,
      ...(options.tissue ? { tissue: rasterizeTissue(phantom, tumour, grid) } : {}),
      ...(tumourFree ? { tumourFree: volume(tumourFree) } : {}),
    };
  }
  throw new Error(
    `synthesizeCohort: case ${id}: no ${labels.location} tumour fits a ${grid.dims.join('×')} grid after ${MAX_ATTEMPTS} tries (last: ${problem}); use a larger shape`,
  );
}
