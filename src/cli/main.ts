// `mrcl`: the engine from the command line (headless: GPU servers, clusters).
import { commandHelp, parseCommandArgs, UsageError, type Command, type CommandContext } from './command';
import { synthCommand } from './commands/synth';
import { validateCommand } from './commands/validate';
import { importCommand } from './commands/import';
import { configCommand } from './commands/config';
import { modelCommand } from './commands/model';
import { medicalnetCommand } from './commands/medicalnet';
import { backendCommand } from './commands/backend';
import { experimentCommand, ablateCommand, pretrainCommand, finetuneCommand, unitCommand, evaluateCommand, probeCommand } from './commands/study';
import { demoCommand } from './commands/demo';
import { studyCommand } from './commands/reproduce';
import { statusCommand, resumeCommand, cancelCommand } from './commands/slurm';
import { escapeNonPrintable } from '../engine/util/quote';

export const COMMANDS: Command[] = [
  demoCommand,
  studyCommand,
  synthCommand,
  validateCommand,
  importCommand,
  experimentCommand,
  pretrainCommand,
  finetuneCommand,
  ablateCommand,
  evaluateCommand,
  probeCommand,
  statusCommand,
  resumeCommand,
  cancelCommand,
  unitCommand,
  configCommand,
  modelCommand,
  medicalnetCommand,
  backendCommand,
];

function overview(): string {
  const lines = [
    'mrcl — MRI–report contrastive learning (tumour location-weighted) from the command line.',
    '',
    'Usage: mrcl <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    "Run 'mrcl <command> --help' for a command's options.",
  ];
  return lines.join('\n') + '\n';
}

/**
 * A SIGINT this soon after the first is the same Ctrl-C arriving twice: from
 * the terminal and through bin/mrcl.js's relauncher (launch.ts).
 */
export const REPEAT_SIGINT_MS = 1000;

/** What interruptSignal needs from the process (tests pass their own). */
export interface SignalHost {
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  on(signal: 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
  now(): number;
  warn(message: string): void;
}

const processHost: SignalHost = {
  once: (s, l) => process.once(s, l),
  on: (s, l) => process.on(s, l),
  off: (s, l) => process.off(s, l),
  exit: (code) => process.exit(code),
  now: () => Date.now(),
  warn: (m) => void process.stderr.write(m),
};

/** Ctrl-C stops long commands at the next step boundary (resumable); a second one, REPEAT_SIGINT_MS or more later, exits. */
export function interruptSignal(host: SignalHost = processHost): AbortSignal {
  const ac = new AbortController();
  host.once('SIGINT', () => {
    host.warn('\nstopping at the next step boundary (Ctrl-C again to exit now)…\n');
    ac.abort();
    const first = host.now();
    const again = () => {
      if (host.now() - first < REPEAT_SIGINT_MS) return;
      host.off('SIGINT', again);
      host.exit(130);
    };
    host.on('SIGINT', again);
  });
  host.once('SIGTERM', () => ac.abort());
  return ac.signal;
}

export function defaultContext(signal?: AbortSignal): CommandContext {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    tty: Boolean(process.stderr.isTTY),
    signal: signal ?? interruptSignal(),
  };
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failure, 2 misuse). */
export async function main(argv: string[], ctx: CommandContext = defaultContext()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0]) return main([rest[0], '--help'], ctx);
    ctx.stdout(overview());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    ctx.stdout(`${require('../../package.json').version}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    ctx.stderr(`mrcl: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout(commandHelp(cmd));
    return 0;
  }
  try {
    const args = parseCommandArgs(cmd, rest);
    return await cmd.run(args, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr(`mrcl ${cmd.name}: ${e.message}\nUsage: ${cmd.usage}\nRun 'mrcl ${cmd.name} --help' for details.\n`);
      return 2;
    }
    // messages may quote data (ids, headers, bytes of a bad file): never raw control characters on the terminal
    ctx.stderr(`mrcl ${cmd.name}: ${escapeNonPrintable(e instanceof Error ? e.message : String(e))}\n`);
    if (process.env.MRCL_DEBUG && e instanceof Error && e.stack) ctx.stderr(`${e.stack}\n`);
    return 1;
  }
}
