/** `kontor odoo check`: the first command an integrator runs against a new Odoo. */
import type { Command } from 'commander';
import { ErrorCodes, ValidationError } from '../../domain/index.ts';
/* eslint-disable import-x/no-restricted-paths -- temporary until main.ts exposes the Odoo check (issue 5 note) */
import {
  checkOdooConnection,
  type ConfiguredBankAccount,
  formatOdooCheckReport,
  readOdooCredentials,
} from '../../connectors/odoo/index.ts';
/* eslint-enable import-x/no-restricted-paths */
import { action } from '../run.ts';
import type { RegisterCommand } from './index.ts';

function parseAccount(value: string, previous: ConfiguredBankAccount[] = []): ConfiguredBankAccount[] {
  const match = /^([A-Za-z0-9 ]+):([A-Za-z]{3})$/.exec(value.trim());
  if (!match) {
    throw new ValidationError(
      `--account "${value}" must look like IBAN:CUR, e.g. DE89370400440532013000:EUR`,
      [],
      {
        code: ErrorCodes.CONFIG_INVALID,
      },
    );
  }
  return [...previous, { iban: match[1]!, currency: match[2]!.toUpperCase() }];
}

/** Registers `kontor odoo check`. */
export const registerOdooCheck: RegisterCommand = (program: Command) => {
  const odoo =
    program.commands.find((c) => c.name() === 'odoo') ??
    program.command('odoo').description('Odoo connector commands');
  odoo
    .command('check')
    .description(
      'connect to Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY|ODOO_PASSWORD; the sandbox when unset) and map bank accounts to journals',
    )
    .option('--account <iban:currency>', 'a configured bank account to map (repeatable)', parseAccount, [])
    .action(
      action(async (options: { account: ConfiguredBankAccount[] }) => {
        const report = await checkOdooConnection(readOdooCredentials(process.env), options.account);
        process.stdout.write(`${formatOdooCheckReport(report)}\n`);
        if (report.mappings.some((m) => m.problem !== undefined)) process.exitCode = 1;
      }),
    );
};
