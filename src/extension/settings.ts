// The extension's settings (package.json contributes.configuration), read
// in one place with their defaults.
import * as vscode from 'vscode';

export const SECTION = 'mrcl';

export type BackendSetting = 'config' | 'auto' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';

export interface Settings {
  /** Node binary for the engine worker ('' = node on PATH, else the extension host's runtime) */
  nodePath: string;
  /** backend override for every run ('config' = each experiment's own) */
  backend: BackendSetting;
  maxParallelRuns: number;
  stopTimeoutSeconds: number;
  /** default output folders, relative to the first workspace folder */
  syntheticCohortFolder: string;
  demoFolder: string;
  /** code lenses with parameter counts in experiment configs */
  modelSummaryCodeLens: boolean;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    nodePath: c.get<string>('nodePath', ''),
    backend: c.get<BackendSetting>('backend', 'config'),
    maxParallelRuns: Math.max(1, Math.floor(c.get<number>('maxParallelRuns', 1))),
    stopTimeoutSeconds: Math.max(1, c.get<number>('stopTimeoutSeconds', 60)),
    syntheticCohortFolder: c.get<string>('syntheticCohortFolder', 'synthetic-cohort'),
    demoFolder: c.get<string>('demoFolder', 'demo-out'),
    modelSummaryCodeLens: c.get<boolean>('modelSummaryCodeLens', true),
  };
}
