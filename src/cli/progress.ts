// A terminal progress bar with ETA, drawn on stderr. Falls back to a line
// every few seconds when stderr is not a terminal.

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  done(message?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** ETA from elapsed time and fraction done (linear extrapolation). */
export function eta(elapsedSeconds: number, done: number, total: number): number {
  if (done <= 0 || total <= 0) return NaN;
  return (elapsedSeconds * (total - done)) / done;
}

export function renderBar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%`;
}

export function createProgressBar(
  write: (s: string) => void,
  opts: { tty: boolean; title: string; now?: () => number },
): ProgressBar {
  const now = opts.now ?? (() => Date.now());
  const start = now();
  let lastPlain = 0;
  let lastLen = 0;
  return {
    update(done, total, label) {
      const elapsed = (now() - start) / 1000;
      const text = `${opts.title} ${renderBar(done, total, 30)} ${done}/${total} elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta(elapsed, done, total))}${label ? ` ${label}` : ''}`;
      if (opts.tty) {
        write(`\r${text}${' '.repeat(Math.max(0, lastLen - text.length))}`);
        lastLen = text.length;
      } else if (now() - lastPlain > 5000 || done === total) {
        write(text + '\n');
        lastPlain = now();
      }
    },
    done(message) {
      if (opts.tty && lastLen) write('\n');
      if (message) write(message + '\n');
    },
  };
}
