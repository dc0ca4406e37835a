/** `kontor payments propose|explain|list`: the payment run through the same services as the API. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { paymentOrderStates, type PaymentOrderState } from '../../domain/index.ts';
import { startKontor } from '../../main.ts';
import { createLogger } from '../../observability/index.ts';
import { action } from '../run.ts';

type PaymentServices = NonNullable<Awaited<ReturnType<typeof startKontor>>['services']['paymentOrders']>;

async function withPayments(
  program: Command,
  configFile: string | undefined,
  fn: (p: PaymentServices) => Promise<void>,
): Promise<void> {
  const { config } = loadConfig(configFile ?? program.opts<{ config?: string }>().config);
  const kontor = await startKontor({
    config,
    listen: false,
    logger: createLogger({ level: process.env.KONTOR_LOG_LEVEL ?? 'warn' }),
  });
  try {
    await fn(kontor.services.paymentOrders!);
  } finally {
    await kontor.stop();
  }
}

function print(value: unknown, json: boolean | undefined, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** Registers `kontor payments`. */
export function registerPayments(program: Command): void {
  const payments = program
    .command('payments')
    .description(
      'payment runs: propose orders from open Odoo bills, explain their approval policy, list them',
    );

  payments
    .command('propose')
    .description('propose a payment order from the open vendor bills of a bank account’s legal entity')
    .requiredOption('--account <id>', 'bank account id from kontor.yaml')
    .requiredOption('--due-by <date>', 'bills due on or before this date (YYYY-MM-DD)')
    .option('--execution-date <date>', 'requested execution date (default today)')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print JSON')
    .action(
      action(
        async (opts: {
          account: string;
          dueBy: string;
          executionDate?: string;
          config?: string;
          json?: boolean;
        }) => {
          await withPayments(program, opts.config, async (p) => {
            const r = await p.propose({
              bankAccountId: opts.account,
              dueBy: opts.dueBy,
              executionDate: opts.executionDate,
              actor: `cli:${userInfo().username}`,
            });
            print(r, opts.json, () =>
              [
                `proposed order ${r.orderId}: ${r.lineCount} transfer(s) paying ${r.billCount} bill(s), total ${r.total.amount} ${r.total.currency} (draft)`,
                ...r.skipped.map((s) => `  skipped ${s.number}: ${s.reason}`),
              ].join('\n'),
            );
          });
        },
      ),
    );

  payments
    .command('explain')
    .description('show which approval rules fire for an order and why, and where its approvals stand')
    .argument('<order>', 'payment order id')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print JSON')
    .action(
      action(async (orderId: string, opts: { config?: string; json?: boolean }) => {
        await withPayments(program, opts.config, async (p) => {
          const e = await p.explain(orderId);
          print(e, opts.json, () =>
            [
              `order ${e.orderId} (${e.state}), total ${e.total.amount} ${e.total.currency}`,
              `needs ${e.requiredApprovals} distinct human approval(s)${e.requiredRoles.length > 0 ? ` including ${e.requiredRoles.join(', ')}` : ''}; approvals last ${e.approvalValidForHours} h`,
              'rules that fired:',
              ...e.firedRules.map((r) => `  - ${r.rule}: ${r.reason}`),
              'approvals:',
              ...(e.approvals.length === 0
                ? ['  (none)']
                : e.approvals.map(
                    (a) => `  - ${a.approverId} at ${a.approvedAt}${a.expired ? ' (expired)' : ''}`,
                  )),
              `status: ${e.status.status === 'refused' ? `refused: ${e.status.denial.reason}` : e.status.status}`,
            ].join('\n'),
          );
        });
      }),
    );

  payments
    .command('list')
    .description('list payment orders, newest first')
    .option('--state <state>', `only orders in this state (${paymentOrderStates.join(', ')})`)
    .option('--limit <n>', 'how many', '50')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { state?: string; limit: string; config?: string; json?: boolean }) => {
        if (opts.state !== undefined && !(paymentOrderStates as readonly string[]).includes(opts.state))
          throw new Error(`unknown state "${opts.state}" (one of ${paymentOrderStates.join(', ')})`);
        await withPayments(program, opts.config, async (p) => {
          const rows = await p.list({
            state: opts.state as PaymentOrderState | undefined,
            limit: Number(opts.limit),
          });
          print(rows, opts.json, () =>
            rows.length === 0
              ? 'no payment orders'
              : rows
                  .map(
                    (o) =>
                      `${o.id}  ${o.state.padEnd(18)} ${o.total.amount.padStart(14)} ${o.currency}  ${o.lineCount} transfer(s)  ${o.bankAccountId}  exec ${o.executionDate}`,
                  )
                  .join('\n'),
          );
        });
      }),
    );
}
