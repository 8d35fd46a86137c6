// Series choice from BIDS sidecars (no converter needed): the FLAIR rule,
// the filter syntax and the sidecar stripping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSeries, flairVerdict, parseSeriesFilter, stripSidecar, type ConvertedSeries } from '../../../src/engine/import/series';

const s = (name: string, sidecar: Record<string, unknown>): ConvertedSeries => ({ name, nifti: `/x/${name}.nii.gz`, sidecar });
const flair = s('3_AX_FLAIR', { SeriesDescription: 'AX FLAIR', SeriesNumber: 3, ScanningSequence: 'IR', InversionTime: 2.5, EchoTime: 0.12, ImageType: ['ORIGINAL', 'PRIMARY'] });
const t1 = s('5_T1_MPRAGE', { SeriesDescription: 'T1 MPRAGE', SeriesNumber: 5, ScanningSequence: 'GR\\IR', InversionTime: 0.9, EchoTime: 0.003 });
const t2 = s('4_T2_TSE', { SeriesDescription: 'T2 TSE', SeriesNumber: 4, ScanningSequence: 'SE', EchoTime: 0.1 });

test('the FLAIR rule: by name, or by long-TI inversion recovery with a long echo', () => {
  const table: [Record<string, unknown>, boolean][] = [
    [{ SeriesDescription: 'Sag 3D Flair' }, true],
    [{ ProtocolName: 't2_flair_tra' }, true],
    [{ SeriesDescription: 'T1 FLAIR' }, false], // T1-weighted FLAIR
    [{ SeriesDescription: 'Ax dark fluid', ScanningSequence: 'SE\\IR', InversionTime: 2.2, EchoTime: 0.09 }, true],
    [{ SeriesDescription: 'STIR', ScanningSequence: 'IR', InversionTime: 0.16, EchoTime: 0.07 }, false],
    [{ SeriesDescription: 'MPRAGE', ScanningSequence: 'GR\\IR', InversionTime: 1.1, EchoTime: 0.003 }, false],
    [{ SeriesDescription: 'IR long TE short', ScanningSequence: 'IR', InversionTime: 2.0, EchoTime: 0.01 }, false],
    [{}, false],
  ];
  for (const [sidecar, want] of table) assert.equal(flairVerdict(sidecar).flair, want, JSON.stringify(sidecar));
});

test('without a filter the FLAIR is chosen and the others skipped with the reason', () => {
  const c = chooseSeries([t1, flair, t2], []);
  assert.equal(c.chosen.name, '3_AX_FLAIR');
  assert.deepEqual(c.skipped.map((x) => x.name), ['5_T1_MPRAGE', '4_T2_TSE']);
  assert.match(c.skipped[0]!.reason, /^not a FLAIR \(SeriesDescription "T1 MPRAGE", ScanningSequence GR\\IR, InversionTime 0\.9 s, EchoTime 0\.003 s\)$/);
  assert.throws(() => chooseSeries([t1, t2], []), /no FLAIR series found; the study holds 5_T1_MPRAGE \("T1 MPRAGE"\), 4_T2_TSE \("T2 TSE"\); choose one with --series-filter/);
});

test('an original FLAIR beats a derived one; two originals need a filter', () => {
  const derived = s('7_AX_FLAIR_MPR', { SeriesDescription: 'AX FLAIR MPR', SeriesNumber: 7, ImageType: ['DERIVED', 'SECONDARY', 'MPR'] });
  const c = chooseSeries([derived, flair], []);
  assert.equal(c.chosen.name, '3_AX_FLAIR');
  assert.deepEqual(c.skipped, [{ name: '7_AX_FLAIR_MPR', reason: 'a derived FLAIR (ImageType DERIVED); an original one exists' }]);
  const other = s('8_COR_FLAIR', { SeriesDescription: 'COR FLAIR', SeriesNumber: 8 });
  assert.throws(() => chooseSeries([flair, other], []), /2 FLAIR series found \(3_AX_FLAIR, 8_COR_FLAIR\); choose one with --series-filter \(e\.g\. SeriesNumber=3\)/);
});

test('filters: ~ (regex, any case), !~ and = (numbers as numbers); all must hold; exactly one series must pass', () => {
  assert.equal(chooseSeries([flair, t1, t2], [parseSeriesFilter('SeriesDescription~^t1')]).chosen.name, '5_T1_MPRAGE');
  assert.equal(chooseSeries([flair, t1, t2], [parseSeriesFilter('SeriesNumber=4.0')]).chosen.name, '4_T2_TSE');
  assert.equal(chooseSeries([flair, t1, t2], [parseSeriesFilter('ScanningSequence~IR'), parseSeriesFilter('SeriesDescription!~flair')]).chosen.name, '5_T1_MPRAGE');
  assert.equal(chooseSeries([flair, t1], [parseSeriesFilter('ImageType~primary')]).chosen.name, '3_AX_FLAIR'); // list values joined
  const c = chooseSeries([flair, t1], [parseSeriesFilter('SeriesDescription=t1 mprage')]);
  assert.deepEqual(c.skipped, [{ name: '3_AX_FLAIR', reason: 'does not match the series filter "SeriesDescription=t1 mprage" (SeriesDescription: "AX FLAIR")' }]);
  assert.throws(() => chooseSeries([flair, t1, t2], [parseSeriesFilter('SeriesNumber!~9')]), /3 series match the series filter "SeriesNumber!~9"/);
  assert.throws(() => parseSeriesFilter('flair'), /expected FIELD~REGEX, FIELD!~REGEX or FIELD=VALUE/);
  assert.throws(() => parseSeriesFilter('SeriesDescription~('), /invalid regular expression/);
});

test('stripSidecar drops patient, person, institution, UID and date fields and keeps the acquisition', () => {
  const kept = stripSidecar({
    PatientName: 'A^B', PatientID: '1', PatientBirthDate: '19700101', PatientSex: 'F', PatientWeight: 60,
    InstitutionName: 'H', InstitutionAddress: 'R', InstitutionalDepartmentName: 'D', ReferringPhysicianName: 'X', OperatorsName: 'O',
    StationName: 'S', DeviceSerialNumber: '9', AccessionNumber: 'A1', StudyInstanceUID: '1.2', SeriesInstanceUID: '1.3', StudyID: '7',
    AcquisitionDateTime: '2020-01-01T10:00:00', StudyDate: '20200101', AcquisitionTime: '10:00:00', StudyTime: '100000',
    SeriesDescription: 'AX FLAIR', EchoTime: 0.12, InversionTime: 2.5, RepetitionTime: 9, SeriesNumber: 3, Manufacturer: 'M', SliceThickness: 2.5,
  });
  assert.deepEqual(kept, { SeriesDescription: 'AX FLAIR', EchoTime: 0.12, InversionTime: 2.5, RepetitionTime: 9, SeriesNumber: 3, Manufacturer: 'M', SliceThickness: 2.5 });
});
