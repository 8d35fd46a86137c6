// One entry point for every long-running engine command, used by the CLI
// and by the extension's worker process alike (same code, same events).
import type { EventSink } from '../../shared/events';
import type { RunOutcome, RunRequest } from '../../shared/protocol';

export interface RunContext {
  signal?: AbortSignal;
  emit: EventSink;
  /** called once the run folder exists (so a UI can show it at once) */
  onRunDir?: (dir: string) => void;
}

type Handler = (req: RunRequest, ctx: RunContext) => Promise<RunOutcome>;
const handlers = new Map<RunRequest['command'], Handler>();

/** Registers the implementation of a command (done by the modules that implement them). */
export function registerCommand(command: RunRequest['command'], handler: Handler): void {
  handlers.set(command, handler);
}

export async function runEngineCommand(req: RunRequest, ctx: RunContext): Promise<RunOutcome> {
  const h = handlers.get(req.command);
  if (!h) throw new Error(`engine command "${req.command}" is not available`);
  return h(req, ctx);
}
