// Public API of the engine (`mri-report-cl/engine`). No vscode, no DOM.
export { tf, setBackend, currentBackend, probeBackends, describeBackend } from './backend';
export type { BackendInfo, BackendPreference, BackendProbe } from './backend';
export { resolveConfig, loadConfig, configIssues, editorSchema, ConfigError } from './config/resolve';
export type { ConfigIssue, LoadedConfig } from './config/resolve';
export type { ExperimentConfig, ExperimentConfigInput } from '../shared/config';
export { identityAffine } from './io/volume';
export type { Volume, Affine } from './io/volume';
