// Every command the extension registers (package.json contributes.commands
// must list exactly these; a unit test checks both ways).
import type { CommandDef } from './define';
import { backendCommands } from './backend-command';
import { dataCommands } from './data-commands';
import { importCommands } from './import-commands';
import { openCommands } from './open-commands';
import { runCommands } from './run-commands';
import { slurmCommands } from './slurm-commands';
import { summaryCommands } from './summary-commands';

export const ALL_COMMANDS: readonly CommandDef[] = [...dataCommands, ...importCommands, ...runCommands, ...openCommands, ...backendCommands, ...slurmCommands, ...summaryCommands];
