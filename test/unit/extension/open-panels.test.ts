import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { OpenPanels, panelKey, stateKey } from '../../../src/extension/panels/open-panels';

class FakePanel {
  revealed = 0;
  private listeners: (() => void)[] = [];
  reveal(): void {
    this.revealed++;
  }
  onDidDispose(f: () => void): void {
    this.listeners.push(f);
  }
  dispose(): void {
    for (const f of this.listeners) f();
  }
}
const fake = () => new FakePanel() as unknown as vscode.WebviewPanel & FakePanel;

test('a second open reveals the panel showing the same thing; a closed one is made anew', () => {
  const open = new OpenPanels();
  let made = 0;
  const create = () => (made++, fake());
  const a = open.show(panelKey.dashboard('/r'), create) as ReturnType<typeof fake>;
  const again = open.show(panelKey.dashboard('/r'), create);
  assert.equal(again, a);
  assert.equal(a.revealed, 1);
  assert.equal(made, 1);
  open.show(panelKey.dashboard('/other'), create);
  assert.equal(made, 2, 'another run: another panel');
  a.dispose();
  open.show(panelKey.dashboard('/r'), create);
  assert.equal(made, 3, 'closed: opened again');
});

test('panels restored after a reload are found by their saved state', async () => {
  const open = new OpenPanels();
  const restored = fake();
  let got: unknown;
  const serializer = { deserializeWebviewPanel: async (_p: vscode.WebviewPanel, s: unknown) => void (got = s) };
  const state = { runDir: '/r', caseId: 'C1', fold: '/r/finetune/pretrained/fold-0', layout: 'axial' };
  await open.restoring(serializer, (s) => stateKey('viewer', s)).deserializeWebviewPanel(restored, state);
  assert.equal(got, state);
  assert.equal(open.show(panelKey.viewer('/r', 'C1', '/r/finetune/pretrained/fold-0'), () => assert.fail('should reveal')), restored);
  assert.notEqual(open.show(panelKey.viewer('/r', 'C1', '/r/finetune/random/fold-0'), fake), restored, 'another fold: another viewer');
  assert.equal(stateKey('report', { runDir: '/r' }), undefined, 'a report needs its case');
  assert.equal(stateKey('results', { path: '/r/results.json' }), panelKey.results('/r/results.json'));
  assert.equal(stateKey('dashboard', null), undefined);
});
