import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { globalTripletLoss } from '../../../src/engine/losses';
import { assertClose, cpu, finiteDifferences, gradients, noLeaks, value } from './helpers';

// Hand-derived table. Rows (d = 1 − cos):
//   image  i0 = (1, 0)   i1 = (0, 1)   i2 = (−1, 0)
//   text   t0 = (1, 0)   t1 = (0, 2)   t2 = (0, −1)
// negatives: image anchor i → text [1, 2, 0]; text anchor i → image [2, 0, 1]
//   d(i0,t0)=0 d(i1,t1)=0 d(i2,t2)=1 | image-anchor negatives: d(i0,t1)=1 d(i1,t2)=2 d(i2,t0)=2
//                                     | text-anchor negatives:  d(t0,i2)=2 d(t1,i0)=1 d(t2,i1)=2
// term = max(0, d(a,p) − w·d(a,n) + m), w = λ when locations match, else 1; L = Σ / 6.
const IMAGE = [[1, 0], [0, 1], [-1, 0]];
const TEXT = [[1, 0], [0, 2], [0, -1]];
const NEG = { imageAnchor: [1, 2, 0], textAnchor: [2, 0, 1] };
const TABLE: { what: string; locations?: (string | number)[]; margin: number; lambda: number; expected: number }[] = [
  // terms 0.5, 0, 0.5 | 0, 0.5, 0.5
  { what: 'no locations, m = 1.5', margin: 1.5, lambda: 0.5, expected: 2 / 6 },
  // i0–t1 and t1–i0 share A: 1.0 each; i2: 0.5; t2: 0.5
  { what: 'locations A A B, m = 1.5', locations: ['A', 'A', 'B'], margin: 1.5, lambda: 0.5, expected: 3 / 6 },
  // every negative same-location: 1.0, 0.5, 1.5 | 0.5, 1.0, 1.5
  { what: 'all same location, λ = 0.5', locations: [0, 0, 0], margin: 1.5, lambda: 0.5, expected: 6 / 6 },
  // λ = 0: only d(a,p) + m: 1.5, 1.5, 2.5 | 1.5, 1.5, 2.5
  { what: 'all same location, λ = 0', locations: [0, 0, 0], margin: 1.5, lambda: 0, expected: 11 / 6 },
  // λ = 1 is plain triplet whatever the locations
  { what: 'all same location, λ = 1', locations: [0, 0, 0], margin: 1.5, lambda: 1, expected: 2 / 6 },
  // default margin 0.25: every term is negative
  { what: 'locations A A B, default margin', locations: ['A', 'A', 'B'], margin: 0.25, lambda: 0.5, expected: 0 },
];

test('global triplet loss matches the hand-derived table', async () => {
  await cpu();
  for (const row of TABLE) {
    const image = tf.tensor2d(IMAGE);
    const text = tf.tensor2d(TEXT);
    const got = value(() => globalTripletLoss(image, text, { negatives: NEG, locations: row.locations, margin: row.margin, locationWeight: row.lambda }));
    assert.ok(Math.abs(got - row.expected) < 1e-6, `${row.what}: ${got} ≠ ${row.expected}`);
    tf.dispose([image, text]);
  }
});

test('global triplet defaults: m = 0.25, λ = 0.5, semi-hard needs N ≥ 3', async () => {
  await cpu();
  const image = tf.tensor2d(IMAGE);
  const text = tf.tensor2d(TEXT);
  // with N = 3 and k = 2 both other indices are candidates: the closest is taken
  // image anchors: i0→ t1 (1) vs t2 (1): tie → 1; i1 → t0 (1) vs t2 (2) → 0; i2 → t0 (2) vs t1 (1) → 1
  // text anchors: t0 → i1 (1) vs i2 (2) → 1; t1 → i0 (1) vs i2 (1) → 0; t2 → i0 (1) vs i1 (2) → 0
  // margin 0.25: terms max(0, 0−1+.25)=0, max(0,0−1+.25)=0, max(0, 1−1+.25)=0.25 | 0, 0, max(0, 1−1+.25)=0.25
  const got = value(() => globalTripletLoss(image, text, { seed: 3 }));
  assert.ok(Math.abs(got - 0.5 / 6) < 1e-6, `got ${got}`);
  const two = tf.tensor2d([[1, 0], [0, 1]]);
  assert.throws(() => globalTripletLoss(two, two), /globalTripletLoss: k = 2 \(semi-hard\) needs a batch of at least 3, got N = 2/);
  assert.throws(() => globalTripletLoss(two, two, { k: 'semihard' }), /at least 3/);
  // k = 1 (random) works with N = 2: the only other index
  const random = value(() => globalTripletLoss(two, two, { k: 'random' }));
  assert.ok(Math.abs(random - 0) < 1e-6, `N = 2 random: ${random}`); // 0 − 1 + 0.25 < 0
  tf.dispose([image, text, two]);
});

test('global triplet rejects bad input with clear messages', async () => {
  await cpu();
  const a = tf.tensor2d(IMAGE);
  const b = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.throws(() => globalTripletLoss(a, b), /same shape/);
  assert.throws(() => globalTripletLoss(a, a, { locations: [0, 1] }), /2 locations for a batch of 3/);
  assert.throws(() => globalTripletLoss(a, a, { negatives: { imageAnchor: [0, 2, 0], textAnchor: [1, 2, 0] } }), /imageAnchor\[0\] is the anchor itself/);
  assert.throws(() => globalTripletLoss(a, a, { negatives: { imageAnchor: [1, 2, 3], textAnchor: [1, 2, 0] } }), /imageAnchor\[2\] = 3 is not an index/);
  assert.throws(() => globalTripletLoss(a, a, { margin: -1 }), /margin/);
  assert.throws(() => globalTripletLoss(a, a, { locationWeight: 2 }), /locationWeight/);
  assert.throws(() => globalTripletLoss(a, a, { k: 3 }), /k = 3 needs a batch of at least 4/);
  assert.throws(() => globalTripletLoss(a, a, { k: 0 }), /positive integer/);
  tf.dispose([a, b]);
});

test('identical and zero embeddings give finite values and gradients', async () => {
  await cpu();
  const same = tf.tensor2d([[0.3, -0.2, 0.5], [0.3, -0.2, 0.5], [0.3, -0.2, 0.5]]);
  // every distance 0: each term is max(0, 0 − 0 + m) = m, so L = m
  const l = value(() => globalTripletLoss(same, same, { margin: 0.25 }));
  assert.ok(Math.abs(l - 0.25) < 1e-6, `identical: ${l}`);
  const zeros = tf.zeros([3, 3]) as tf.Tensor2D;
  const other = tf.tensor2d([[1, 2, 3], [-1, 0, 2], [0.5, 0.5, -1]]);
  // a zero vector has cosine 0 with anything: every d = 1, term = 1 − 1 + m
  const z = value(() => globalTripletLoss(zeros, other, { margin: 0.25, locations: [0, 1, 2] }));
  assert.ok(Math.abs(z - 0.25) < 1e-6, `zeros: ${z}`);
  const zz = value(() => globalTripletLoss(zeros, zeros, { margin: 0.25 }));
  assert.ok(Math.abs(zz - 0.25) < 1e-6, `all zeros: ${zz}`);
  for (const [x, y] of [[same, same], [zeros, other], [zeros, zeros]] as const) {
    for (const g of gradients((p, q) => globalTripletLoss(p as tf.Tensor2D, q as tf.Tensor2D, { margin: 0.25 }), [x, y])) {
      assert.ok(g.every(Number.isFinite), 'gradient has NaN or Infinity');
    }
  }
  tf.dispose([same, zeros, other]);
});

test('global triplet gradient matches finite differences', async () => {
  await cpu();
  const image = tf.tensor2d([[0.9, 0.2, -0.4], [-0.3, 1.1, 0.5], [0.4, -0.7, 0.8], [1.2, 0.3, 0.1]]);
  const text = tf.tensor2d([[0.7, 0.5, -0.2], [0.1, 0.9, 0.9], [0.6, -0.4, 0.3], [0.8, -0.5, 0.6]]);
  const opts = { negatives: { imageAnchor: [1, 2, 3, 0], textAnchor: [3, 0, 1, 2] }, locations: [0, 1, 0, 0], margin: 1.2 };
  const f = (a: tf.Tensor, b: tf.Tensor) => globalTripletLoss(a as tf.Tensor2D, b as tf.Tensor2D, opts);
  const analytic = gradients(f, [image, text]);
  const numeric = finiteDifferences(f, [image, text], 1e-2);
  assertClose(analytic[0], numeric[0], 2e-3, 'd/dimage');
  assertClose(analytic[1], numeric[1], 2e-3, 'd/dtext');
  assert.ok(analytic[0].some((g) => Math.abs(g) > 0.01), 'gradient should not vanish here');
  tf.dispose([image, text]);
});

test('global triplet leaks no tensors (value, sampling and gradient)', async () => {
  await cpu();
  const image = tf.tensor2d([[0.9, 0.2], [-0.3, 1.1], [0.4, -0.7], [1.2, 0.3]]);
  const text = tf.tensor2d([[0.7, 0.5], [0.1, 0.9], [0.6, -0.4], [0.8, -0.5]]);
  noLeaks('loss', () => value(() => globalTripletLoss(image, text, { locations: [0, 1, 2, 0], k: 'hard' })));
  noLeaks('gradient', () => gradients((a, b) => globalTripletLoss(a as tf.Tensor2D, b as tf.Tensor2D, { locations: [0, 1, 2, 0], seed: 5 }), [image, text]));
  noLeaks('error path', () => assert.throws(() => globalTripletLoss(image, text, { negatives: { imageAnchor: [0, 0, 0, 0], textAnchor: [1, 0, 0, 0] } })));
  tf.dispose([image, text]);
});

test('location weighting: λ = 1 and useLocation false give the plain triplet loss, λ = 0 drops same-location negatives (hand-derived)', async () => {
  await cpu();
  // anchors 0 and 1 share a location; each one's negative is the other
  const img = tf.tensor2d([[1, 0], [0, 1]]);
  const txt = tf.tensor2d([[1, 0], [0, 1]]);
  const negatives = { imageAnchor: [1, 0], textAnchor: [1, 0] };
  const loss = (o: Parameters<typeof globalTripletLoss>[2]) => value(() => globalTripletLoss(img, txt, { negatives, margin: 1.5, ...o }));
  // d(pos) = 0, d(neg) = 1: plain triplet per term max(0, 0 − 1 + 1.5) = 0.5
  const plain = loss({});
  assert.ok(Math.abs(plain - 0.5) < 1e-6, `plain ${plain}`);
  assert.ok(Math.abs(loss({ locations: ['a', 'a'], locationWeight: 1 }) - plain) < 1e-6);
  // λ = 0: the negative's distance is dropped, each term 0 − 0 + 1.5
  assert.ok(Math.abs(loss({ locations: ['a', 'a'], locationWeight: 0 }) - 1.5) < 1e-6);
  // margin mode: same location → sameMargin (0.2 + 0 − 1 < 0 → 0); different → differentMargin 1.4 → 0.4
  assert.ok(Math.abs(loss({ locations: ['a', 'a'], locationMode: 'margin', sameMargin: 0.2, differentMargin: 1.4 })) < 1e-6);
  assert.ok(Math.abs(loss({ locations: ['a', 'b'], locationMode: 'margin', sameMargin: 0.2, differentMargin: 1.4 }) - 0.4) < 1e-6);
  tf.dispose([img, txt]);
});

// Why location weighting can hold the global embeddings collapsed
// (docs/METHOD.md §5, "Location weighting and the collapse"). Unaligned
// pairs spread by s around one direction u: images u + s·x_k, reports
// u + s·y_k with every x ⟂ every y, so every image–report distance is the
// same, D(s) = 1 − 1/(1 + s²) = s²/(1 + s²), pair or negative. Each term is
// then m + (1 − w)·D with w = λ for a same-location negative and 1 for
// another: L = m + q·(1 − λ)·D(s), q the share of same-location negatives.
// Plain triplet (q = 0 or λ = 1) is flat in s; with location weighting the
// loss falls as the spread shrinks, dL/ds = q(1 − λ)·2s/(1 + s²)² > 0, so
// before the pairs are aligned the gradient pulls toward the collapsed
// point. Aligned pairs (reports u + s·x_k) reverse it: spreading lowers L.
test('location weighting: with unaligned pairs the loss falls as the spread shrinks (plain triplet is flat); aligned pairs reverse it (hand-derived)', async () => {
  await cpu();
  const x = [[1, 0, 0, 0], [0, 1, 0, 0], [-1, 0, 0, 0], [0, -1, 0, 0]];
  const y = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, -1, 0], [0, 0, 0, -1]];
  const spread = (s: tf.Scalar, dirs: number[][]) => tf.add(tf.tensor2d(dirs.map(() => [1, 0, 0, 0, 0])), tf.mul(s, tf.tensor2d(dirs.map((d) => [0, ...d])))) as tf.Tensor2D;
  const negatives = { imageAnchor: [1, 2, 3, 0], textAnchor: [3, 0, 1, 2] };
  const cases: { what: string; locations?: string[]; lambda: number; q: number }[] = [
    { what: 'no locations', lambda: 0.5, q: 0 },
    { what: 'every negative another location', locations: ['A', 'B', 'C', 'D'], lambda: 0.5, q: 0 },
    // image anchors 0→1 and 2→3 share a location, text anchors 1→0 and 3→2
    { what: 'half the negatives same-location', locations: ['A', 'A', 'B', 'B'], lambda: 0.5, q: 0.5 },
    { what: 'every negative same-location', locations: ['A', 'A', 'A', 'A'], lambda: 0.5, q: 1 },
    { what: 'every negative same-location, λ = 1', locations: ['A', 'A', 'A', 'A'], lambda: 1, q: 1 },
  ];
  const before = tf.memory().numTensors;
  for (const c of cases) {
    const loss = (s: tf.Scalar, reportDirs: number[][]) => globalTripletLoss(spread(s, x), spread(s, reportDirs), { negatives, locations: c.locations, locationWeight: c.lambda });
    const grad = tf.grad((s: tf.Tensor) => loss(s as tf.Scalar, y));
    for (const s of [0.05, 0.2, 0.5]) {
      const D = (s * s) / (1 + s * s);
      const sT = tf.scalar(s);
      const got = value(() => tf.tidy(() => loss(sT, y)));
      const want = 0.25 + c.q * (1 - c.lambda) * D;
      assert.ok(Math.abs(got - want) < 1e-6, `${c.what}, s = ${s}: L ${got} ≠ ${want}`);
      const g = value(() => grad(sT) as tf.Scalar);
      const gWant = (c.q * (1 - c.lambda) * 2 * s) / (1 + s * s) ** 2;
      assert.ok(Math.abs(g - gWant) < 1e-4, `${c.what}, s = ${s}: dL/ds ${g} ≠ ${gWant}`);
      if (c.q > 0 && c.lambda < 1) assert.ok(g > 0, `${c.what}: shrinking the spread lowers the loss`);
      else assert.ok(Math.abs(g) < 1e-5, `${c.what}: flat in s (${g})`);
      // aligned pairs: d(a, p) = 0 and each negative (x_k ⟂ x_k+1) at D(s): L = m − λ·D(s), falling as s grows
      if (c.q === 1 && c.lambda === 0.5 && s === 0.2) {
        const aligned = tf.grad((t: tf.Tensor) => loss(t as tf.Scalar, x))(sT);
        assert.ok((aligned.dataSync()[0] as number) < 0, 'aligned pairs: spreading lowers the loss');
        aligned.dispose();
      }
      sT.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});
