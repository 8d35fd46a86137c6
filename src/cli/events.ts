// Draws engine events in the terminal: a progress bar with ETA, stage and
// log lines; or JSON lines with --json (machine-readable).
import type { EngineEvent } from '../shared/events';
import type { CommandContext } from './command';
import { formatDuration, renderBar } from './progress';
import { escapeNonPrintable } from '../engine/util/quote';

export function eventPrinter(ctx: CommandContext, json: boolean): (e: EngineEvent) => void {
  if (json) return (e) => ctx.stdout(`${JSON.stringify(e)}\n`);
  let barShown = false;
  let lastPlain = 0;
  const clearBar = () => {
    if (barShown && ctx.tty) ctx.stderr('\r\x1b[K');
    barShown = false;
  };
  return (e) => {
    switch (e.type) {
      case 'progress': {
        const text = `${renderBar(e.done, e.total, 30)} ${e.done}/${e.total} steps  ETA ${formatDuration(e.etaSeconds ?? NaN)}  ${e.stage}${e.epoch !== undefined ? ` epoch ${e.epoch + 1}/${e.epochs}` : ''}`;
        if (ctx.tty) {
          ctx.stderr(`\r\x1b[K${text}`);
          barShown = true;
        } else if (Date.now() - lastPlain > 10_000 || e.done === e.total) {
          ctx.stderr(`${text}\n`);
          lastPlain = Date.now();
        }
        return;
      }
      case 'stage':
        clearBar();
        ctx.stderr(`[${e.status}] ${e.stage}${e.detail ? `: ${escapeNonPrintable(e.detail)}` : ''}\n`);
        return;
      case 'epoch':
        clearBar();
        ctx.stderr(
          `${e.stage} epoch ${e.epoch + 1}/${e.epochs}: loss ${e.loss.toFixed(4)}${e.global !== undefined ? ` global ${e.global.toFixed(4)}` : ''}${e.local !== undefined ? ` local ${e.local.toFixed(4)}` : ''} lr ${e.lr.toExponential(2)} (${e.seconds.toFixed(1)} s)\n`,
        );
        return;
      case 'metrics':
        clearBar();
        ctx.stderr(`${e.stage}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v === null ? 'n/a' : v.toFixed(3)}`).join(', ')}\n`);
        return;
      case 'log':
        if (e.level === 'debug') return;
        clearBar();
        ctx.stderr(`${e.level === 'info' ? '' : `${e.level}: `}${escapeNonPrintable(e.message)}\n`);
        return;
      default:
        return;
    }
  };
}
