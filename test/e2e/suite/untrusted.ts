// Restricted Mode (an untrusted workspace): the extension activates, the
// Experiments view and diagnostics work, and starting a run is refused with
// a message instead of starting a worker.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MrclApi } from '../../../src/extension/extension';
import { skip, type TestCase } from './harness';

export function untrustedCases(): TestCase[] {
  let api: MrclApi | undefined;
  const ws = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  return [
    {
      name: 'restricted mode: the extension activates in an untrusted workspace',
      fn: async () => {
        if (vscode.workspace.isTrusted) skip('this workbench trusts the workspace (extension-development windows may be trusted)');
        api = await vscode.extensions.getExtension<MrclApi>('mri-report-cl.mri-report-cl')!.activate();
        assert.ok(api.tree);
      },
    },
    {
      name: 'restricted mode: experiments are still listed (viewing works)',
      fn: async () => {
        if (!api) skip('not in restricted mode');
        const snap = await api.tree.scan();
        assert.deepEqual(snap.experiments.map((e) => e.name), ['tiny']);
      },
    },
    {
      name: 'restricted mode: starting a run is refused, no worker starts',
      fn: async () => {
        if (!api) skip('not in restricted mode');
        const before = api.manager.list().length;
        const job = await vscode.commands.executeCommand('mrcl.generateSyntheticCohort', 'refused-cohort');
        assert.equal(job, undefined);
        const run = await vscode.commands.executeCommand('mrcl.runExperiment', vscode.Uri.file(join(ws(), 'tiny.mrcl.json')));
        assert.equal(run, undefined);
        assert.equal(api.manager.list().length, before);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(existsSync(join(ws(), 'refused-cohort')), false);
      },
    },
  ];
}
