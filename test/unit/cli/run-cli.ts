// `mrcl` in-process for the CLI tests: main() with stdout and stderr captured.
import { main } from '../../../src/cli/main';
import type { CommandContext } from '../../../src/cli/command';

export async function runCli(argv: string[], signal: AbortSignal = new AbortController().signal): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ctx: CommandContext = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), tty: false, signal };
  const code = await main(argv, ctx);
  return { code, out, err };
}
