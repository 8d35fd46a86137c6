// Select Compute Backend: shows which TF.js backends load on this machine
// (asked of the engine in a child process, never loaded into the editor) and
// stores the choice in the `mrcl.backend` setting.
import * as vscode from 'vscode';
import type { BackendSetting } from '../settings';
import { readSettings, SECTION } from '../settings';
import { runCli } from '../runs/engine-paths';
import { command, type CommandDef } from './define';

interface Probe {
  preference: string;
  available: boolean;
  detail: string;
}

const CHOICES: readonly BackendSetting[] = ['config', 'auto', 'cpu', 'tensorflow', 'tensorflow-gpu'];

export const backendCommands: CommandDef[] = [
  command('selectBackend', async (s, arg) => {
    let choice = typeof arg === 'string' ? (arg as BackendSetting) : undefined;
    if (choice !== undefined && !CHOICES.includes(choice)) throw new Error(`Select Compute Backend: unknown backend "${choice}" (expected ${CHOICES.join(', ')})`);
    if (!choice) {
      const out = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Checking which compute backends load…' },
        () => runCli(s.context.extensionPath, readSettings().nodePath, ['backend', '--json']),
      );
      const { active, probes } = JSON.parse(out) as { active: { name: string; provider: string }; probes: Probe[] };
      s.log.info(`backends: ${probes.map((p) => `${p.preference} ${p.available ? 'loads' : 'unavailable'}`).join(', ')}; auto → ${active.name} (${active.provider})`);
      const current = readSettings().backend;
      const items = [
        { label: 'config', description: "each experiment's own `backend` field", detail: undefined as string | undefined, available: true },
        { label: 'auto', description: `→ ${active.name} (${active.provider})`, detail: 'tensorflow (GPU, then CPU) when installed, else the pure-JS cpu backend', available: true },
        ...probes
          .filter((p) => p.preference !== 'wasm') // refused for training
          .map((p) => ({ label: p.preference, description: p.available ? 'loads' : 'unavailable', detail: p.detail, available: p.available })),
      ].map((i) => ({ ...i, label: `${i.available ? '$(check)' : '$(circle-slash)'} ${i.label}${i.label === current ? ' (current)' : ''}`, value: i.label as BackendSetting }));
      const picked = await vscode.window.showQuickPick(items, { title: 'Select Compute Backend', placeHolder: `Runs use: ${current}` });
      if (!picked) return undefined;
      if (!picked.available) throw new Error(`backend "${picked.value}" does not load here: ${picked.detail ?? ''}`);
      choice = picked.value;
    }
    await vscode.workspace.getConfiguration(SECTION).update('backend', choice, vscode.ConfigurationTarget.Global);
    s.log.info(`runs use backend: ${choice}`);
    return choice;
  }),
];
