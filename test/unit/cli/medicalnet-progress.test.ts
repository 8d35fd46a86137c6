import { test } from 'node:test';
import assert from 'node:assert/strict';
import { standinProgressPrinter } from '../../../src/cli/commands/medicalnet';

// Two epochs of 3 steps, 10 s a step: the training bar's elapsed time and ETA
// count over both epochs (a bar made anew each epoch restarted its clock, so
// the second epoch showed elapsed 00:00 and ETA 00:00 at its first step; the clock starts at the first step reported).
test('the stand-in training bar keeps one clock over all epochs', () => {
  let t = 0;
  const lines: string[] = [];
  const print = standinProgressPrinter((s) => lines.push(s), false, () => t);
  for (let epoch = 1; epoch <= 2; epoch++) {
    for (let step = 1; step <= 3; step++) {
      t += 10_000;
      print({ phase: 'train', epoch, epochs: 2, step, steps: 3, loss: 0.5 });
    }
    print({ phase: 'epoch', epoch, epochs: 2, loss: 0.5 });
  }
  const bars = lines.filter((l) => l.startsWith('standin train'));
  // non-tty: a line every 5 s, so every step's line is printed
  assert.equal(bars.length, 6);
  assert.match(bars[3]!, /4\/6 elapsed 00:30 ETA 00:15 epoch 2\/2/);
  assert.match(bars[5]!, /6\/6 elapsed 00:50 ETA 00:00/);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('epoch')),
    ['epoch 1/2: mean loss 0.5000\n', 'epoch 2/2: mean loss 0.5000\n'],
  );
});
