/** `kontor version`. */
import type { Command } from 'commander';
import { VERSION } from '../../main.ts';

/** Registers `kontor version`. */
export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`kontor ${VERSION} (node ${process.version})\n`);
    });
}
