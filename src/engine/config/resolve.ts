// Config validation and defaults. Errors name the JSON path and the problem,
// all of them at once, before anything runs.
import { Value } from '@sinclair/typebox/value';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { dirname, resolve as resolvePath, isAbsolute } from 'node:path';
import { ExperimentConfigSchema, NAME_MAX_LENGTH, localWordKindProblem, type ExperimentConfig } from '../../shared/config';

export interface ConfigIssue {
  /** JSON pointer into the config, e.g. "/pretrain/lr" ('' for the root) */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${source}: invalid config:\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Fills defaults (returns a new object; the input is not modified). */
export function withDefaults(input: unknown): unknown {
  return Value.Default(ExperimentConfigSchema, clone(input ?? {}));
}

/** Every schema problem of `input` (after defaults are filled). */
export function configIssues(input: unknown): ConfigIssue[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [{ path: '', message: 'expected a JSON object' }];
  }
  const filled = withDefaults(input);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ExperimentConfigSchema, filled)) {
    const message = e.path === '/name' && typeof e.value === 'string' ? nameProblem(e.value) : describeError(e.message, e.schema as { anyOf?: Array<{ const?: unknown }> }, e.value);
    const key = `${e.path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path: e.path, message });
  }
  return issues.concat(crossFieldIssues(filled as ExperimentConfig, issues.length === 0));
}

/** What is wrong with an experiment name the schema refused (its length or a control character). */
function nameProblem(name: string): string {
  const rule = `must be 1–${NAME_MAX_LENGTH} characters without control characters (run folders are named after it)`;
  if (name.length === 0) return `${rule}; it is empty`;
  if (name.length > NAME_MAX_LENGTH) return `${rule}; it has ${name.length}`;
  const bad = [...name].find((ch) => /[\u0000-\u001f\u007f]/.test(ch));
  return bad !== undefined ? `${rule}; it holds U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : rule;
}

type UnionMember = { const?: unknown; type?: string; minimum?: number; exclusiveMinimum?: number };

function describeError(message: string, schema: { anyOf?: UnionMember[] }, value: unknown): string {
  if (/unexpected property/i.test(message)) return 'unknown key';
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((s) => s.const !== undefined)) {
    return `expected one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(', ')}, got ${JSON.stringify(value)}`;
  }
  // a number or a word, e.g. finetune.positiveWeight
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((s) => s.const !== undefined || s.type === 'number')) {
    const parts = schema.anyOf.map((s) => {
      if (s.const !== undefined) return JSON.stringify(s.const);
      const bound = s.exclusiveMinimum !== undefined ? ` > ${s.exclusiveMinimum}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : '';
      return `a number${bound}`;
    });
    return `expected ${parts.join(' or ')}, got ${JSON.stringify(value)}`;
  }
  return message.replace(/^Expected/, 'expected');
}

/** Constraints a JSON Schema cannot express between fields. */
function crossFieldIssues(c: ExperimentConfig, schemaOk: boolean): ConfigIssue[] {
  if (!schemaOk) return [];
  const out: ConfigIssue[] = [];
  if (!c.data.markers.includes(c.data.positiveMarker)) {
    out.push({ path: '/data/positiveMarker', message: `"${c.data.positiveMarker}" is not one of data.markers (${c.data.markers.join(', ')})` });
  }
  if (!c.data.markers.includes(c.data.negativeMarker)) {
    out.push({ path: '/data/negativeMarker', message: `"${c.data.negativeMarker}" is not one of data.markers (${c.data.markers.join(', ')})` });
  }
  if (c.data.positiveMarker === c.data.negativeMarker) {
    out.push({ path: '/data/negativeMarker', message: 'must differ from data.positiveMarker' });
  }
  if (c.text.hidden % c.text.heads !== 0) {
    out.push({ path: '/text/heads', message: `must divide text.hidden (${c.text.hidden})` });
  }
  if (c.text.attentionWindow % 2 !== 0) {
    out.push({ path: '/text/attentionWindow', message: 'must be even (w/2 neighbours on each side)' });
  }
  if (c.tokenizer.kind === 'pretrained' && !c.tokenizer.path && !c.text.pretrained) {
    out.push({ path: '/tokenizer/path', message: "required when tokenizer.kind is 'pretrained' (or set text.pretrained)" });
  }
  if (c.finetune.innerFolds === 1) {
    out.push({ path: '/finetune/innerFolds', message: 'must be 0 (no nested split) or at least 2' });
  } else if (c.finetune.thresholdRule === 'inner' && c.finetune.innerFolds < 2) {
    out.push({ path: '/finetune/innerFolds', message: "must be at least 2 with thresholdRule 'inner' (one inner fold is held out to choose the threshold)" });
  }
  if (c.finetune.headInit === 'probe' && c.finetune.head !== 'paper') {
    out.push({ path: '/finetune/headInit', message: `'probe' needs finetune.head 'paper' (a linear head the logistic regression can be written into; head '${c.finetune.head}' has a ReLU)` });
  }
  const word = localWordKindProblem(c.loss);
  if (word) out.push({ path: '/loss/localNegatives', message: word });
  // explain.normalize is the former form of explain.rule: accepted only when it agrees
  if (c.explain.normalize !== undefined && (c.explain.normalize ? 'normalized' : 'raw') !== c.explain.rule) {
    const meant = c.explain.normalize ? 'normalized' : 'raw';
    out.push({ path: '/explain/normalize', message: `replaced by explain.rule: "normalize": ${c.explain.normalize} means "rule": "${meant}", but explain.rule is "${c.explain.rule}"; set explain.rule and remove normalize` });
  }
  return out;
}

/** Validates and fills defaults; throws ConfigError listing every problem. */
export function resolveConfig(input: unknown, source = 'config'): ExperimentConfig {
  const issues = configIssues(input);
  if (issues.length) throw new ConfigError(source, issues);
  const c = withDefaults(input) as ExperimentConfig;
  delete c.$schema;
  return c;
}

export interface LoadedConfig {
  config: ExperimentConfig;
  /** absolute path of the config file */
  path: string;
  /** folder relative paths in the config are resolved against */
  baseDir: string;
}

/** Reads a JSON config file, validates it and fills defaults. */
export function loadConfig(path: string): LoadedConfig {
  const abs = resolvePath(path);
  let text: string;
  try {
    text = readTextBounded(abs, { maxBytes: READ_LIMITS.config, what: 'config' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return { config: resolveConfig(raw, path), path: abs, baseDir: dirname(abs) };
}

/** Resolves a config path field against the config's folder. */
export function resolveIn(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolvePath(baseDir, p);
}

/** The JSON Schema for editors: fields with defaults are not required. */
export function editorSchema(): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) out[k] = strip(v);
    const props = out.properties as Record<string, { default?: unknown }> | undefined;
    if (Array.isArray(out.required) && props) {
      const req = (out.required as string[]).filter((k) => props[k] && !('default' in props[k]));
      if (req.length) out.required = req;
      else delete out.required;
    }
    return out;
  };
  const schema = strip(clone(ExperimentConfigSchema)) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...schema };
}
