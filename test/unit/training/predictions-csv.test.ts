// predictions.csv keeps each case's map foreground fraction, whole-map floor,
// grid-cell bound and threshold-free mass and peak beside its Dice; the split
// means in metrics.json are recomputable from it; files written before these
// columns still read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readPredictions, splitMetrics, writePredictions, type Prediction } from '../../../src/engine/training/finetune';

const P: Prediction[] = [
  { id: 'a', cohort: 'internal', label: 1, score: 0.75, dice2d: 0.04, dice3d: 0.006, foreground: 0.998, floor2d: 0.04, floor3d: 0.006, bound2d: 0.05, bound3d: 0.008, mass3d: 0.125, massFloor3d: 0.003, pointing: 1 },
  { id: 'b,"x"', cohort: 'internal', label: 0, score: 0.25, dice2d: 0.2, dice3d: 0.1, foreground: 0.5, floor2d: 0.1, floor3d: 0.02, bound2d: 0.3, bound3d: 0.2, mass3d: 0.375, massFloor3d: 0.01, pointing: 0 },
  // a map but no mask: foreground only
  { id: 'c', cohort: 'internal', label: 0, score: 0.5, dice2d: null, dice3d: null, foreground: 0.25, floor2d: null, floor3d: null, bound2d: null, bound3d: null, mass3d: null, massFloor3d: null, pointing: null },
];
const NO_MASS = { mass3d: null, massFloor3d: null, pointing: null };

test('predictions.csv: the map columns round-trip, header and order as documented', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-pred-'));
  const path = join(dir, 'predictions.csv');
  writePredictions(path, P);
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines[0], 'id,cohort,label,score,dice2d,dice3d,foreground,floor2d,floor3d,bound2d,bound3d,mass3d,massFloor3d,pointing');
  assert.equal(lines[1], 'a,internal,1,0.75,0.04,0.006,0.998,0.04,0.006,0.05,0.008,0.125,0.003,1');
  assert.equal(lines[3], 'c,internal,0,0.5,,,0.25,,,,,,,');
  assert.deepEqual(readPredictions(path), P);
});

test('predictions.csv written before the map columns reads with them null', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-pred-'));
  const path = join(dir, 'predictions.csv');
  writeFileSync(path, 'id,cohort,label,score,dice2d,dice3d\nC07,internal,1,0.9,0.1,0.2\n');
  assert.deepEqual(readPredictions(path), [
    { id: 'C07', cohort: 'internal', label: 1, score: 0.9, dice2d: 0.1, dice3d: 0.2, foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null, ...NO_MASS },
  ]);
  // written before the mass columns
  writeFileSync(path, 'id,cohort,label,score,dice2d,dice3d,foreground,floor2d,floor3d,bound2d,bound3d\nC07,internal,1,0.9,0.1,0.2,0.05,0.01,0.002,0.3,0.2\n');
  assert.deepEqual(readPredictions(path), [
    { id: 'C07', cohort: 'internal', label: 1, score: 0.9, dice2d: 0.1, dice3d: 0.2, foreground: 0.05, floor2d: 0.01, floor3d: 0.002, bound2d: 0.3, bound3d: 0.2, ...NO_MASS },
  ]);
  writeFileSync(path, 'id,cohort,label,score\nC07,internal,1,0.9\n');
  assert.throws(() => readPredictions(path), /not a predictions file/);
});

test('splitMetrics: the mean foreground over cases with a map, floors and bounds over cases with a Dice', () => {
  const m = splitMetrics(P, 0.5);
  const close = (a: number | null | undefined, b: number, what: string) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-15, `${what}: ${a} ≠ ${b}`);
  close(m.foreground, (0.998 + 0.5 + 0.25) / 3, 'foreground');
  close(m.floor3d, (0.006 + 0.02) / 2, 'floor3d');
  close(m.floor2d, (0.04 + 0.1) / 2, 'floor2d');
  close(m.bound3d, (0.008 + 0.2) / 2, 'bound3d');
  close(m.bound2d, (0.05 + 0.3) / 2, 'bound2d');
  close(m.dice3d, (0.006 + 0.1) / 2, 'dice3d');
  close(m.mass3d, (0.125 + 0.375) / 2, 'mass3d');
  close(m.massFloor3d, (0.003 + 0.01) / 2, 'massFloor3d');
  close(m.pointing, 0.5, 'pointing');
  const none = splitMetrics([{ ...P[2]!, foreground: null }], 0.5);
  assert.equal(none.foreground, null);
  assert.equal(none.floor3d, null);
  assert.equal(none.mass3d, null);
  assert.equal(none.pointing, null);
});
