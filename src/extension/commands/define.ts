// Commands are plain definitions registered through one function: it adds the
// "mrcl." namespace, reports a thrown error as a message (with the log), and
// owns the registrations' disposal.
import * as vscode from 'vscode';
import type { RunRequest } from '../../shared/protocol';
import type { ConfigDiagnostics } from '../config/diagnostics';
import type { ModelSummaries } from '../config/model-summary';
import type { Job } from '../runs/job';
import type { RunManager } from '../runs/run-manager';
import type { ExperimentsTree } from '../views/experiments-tree';

export const NAMESPACE = 'mrcl';

export interface Services {
  context: vscode.ExtensionContext;
  manager: RunManager;
  log: vscode.LogOutputChannel;
  tree: ExperimentsTree;
  diagnostics: ConfigDiagnostics;
  /** parameter counts of configs (code lenses, Show Model Summary) */
  summaries: ModelSummaries;
  /** Queues a run with a progress notification; undefined when Restricted Mode forbids it. */
  startRun(request: RunRequest, label?: string): Job | undefined;
}

export interface CommandDef {
  /** without the namespace, e.g. "runExperiment" */
  id: string;
  run(services: Services, ...args: unknown[]): unknown;
}

export function command(id: string, run: (services: Services, ...args: unknown[]) => unknown): CommandDef {
  return { id, run };
}

export function registerCommands(defs: readonly CommandDef[], services: Services): vscode.Disposable[] {
  return defs.map((def) =>
    vscode.commands.registerCommand(`${NAMESPACE}.${def.id}`, async (...args: unknown[]) => {
      try {
        return await def.run(services, ...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        services.log.error(`${NAMESPACE}.${def.id}: ${message}`);
        void vscode.window.showErrorMessage(message, 'Show Log').then((c) => c && services.log.show(true));
        return undefined;
      }
    }),
  );
}
