// Model summaries of configs, cached by the config's content: the same text
// is counted once, an edit is counted once typing pauses (only the newest
// text of a file is asked for), and a settled count tells its listeners.
// The counting itself is done by `fetch` (the engine, in a child process).
// No vscode here: unit-tested under plain node.
import { createHash } from 'node:crypto';
import type { EngineQueries } from '../../shared/protocol';
import { Emitter } from '../util/emitter';

export type SummaryResult = EngineQueries['modelSummary']['result'];

export type SummaryState = { kind: 'pending' } | { kind: 'done'; result: SummaryResult } | { kind: 'error'; message: string };

export type SummaryFetch = (config: string, text: string) => Promise<SummaryResult>;

interface Entry {
  state: SummaryState;
  promise: Promise<SummaryResult>;
}

export interface SummaryCacheOptions {
  /** how long an edited text waits before it is counted (default 600 ms) */
  debounceMs?: number;
  /** texts remembered per config (default 4: undo and redo find theirs) */
  perConfig?: number;
}

export class SummaryCache {
  /** per config path: content hash → entry, oldest first */
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; key: string }>();
  private readonly changed = new Emitter<string>();
  /** a config's count settled (done or failed): its path */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly fetch: SummaryFetch,
    private readonly options: SummaryCacheOptions = {},
  ) {}

  static hash(text: string): string {
    return createHash('sha1').update(text).digest('hex');
  }

  /** What is known of this text of the config, without asking. */
  peek(config: string, text: string): SummaryState | undefined {
    return this.entries.get(config)?.get(SummaryCache.hash(text))?.state;
  }

  /** The summary of this text of the config: cached, in flight, or asked for now. */
  get(config: string, text: string): Promise<SummaryResult> {
    const key = SummaryCache.hash(text);
    const known = this.entries.get(config)?.get(key);
    if (known && known.state.kind !== 'error') return known.promise;
    const promise = this.fetch(config, text);
    const entry: Entry = { state: { kind: 'pending' }, promise };
    this.remember(config, key, entry);
    promise.then(
      (result) => {
        entry.state = { kind: 'done', result };
        this.changed.fire(config);
      },
      (e: unknown) => {
        entry.state = { kind: 'error', message: e instanceof Error ? e.message : String(e) };
        this.changed.fire(config);
      },
    );
    return promise;
  }

  /**
   * Counts this text once typing pauses: a later call for the same config
   * replaces an earlier one still waiting. Known texts (and ones already
   * failed) are not asked again. Returns what is known now.
   */
  schedule(config: string, text: string): SummaryState {
    const known = this.peek(config, text);
    if (known) return known;
    const key = SummaryCache.hash(text);
    const waiting = this.timers.get(config);
    if (waiting?.key === key) return { kind: 'pending' };
    clearTimeout(waiting?.timer);
    const timer = setTimeout(() => {
      this.timers.delete(config);
      this.get(config, text).catch(() => undefined); // the state holds the error
    }, this.options.debounceMs ?? 600);
    this.timers.set(config, { timer, key });
    return { kind: 'pending' };
  }

  /** Forgets a config's counts (its file changed on disk, or a file it names did). */
  forget(config?: string): void {
    if (config === undefined) this.entries.clear();
    else this.entries.delete(config);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.changed.dispose();
  }

  private remember(config: string, key: string, entry: Entry): void {
    const m = this.entries.get(config) ?? new Map<string, Entry>();
    m.delete(key);
    m.set(key, entry);
    const limit = Math.max(1, this.options.perConfig ?? 4);
    while (m.size > limit) m.delete(m.keys().next().value!);
    this.entries.set(config, m);
  }
}
