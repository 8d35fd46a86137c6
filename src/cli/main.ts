// `mrcl`: the engine from the command line (headless: GPU servers, clusters).
import { commandHelp, parseCommandArgs, UsageError, type Command, type CommandContext } from './command';
import { synthCommand } from './commands/synth';
import { validateCommand } from './commands/validate';
import { importCommand } from './commands/import';
import { configCommand } from './commands/config';
import { modelCommand } from './commands/model';
import { medicalnetCommand } from './commands/medicalnet';
import { backendCommand } from './commands/backend';
import { experimentCommand, ablateCommand, pretrainCommand, finetuneCommand, unitCommand, evaluateCommand } from './commands/study';
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

/** Ctrl-C stops long commands at the next step boundary (resumable); a second one exits. */
function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping at the next step boundary (Ctrl-C again to exit now)…\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => ac.abort());
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
