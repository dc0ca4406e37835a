/** `kontor odoo check`: the first command an integrator runs against a new Odoo. */
import type { Command } from 'commander';
import { ErrorCodes, ValidationError } from '../../domain/index.ts';
import { loadConfig } from '../../config/index.ts';
import { checkOdoo } from '../../main.ts';
import { action } from '../run.ts';
import type { RegisterCommand } from './index.ts';

interface ConfiguredBankAccount {
  iban: string;
  currency: string;
}

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
      'connect to Odoo (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY|ODOO_PASSWORD, or kontor.yaml; the sandbox when unset) and map every configured bank account to a journal',
    )
    .option('-c, --config <file>', 'configuration file')
    .option('--account <iban:currency>', 'one more bank account to map (repeatable)', parseAccount, [])
    .action(
      action(async (options: { account: ConfiguredBankAccount[]; config?: string }) => {
        const { config } = loadConfig(options.config ?? program.opts<{ config?: string }>().config);
        const report = await checkOdoo(config, options.account);
        process.stdout.write(`${report.text}\n`);
        if (!report.ok) process.exitCode = 1;
      }),
    );
};
