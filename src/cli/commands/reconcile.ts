/** `kontor reconcile check --date` (bank balance against Odoo's journal, lines on one side only), `kontor reconcile run [--rematch]` and `kontor reconcile undo <line>`. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { ValidationError } from '../../domain/index.ts';
import { startKontor } from '../../main.ts';
import { createLogger } from '../../observability/index.ts';
import { action } from '../run.ts';

type Report = Awaited<
  ReturnType<NonNullable<Awaited<ReturnType<typeof startKontor>>['services']['reconciliation']>['check']>
>;

/** Prints the checkpoint for a person: one block per bank account, problems listed. */
export function formatReconcileCheck(report: Report): string {
  const out: string[] = [`reconciliation check on ${report.date}: ${report.ok ? 'OK' : 'DIFFERENCES FOUND'}`];
  for (const a of report.accounts) {
    const m = (v: { amount: string; currency: string } | null) =>
      v === null ? '—' : `${v.amount} ${v.currency}`;
    out.push(`\n${a.bankAccountId} (entity ${a.entityId}): ${a.ok ? 'ok' : 'NOT OK'}`);
    out.push(
      `  bank closing   ${a.bankClosing === null ? '— (no statement closing on or before the date)' : `${m(a.bankClosing.balance)} (statement ${a.bankClosing.statementId}, ${a.bankClosing.date})`}`,
    );
    out.push(
      `  odoo journal   ${m(a.odooJournalBalance)} + baseline ${m(a.baseline)} (opening of the first statement in Kontor)`,
    );
    out.push(`  difference     ${m(a.difference)}`);
    if (a.error !== undefined) out.push(`  error          ${a.error}`);
    for (const l of a.missingInOdoo)
      out.push(
        `  in Kontor, not in Odoo: ${l.lineId} ${l.bookingDate} ${m(l.amount)} (${l.odooStatus}${l.odooLineId === null ? '' : `, Odoo id ${l.odooLineId}`})`,
      );
    for (const l of a.unknownToKontor)
      out.push(`  in Odoo, not in Kontor: Odoo line ${l.odooLineId} ${l.date} ${m(l.amount)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Registers `kontor reconcile …`. */
export function registerReconcile(program: Command): void {
  const reconcile = program
    .command('reconcile')
    .description('reconciliation of bank lines with Odoo open items');
  const configOf = (opts: { config?: string }) => opts.config ?? program.opts<{ config?: string }>().config;
  const withKontor = async <T>(
    configFile: string | undefined,
    fn: (
      services: NonNullable<Awaited<ReturnType<typeof startKontor>>['services']['reconciliation']>,
    ) => Promise<T>,
  ) => {
    const { config } = loadConfig(configFile);
    const kontor = await startKontor({
      config,
      listen: false,
      logger: createLogger({ level: process.env.KONTOR_LOG_LEVEL ?? 'warn' }),
    });
    try {
      return await fn(kontor.services.reconciliation!);
    } finally {
      await kontor.stop();
    }
  };

  reconcile
    .command('check')
    .description(
      "compare each bank account's closing balance on a date with Odoo's bank journal and list lines only one side has (exit 1 when they differ)",
    )
    .requiredOption('--date <YYYY-MM-DD>', 'the day to check (latest statement closing on or before it)')
    .option('--json', 'print the report as JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { date: string; json?: boolean; config?: string }) => {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.date) || Number.isNaN(Date.parse(opts.date)))
          throw new ValidationError(`--date "${opts.date}" is not a date (YYYY-MM-DD)`, [
            { path: '--date', message: 'invalid date' },
          ]);
        const report = await withKontor(configOf(opts), (s) => s.check(opts.date));
        process.stdout.write(
          opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReconcileCheck(report),
        );
        if (!report.ok) process.exitCode = 1;
      }),
    );

  reconcile
    .command('run')
    .description(
      'reconcile every posted statement with undecided lines now (the hub also does this when statements are posted)',
    )
    .option('--rematch', 'also match the open exceptions again against the current open items')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { config?: string; rematch?: boolean }) => {
        const { r, m } = await withKontor(configOf(opts), async (s) => ({
          r: await s.reconcilePending(),
          m: opts.rematch === true ? await s.rematch({ force: true }) : undefined,
        }));
        process.stdout.write(
          `${r.statements} statement(s): ${r.autoMatched} reconciled automatically, ${r.proposed} proposal(s), ${r.exceptions} exception(s)${r.failedInOdoo > 0 ? `, ${r.failedInOdoo} failed in Odoo (retried later)` : ''}\n`,
        );
        if (m !== undefined)
          process.stdout.write(
            `re-matched ${m.examined} exception(s): ${m.autoMatched} reconciled automatically, ${m.proposed} proposal(s)\n`,
          );
      }),
    );

  reconcile
    .command('undo')
    .description(
      "undo a line's reconciliation in Odoo and put it back in the queue (proposal or exception); safe to repeat",
    )
    .argument('<line>', 'the statement line id (the reconciliation item id)')
    .option('--actor <name>', 'who undoes it, for the audit trail', process.env.USER ?? 'cli')
    .option('--json', 'print the item as JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (line: string, opts: { actor: string; json?: boolean; config?: string }) => {
        const item = await withKontor(configOf(opts), (s) => s.undo(line, { actor: `cli:${opts.actor}` }));
        process.stdout.write(
          opts.json === true
            ? `${JSON.stringify(item, null, 2)}\n`
            : `${item.id}: ${item.status} (Odoo ${item.odoo.state}) — ${item.explanation}\n`,
        );
      }),
    );
}
