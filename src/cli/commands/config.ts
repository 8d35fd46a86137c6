import { writeFileSync, existsSync, renameSync } from 'node:fs';
import { relative, dirname, resolve } from 'node:path';
import { loadConfig, resolveConfig, editorSchema } from '../../engine/config/resolve';
import { semanticIssues } from '../../engine/config/semantic';
import { UsageError, type Command } from '../command';
import { packageRoot } from '../paths';
import { checkMedicalNetCheckpoint } from '../../engine/networks/medicalnet';

export const configCommand: Command = {
  name: 'config',
  summary: 'Write, check or print experiment configs: `init FILE` scaffolds one with every default, `check FILE` validates it (schema, the files it names, the dataset against the folds), `schema` prints the JSON Schema, `show FILE` prints the resolved config.',
  usage: 'mrcl config init FILE [--manifest PATH] [--force] | mrcl config check FILE | mrcl config show FILE | mrcl config schema',
  positionals: [
    { name: 'ACTION', description: 'init | check | show | schema', required: true },
    { name: 'FILE', description: 'config file (.mrcl.json)', required: false },
  ],
  options: {
    manifest: { type: 'string', valueName: 'PATH', description: 'For init: the dataset manifest the config points to' },
    force: { type: 'boolean', description: 'For init: overwrite an existing file' },
  },
  async run(args, ctx) {
    const [action, file] = args.positionals;
    const needFile = () => {
      if (!file) throw new UsageError(`config ${action}: FILE is required`, 'config');
      return file;
    };
    switch (action) {
      case 'schema':
        ctx.stdout(`${JSON.stringify(editorSchema(), null, 2)}\n`);
        return 0;
      case 'check': {
        // the schema (loadConfig throws listing every problem), then what the schema cannot see:
        // the files the config names, the dataset against the fold counts (as the editor's Problems panel)
        const loaded = loadConfig(needFile());
        const issues = await semanticIssues(loaded.config, loaded.baseDir, {
          checkMedicalNet: (path) => void checkMedicalNetCheckpoint(loaded.config.image, path),
        });
        for (const i of issues) (i.severity === 'error' ? ctx.stderr : ctx.stdout)(`${file}: ${i.severity}: ${i.path}: ${i.message}\n`);
        const errors = issues.filter((i) => i.severity === 'error').length;
        if (errors) {
          ctx.stderr(`${file}: ${errors} error(s)\n`);
          return 1;
        }
        ctx.stdout(`${file}: valid${issues.length ? ` (${issues.length} warning(s))` : ''}\n`);
        return 0;
      }
      case 'show':
        ctx.stdout(`${JSON.stringify(loadConfig(needFile()).config, null, 2)}\n`);
        return 0;
      case 'init': {
        const target = resolve(needFile());
        if (existsSync(target) && !args.values.force) throw new Error(`${file}: already exists (use --force to overwrite)`);
        const manifest = typeof args.values.manifest === 'string' ? relative(dirname(target), resolve(args.values.manifest)) : '';
        const config = resolveConfig({ data: { manifest } }, file);
        const text = `${JSON.stringify({ $schema: schemaRef(target), ...config }, null, 2)}\n`;
        const tmp = `${target}.tmp-${process.pid}`;
        writeFileSync(tmp, text);
        renameSync(tmp, target);
        ctx.stdout(`wrote ${file}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown action "${action}" (expected init, check, show or schema)`, 'config');
    }
  },
};

/** The schema shipped with the package, relative to the config when possible. */
function schemaRef(target: string): string {
  const shipped = resolve(packageRoot(), 'schemas', 'experiment.schema.json');
  return existsSync(shipped) ? relative(dirname(target), shipped) : 'experiment.schema.json';
}
