// bin/mrcl.js reruns itself with the training node flags (src/cli/launch.ts)
// and passes on exit codes and signals; a Ctrl-C that reaches the CLI twice
// (terminal + relauncher) stops it once, at a step boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRAINING_NODE_FLAGS, hasTrainingNodeFlags } from '../../../src/shared/node-flags';
import { firstStepRun, tinyWorkspace } from '../experiment/helpers';
import { REPEAT_SIGINT_MS, interruptSignal, type SignalHost } from '../../../src/cli/main';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'mrcl.js');

function requireBuild(): void {
  for (const f of ['launch.js', 'cli.js']) assert.ok(existsSync(join(root, 'dist', f)), `dist/${f} is missing: run \`npm run build\` first (npm test does)`);
}

test('hasTrainingNodeFlags: from the command line or NODE_OPTIONS, any pool size', () => {
  const cases: Array<[string[], string, boolean]> = [
    [[], '', false],
    [['--max-old-space-size=4096'], '--inspect', false],
    [['--v8-pool-size=1'], '', true],
    [['--v8-pool-size=8'], '', true],
    [[], '--max-old-space-size=100 --v8-pool-size=3', true],
  ];
  for (const [argv, opts, want] of cases) assert.equal(hasTrainingNodeFlags(argv, opts), want, `${JSON.stringify(argv)} NODE_OPTIONS=${opts}`);
  assert.deepEqual(TRAINING_NODE_FLAGS, ['--v8-pool-size=1']);
});

function backendNode(env: NodeJS.ProcessEnv): { execArgv: string[]; trainingFlags: boolean } {
  const out = execFileSync(process.execPath, [bin, 'backend', '--json'], { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8' });
  return JSON.parse(out).node;
}

test('bin/mrcl.js runs the CLI with the training flags; MRCL_RELAUNCH=0 and a pool size already given are kept as they are', () => {
  requireBuild();
  assert.deepEqual(backendNode({}), { ...backendNode({}), execArgv: ['--v8-pool-size=1'], trainingFlags: true });
  const off = backendNode({ MRCL_RELAUNCH: '0' });
  assert.deepEqual(off.execArgv, []);
  assert.equal(off.trainingFlags, false);
  const own = backendNode({ NODE_OPTIONS: '--v8-pool-size=2' });
  assert.deepEqual(own.execArgv, [], 'not relaunched: NODE_OPTIONS sets the pool size');
  assert.equal(own.trainingFlags, true);
});

test('bin/mrcl.js passes on the exit code', () => {
  requireBuild();
  const r = spawn(process.execPath, [bin, 'no-such-command'], { stdio: 'ignore' });
  return new Promise<void>((resolve) =>
    r.on('exit', (code) => {
      assert.equal(code, 2);
      resolve();
    }),
  );
});

/** Starts `mrcl pretrain` through bin/mrcl.js in its own process group and waits for its first step. */
async function pretrainThroughBin(): Promise<{ child: ReturnType<typeof spawn>; runDir: string }> {
  const ws = await tinyWorkspace({ pretrain: { epochs: 20, batchSize: 4 } });
  const child = spawn(process.execPath, [bin, 'pretrain', ws.configPath], { stdio: 'ignore', detached: true, env: { ...process.env, NODE_OPTIONS: '' } });
  const runDir = await firstStepRun(join(ws.dir, 'runs'), child);
  return { child, runDir };
}

const exitOf = (child: ReturnType<typeof spawn>) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));

test('SIGTERM to bin/mrcl.js reaches the CLI, which stops at a step boundary (run cancelled, exit 130)', { timeout: 600_000 }, async () => {
  requireBuild();
  const { child, runDir } = await pretrainThroughBin();
  child.kill('SIGTERM');
  assert.equal(await exitOf(child), 130);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).stages.pretrain, 'cancelled');
});

test('a Ctrl-C (SIGINT to the process group: the relauncher and the CLI both get it, and the relauncher passes its own on) stops the run once, at a step boundary', { timeout: 600_000 }, async () => {
  requireBuild();
  const { child, runDir } = await pretrainThroughBin();
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exitOf(child), 130);
  // a second SIGINT taken as "exit now" would leave the stage marked running, not cancelled
  assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).stages.pretrain, 'cancelled');
});

test('interruptSignal: the first SIGINT aborts; a repeat within REPEAT_SIGINT_MS is the same Ctrl-C; a later one exits with 130; SIGTERM aborts', () => {
  const listeners = new Map<string, Array<() => void>>();
  let clock = 0;
  const exits: number[] = [];
  const host: SignalHost = {
    once: (s, l) => {
      const wrapped = () => {
        listeners.set(s, (listeners.get(s) ?? []).filter((x) => x !== wrapped));
        l();
      };
      listeners.set(s, [...(listeners.get(s) ?? []), wrapped]);
    },
    on: (s, l) => listeners.set(s, [...(listeners.get(s) ?? []), l]),
    off: (s, l) => listeners.set(s, (listeners.get(s) ?? []).filter((x) => x !== l)),
    exit: (code) => void exits.push(code),
    now: () => clock,
    warn: () => {},
  };
  const send = (s: string) => [...(listeners.get(s) ?? [])].forEach((l) => l());
  const signal = interruptSignal(host);
  assert.equal(signal.aborted, false);
  send('SIGINT');
  assert.equal(signal.aborted, true);
  // the relauncher's copy comes within milliseconds; a person pressing Ctrl-C again takes longer than the window
  assert.ok(REPEAT_SIGINT_MS >= 200 && REPEAT_SIGINT_MS <= 2000, `window ${REPEAT_SIGINT_MS} ms`);
  clock = 100;
  send('SIGINT');
  assert.deepEqual(exits, [], 'a repeat 100 ms later does not exit');
  clock = REPEAT_SIGINT_MS;
  send('SIGINT');
  assert.deepEqual(exits, [130]);
  const term = interruptSignal(host);
  send('SIGTERM');
  assert.equal(term.aborted, true);
});
