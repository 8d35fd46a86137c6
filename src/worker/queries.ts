// The worker's answers to one-off engine queries (EngineQueries in
// src/shared/protocol.ts): the same engine functions the CLI calls, run in the
// child process so the extension host never loads TF.js.
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../engine/io/bounded-read';
import { dirname, resolve } from 'node:path';
import type { EngineQueries, QueryMethod } from '../shared/protocol';
import { setBackend } from '../engine/backend';
import { resolveConfig } from '../engine/config/resolve';
import { modelSummary, renderModelSummary } from '../engine/model/summary';

export interface QueryContext {
  /** true while a run is training in this process: its backend must not be switched */
  busy: boolean;
}

let backendSet = false;

function readConfigText(path: string, text: string | undefined): unknown {
  let source = text;
  if (source === undefined) {
    try {
      source = readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'config' });
    } catch (e) {
      if (e instanceof BoundedReadError) throw e;
      throw new Error(`${path}: cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  try {
    return JSON.parse(source);
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

async function summaryOf(params: EngineQueries['modelSummary']['params'], ctx: QueryContext): Promise<EngineQueries['modelSummary']['result']> {
  if (typeof params?.config !== 'string' || !params.config) throw new Error('modelSummary: params.config (the config file) is required');
  const path = resolve(params.config);
  const config = resolveConfig(readConfigText(path, params.text), path);
  // counting needs no accelerator: the plain cpu backend builds the models fastest (as `mrcl model summary`)
  if (!backendSet && !ctx.busy) {
    await setBackend('cpu');
    backendSet = true;
  }
  try {
    const summary = modelSummary(config, dirname(path));
    return { summary, table: renderModelSummary(summary) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(message.includes(path) ? message : `${path}: ${message}`);
  }
}

/** Answers one query; throws with a message naming the config for a failure. */
export async function answerQuery(method: QueryMethod, params: unknown, ctx: QueryContext): Promise<EngineQueries[QueryMethod]['result']> {
  switch (method) {
    case 'modelSummary':
      return summaryOf(params as EngineQueries['modelSummary']['params'], ctx);
    default: {
      const never: never = method;
      throw new Error(`unknown query "${String(never)}"`);
    }
  }
}
