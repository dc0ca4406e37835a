/** `kontor config check [file]`: validates a configuration and says what it configures. */
import type { Command } from 'commander';
import { maskIban } from '../../domain/index.ts';
import { loadConfig } from '../../config/index.ts';
import { action } from '../run.ts';

/** Registers `kontor config check`. */
export function registerConfigCheck(program: Command): void {
  const config = program.command('config').description('configuration commands');
  config
    .command('check [file]')
    .description('validate kontor.yaml (exit code 2 and the offending keys when it is invalid)')
    .action(
      action(async (file: string | undefined) => {
        const loaded = loadConfig(file ?? program.opts<{ config?: string }>().config);
        const c = loaded.config;
        const lines = [
          `${loaded.file ?? 'demo defaults'}: valid`,
          `  entities: ${c.entities.map((e) => `${e.id} (${e.baseCurrency})`).join(', ') || 'none'}`,
          `  bank accounts: ${c.bankAccounts.map((a) => `${a.id} ${a.iban === undefined ? (a.accountNumber ?? '') : maskIban(a.iban)} ${a.currency} → journal ${a.odooJournal}`).join('; ') || 'none'}`,
          `  odoo: ${c.odoo.url ?? process.env.ODOO_URL ?? 'sandbox (no url configured)'}`,
          `  schedules: ${c.schedules.map((s) => `${s.name} "${s.cron}"`).join(', ') || 'none'}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
