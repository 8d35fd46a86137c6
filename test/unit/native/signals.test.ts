// Signals arriving while oneDNN runs its JIT GEMM kernels (matmul, the
// gemm-based convolutions) must not corrupt memory: oneDNN up to 3.11 points
// the stack register into a heap workspace inside those kernels
// (uxlfoundation/oneDNN#4845), so a signal handler's frame lands on the heap.
// A CLI sees such signals in ordinary use: SIGCHLD when a worker process
// exits, SIGWINCH when the terminal is resized, SIGINT, a sampling profiler's
// SIGPROF. The addon blocks asynchronous signals while its kernels run
// (they are delivered right after), which this test checks in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadAddon } from '../../../src/engine/native/addon';

test('a storm of handled signals during native GEMMs neither crashes nor changes results', async (t) => {
  const load = loadAddon('auto');
  if (!load.addon || !load.path) {
    t.skip(load.detail);
    return;
  }
  const child = spawn(process.execPath, [join(__dirname, 'signal-child.cjs'), load.path, '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => {
    out += d;
    if (!timer && out.includes('READY')) {
      timer = setInterval(() => {
        for (const s of ['SIGWINCH', 'SIGCHLD'] as const) {
          if (child.exitCode === null && child.signalCode === null && child.kill(s)) sent++;
        }
      }, 1);
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearInterval(timer);
  assert.equal(signal, null, `the child died of ${signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
  assert.equal(code, 0, `the child exited with ${code}: ${out.trim()} ${err.trim()}`);
  assert.ok(sent > 300, `only ${sent} signals were sent`);
  const m = /OK (\d+) (\d+)/.exec(out);
  assert.ok(m, `no OK line in ${JSON.stringify(out)}`);
  assert.ok(Number(m[1]) > 10, `only ${m[1]} repetitions`);
  assert.ok(Number(m[2]) > 100, `only ${m[2]} signals reached the handlers`);
});
