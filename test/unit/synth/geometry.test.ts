import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headGrid, worldAt } from '../../../src/engine/synth/grid';
import { HeadPose, TEMPLATE, tentoriumDistance } from '../../../src/engine/synth/phantom';
import { dot, rotationDeg, sub, type Vec3 } from '../../../src/engine/synth/math';
import { Rng } from '../../../src/engine/util/rng';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('default grid: 2.8 × 3.4 × 3.6 mm voxels, RAS+, world origin at the volume centre', () => {
  const g = headGrid([64, 64, 40]);
  g.pixdim.forEach((p, a) => close(p, [2.8, 3.4, 3.6][a]));
  // translation = −pixdim · (n − 1) / 2
  [-88.2, -107.1, -70.2].forEach((t, a) => close(g.affine[a][3], t, 1e-9));
  close(worldAt(g, 0, 31.5), 0);
  close(worldAt(g, 1, 31.5), 0);
  close(worldAt(g, 2, 19.5), 0);
  assert.deepEqual(g.affine[3], [0, 0, 0, 1]);
});

test('a smaller grid keeps the same field of view', () => {
  const g = headGrid([24, 24, 16]);
  close(g.pixdim[0] * 24, 179.2, 1e-9);
  close(g.pixdim[1] * 24, 217.6, 1e-9);
  close(g.pixdim[2] * 16, 144, 1e-9);
});

test('tentorium plane: hand-computed signed distances in template space', () => {
  // plane through (0, −38, −14) with normal (0, −1, 4)/√17
  const s17 = Math.sqrt(17);
  close(tentoriumDistance([0, 0, 0]), (38 * -1 + 14 * 4) / s17);
  close(tentoriumDistance([0, -38, -14]), 0);
  close(tentoriumDistance([10, -38, -20]), (-6 * 4) / s17);
  // the plane rises anteriorly: the same height is above it posteriorly, below it anteriorly
  assert.ok(tentoriumDistance([0, -70, -15]) > 0);
  assert.ok(tentoriumDistance([0, 60, -15]) < 0);
  // cerebellum centre below, lateral ventricles above
  assert.ok(tentoriumDistance(TEMPLATE.posteriorFossa.c) < 0);
  assert.ok(tentoriumDistance([8, 4, 14]) > 0);
});

test('posed heads: world plane and template plane agree in sign; transforms invert', () => {
  const rng = new Rng(3);
  for (let n = 0; n < 20; n++) {
    const pose = new HeadPose(
      [rng.uniform(0.85, 1.1), rng.uniform(0.85, 1.1), rng.uniform(0.85, 1.1)],
      rotationDeg(rng.uniform(-8, 8), rng.uniform(-8, 8), rng.uniform(-8, 8)),
      [rng.uniform(-8, 8), rng.uniform(-8, 8), rng.uniform(-8, 8)],
    );
    const plane = pose.tentoriumWorld();
    close(dot(plane.normal, plane.normal), 1, 1e-12);
    for (let m = 0; m < 50; m++) {
      const q: Vec3 = [rng.uniform(-70, 70), rng.uniform(-90, 90), rng.uniform(-70, 70)];
      const p = pose.worldFromTemplate(q);
      const back = pose.templateFromWorld(p);
      back.forEach((v, a) => close(v, q[a], 1e-9));
      const dt = tentoriumDistance(q);
      const dw = dot(sub(p, plane.point), plane.normal);
      if (Math.abs(dt) > 1e-6) assert.equal(Math.sign(dw), Math.sign(dt));
    }
  }
});
