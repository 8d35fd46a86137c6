// The shape of a CLI command: parsed with node's util.parseArgs, each with
// its own --help. Misuse throws UsageError (exit 2); failures exit 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface CommandContext {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** true when stderr is a terminal (progress bars) */
  tty: boolean;
  /** stops long commands at a safe boundary (SIGINT) */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** e.g. "mrcl synth --out DIR [options]" */
  usage: string;
  /** the last one may take any number of values (`variadic`) */
  positionals?: { name: string; description: string; required: boolean; variadic?: boolean }[];
  options: Record<string, OptionSpec>;
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options: ParseArgsConfig['options'] = {};
  for (const [k, spec] of Object.entries(cmd.options)) {
    const { description: _d, valueName: _v, ...rest } = spec;
    options[k] = rest;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), cmd.name);
  }
  const required = (cmd.positionals ?? []).filter((p) => p.required).length;
  const max = (cmd.positionals ?? []).length;
  if (parsed.positionals.length < required) {
    const missing = (cmd.positionals ?? []).slice(parsed.positionals.length).filter((p) => p.required).map((p) => p.name);
    throw new UsageError(`missing ${missing.join(', ')}`, cmd.name);
  }
  if (parsed.positionals.length > max && !cmd.positionals?.at(-1)?.variadic) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`, cmd.name);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

export function commandHelp(cmd: Command): string {
  const lines = [`${cmd.summary}`, '', `Usage: ${cmd.usage}`];
  if (cmd.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of cmd.positionals) lines.push(`  ${(p.variadic ? `${p.name}…` : p.name).padEnd(24)} ${p.description}${p.required ? '' : ' (optional)'}`);
  }
  lines.push('', 'Options:');
  const entries: [string, string][] = Object.entries(cmd.options).map(([k, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : ''}--${k}${s.type === 'string' ? ` ${s.valueName ?? 'VALUE'}` : ''}`;
    const def = s.default !== undefined && s.type === 'string' ? ` (default: ${String(s.default)})` : '';
    return [flag, s.description + def];
  });
  entries.push(['-h, --help', 'Show this help']);
  for (const [f, d] of entries) lines.push(`  ${f.padEnd(24)} ${d}`);
  return lines.join('\n') + '\n';
}

/** Parses a positive integer option, naming the option on error. */
export function intOption(value: unknown, name: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  if (!/^-?\d+$/.test(s)) throw new UsageError(`--${name} must be an integer, got "${s}"`);
  const n = Number(s);
  if (n < min) throw new UsageError(`--${name} must be at least ${min}, got ${n}`);
  return n;
}

/** Parses "X,Y,Z" into three integers. */
export function shapeOption(value: unknown, name: string): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(/[,x×]/).map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--${name} must be three integers like 64,64,40, got "${String(value)}"`);
  }
  return parts.map(Number) as [number, number, number];
}
