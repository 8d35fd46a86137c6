// Child process of signals.test.ts: runs the addon's GEMM-based kernels in a
// loop while the parent keeps sending it signals it handles, and checks that
// every repetition gives the same bits. Prints READY when its handlers are
// installed and OK <repetitions> <signals handled> at the end.
'use strict';
const addon = require(process.argv[2]);
const durationMs = Number(process.argv[3] ?? 3000);
addon.setNumThreads(2);
let handled = 0;
for (const s of ['SIGWINCH', 'SIGCHLD']) process.on(s, () => handled++);

function filled(n, seed) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed + 0.37 * i);
  return a;
}
// [batchA, batchB, m, k, n, transposeA, transposeB]: the engine's linear layers and attention products
const CASES = [
  [1, 1, 220, 64, 256, false, false],
  [1, 1, 512, 256, 256, false, true],
  [4, 4, 128, 256, 128, false, false],
  [8, 8, 55, 32, 64, true, false],
];
const inputs = CASES.map(([ba, bb, m, k, n], i) => [filled(ba * m * k, i), filled(bb * k * n, 10 + i)]);
function checksum() {
  let s = 0;
  CASES.forEach(([ba, bb, m, k, n, ta, tb], i) => {
    const y = new Float32Array(Math.max(ba, bb) * m * n);
    addon.batchMatMul(inputs[i][0], inputs[i][1], y, ba, bb, m, k, n, ta, tb);
    for (let j = 0; j < y.length; j += 7) s += y[j] * ((j % 13) + 1);
    // churn the heap as tensors do
    Buffer.allocUnsafeSlow(((i + 1) * 65536) | 0).fill(1);
  });
  return s;
}
const reference = checksum();
process.stdout.write('READY\n');
const end = Date.now() + durationMs;
let reps = 0;
while (Date.now() < end) {
  const got = checksum();
  reps++;
  if (got !== reference) {
    process.stdout.write(`MISMATCH ${got} ${reference}\n`);
    process.exit(2);
  }
}
// let pending handlers run before reporting
setImmediate(() => process.stdout.write(`OK ${reps} ${handled}\n`));
