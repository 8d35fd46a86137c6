// Runs the CLI from sources in a child process (tests kill it for real).
import { main } from '../../../src/cli/main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
