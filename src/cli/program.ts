/** The `kontor` program with every command, built without running it (tests call it directly). */
import { Command } from 'commander';
import { VERSION } from '../main.ts';
import { commands } from './commands/index.ts';

/** Builds the program with every command. */
export function buildProgram(): Command {
  const program = new Command('kontor')
    .description('Kontor: a governed finance-integration hub for Odoo')
    .version(VERSION, '-v, --version')
    .option(
      '-c, --config <file>',
      'configuration file (default: $KONTOR_CONFIG, ./kontor.yaml, or the demo defaults)',
    )
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}
