// Which files are experiment configs: `*.mrcl.json` anywhere, and `*.json`
// directly inside an `experiments/` folder (the same patterns as
// contributes.jsonValidation in package.json).

export const CONFIG_GLOB = '{**/*.mrcl.json,**/experiments/*.json}';
/** Folders never searched for configs or runs. */
export const EXCLUDE_GLOB = '{**/node_modules/**,**/.tools/**,**/.git/**,**/.mrcl-cache/**}';

export function isConfigPath(path: string): boolean {
  const p = path.replace(/\\/g, '/');
  return p.endsWith('.mrcl.json') || /(^|\/)experiments\/[^/]+\.json$/.test(p);
}

/** A file name for a new experiment called `name`. */
export function configFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.mrcl.json`;
}
