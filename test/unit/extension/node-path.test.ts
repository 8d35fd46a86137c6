import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findOnPath, resolveNodeCommand } from '../../../src/extension/runs/node-path';

const files = (...paths: string[]) => (p: string) => paths.includes(p);

test('the setting wins: an absolute path, or a name looked up on PATH', () => {
  assert.deepEqual(resolveNodeCommand('/opt/node20/bin/node', { PATH: '/usr/bin' }, '/electron', files('/opt/node20/bin/node', '/usr/bin/node'), 'linux'), {
    command: '/opt/node20/bin/node',
    env: {},
    source: 'setting',
  });
  assert.deepEqual(resolveNodeCommand('node20', { PATH: '/a:/b' }, '/electron', files('/b/node20'), 'linux').command, '/b/node20');
});

test('a setting that names nothing executable is an error naming the setting', () => {
  assert.throws(() => resolveNodeCommand('/nope/node', { PATH: '/usr/bin' }, '/electron', files('/usr/bin/node'), 'linux'), /mrcl\.nodePath: "\/nope\/node" is not an executable file$/);
  assert.throws(() => resolveNodeCommand('nodez', { PATH: '/usr/bin' }, '/electron', files(), 'linux'), /"nodez" is not an executable file on PATH/);
});

test('no setting: node on PATH, else the host runtime run as node', () => {
  assert.deepEqual(resolveNodeCommand('', { PATH: '/x::/usr/bin' }, '/electron', files('/usr/bin/node'), 'linux'), { command: '/usr/bin/node', env: {}, source: 'PATH' });
  assert.deepEqual(resolveNodeCommand('  ', { PATH: '/x' }, '/app/code', files(), 'linux'), { command: '/app/code', env: { ELECTRON_RUN_AS_NODE: '1' }, source: 'extension host' });
  assert.deepEqual(resolveNodeCommand(undefined, {}, '/app/code', files(), 'linux').source, 'extension host');
});

test('findOnPath takes the first folder that has it, with the platform separator', () => {
  assert.equal(findOnPath(['node'], '/a:/b:/c', ':', files('/b/node', '/c/node')), '/b/node');
  assert.equal(findOnPath(['node.exe'], 'C:\\a;C:\\b', ';', (p) => p.endsWith('node.exe') && p.includes('b')), 'C:\\b/node.exe');
  assert.equal(findOnPath(['node'], undefined, ':', files('/node')), undefined);
});
