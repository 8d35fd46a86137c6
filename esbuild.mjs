// One named BuildOptions per target. Node targets keep every npm dependency
// external: @tensorflow/tfjs-node registers its backend with the tfjs-core
// it resolves from node_modules, so bundling tfjs would split the engine.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
};

/** @type {Record<string, import('esbuild').BuildOptions>} */
export const targets = {
  extension: { ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // worker, cli and engine are built WITHOUT `vscode` external: a stray
  // vscode import in engine code fails the build (house style rule 7).
  worker: { ...node, entryPoints: ['src/worker/main.ts'], outfile: 'dist/worker.js' },
  cli: { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' },
  // bin/mrcl.js's relauncher: no engine imports, so it starts in milliseconds
  launch: { ...node, entryPoints: ['src/cli/launch.ts'], outfile: 'dist/launch.js' },
  engine: { ...node, entryPoints: ['src/engine/index.ts'], outfile: 'dist/engine/index.js' },
  // the benchmark's TF.js worker, bundled as the CLI is: run through tsx it
  // would carry the TypeScript loader's ≈ 100 MB into its peak RSS
  bench: { ...node, entryPoints: ['scripts/bench/worker.ts'], outfile: 'dist/bench/worker.js' },
};

// One browser target per webview panel: webview/<panel>/main.ts.
if (existsSync('webview')) {
  for (const panel of readdirSync('webview')) {
    const entry = join('webview', panel, 'main.ts');
    if (!existsSync(entry)) continue;
    targets[`webview-${panel}`] = {
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      sourcemap: !production,
      minify: production,
      logLevel: 'info',
      entryPoints: [entry],
      outfile: `dist/webview/${panel}.js`,
    };
  }
}

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = Object.entries(targets).filter(
  ([name, opts]) => (only.length === 0 || only.includes(name)) && existsSync(opts.entryPoints[0]),
);
for (const name of only) if (!targets[name]) throw new Error(`esbuild.mjs: unknown target "${name}"`);

if (watch) {
  for (const [, opts] of selected) await (await esbuild.context(opts)).watch();
} else {
  await Promise.all(selected.map(([, opts]) => esbuild.build(opts)));
  // Types for `mri-report-cl/engine` come from tsc (tsconfig.engine.json).
  mkdirSync('dist/engine', { recursive: true });
  writeFileSync('dist/engine/index.d.ts', "export * from '../types/engine/index';\n");
}
