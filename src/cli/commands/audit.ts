/** `kontor audit verify|export|checkpoint`: check the hash chain, hand records to auditors, sign the head. */
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import {
  createAuditCheckpoint,
  exportAuditRecords,
  parseAuditSigningKey,
  verifyAuditChain,
} from '../../audit/index.ts';
import { ValidationError } from '../../domain/index.ts';
import { action } from '../run.ts';
import { withSecurityContext } from './identity.ts';

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new ValidationError(`${flag} "${value}" is not a date or ISO 8601 time`, [
      { path: flag, message: 'invalid time' },
    ]);
  return d;
}

/** Registers `kontor audit …`. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  const configOf = (opts: { config?: string }) => opts.config ?? program.opts<{ config?: string }>().config;

  audit
    .command('verify')
    .description(
      'walk the hash chain, name the first broken record, and check checkpoint signatures (exit 1 when broken)',
    )
    .option('--json', 'print the result as JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { json?: boolean; config?: string }) => {
        await withSecurityContext(configOf(opts), async ({ db, secrets }) => {
          const signer = parseAuditSigningKey(secrets.auditSigningKey);
          const r = await verifyAuditChain(db, { publicKeys: new Map([[signer.keyId, signer.publicKey]]) });
          if (opts.json === true) {
            process.stdout.write(
              `${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
            );
          } else if (r.ok) {
            process.stdout.write(
              `audit chain intact: ${r.records} record(s), ${r.checkpointsChecked} signed checkpoint(s) verified\n`,
            );
          } else {
            if (r.firstBreak !== undefined)
              process.stdout.write(
                `BROKEN at record ${r.firstBreak.seq} (${r.firstBreak.reason}): ${r.firstBreak.message}\n`,
              );
            for (const p of r.checkpointProblems) process.stdout.write(`CHECKPOINT ${p.seq}: ${p.message}\n`);
          }
          if (!r.ok) process.exitCode = 1;
        });
      }),
    );

  audit
    .command('export')
    .description('write audit records as JSON lines (for auditors)')
    .option('--from <time>', 'first time included (ISO 8601 or a date)')
    .option('--to <time>', 'first time excluded')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { from?: string; to?: string; out?: string; config?: string }) => {
        const from = parseTime(opts.from, '--from');
        const to = parseTime(opts.to, '--to');
        await withSecurityContext(configOf(opts), async ({ db }) => {
          const out = opts.out === undefined ? process.stdout : createWriteStream(opts.out, { mode: 0o600 });
          const count = await exportAuditRecords(
            db,
            { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) },
            (line) =>
              out.write(line)
                ? undefined
                : new Promise<void>((resolve) => out.once('drain', () => resolve())),
          );
          if (opts.out !== undefined) {
            await new Promise<void>((resolve, reject) =>
              (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) =>
                e ? reject(e) : resolve(),
              ),
            );
          }
          process.stderr.write(`exported ${count} audit record(s)\n`);
        });
      }),
    );

  audit
    .command('checkpoint')
    .description('sign the current head of the chain now (the hub also does so periodically)')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { config?: string }) => {
        await withSecurityContext(configOf(opts), async ({ db, secrets }) => {
          const c = await createAuditCheckpoint(db, parseAuditSigningKey(secrets.auditSigningKey));
          process.stdout.write(
            c === undefined
              ? 'nothing new to sign\n'
              : `signed checkpoint at record ${c.seq} with key ${c.keyId}\n`,
          );
        });
      }),
    );
}
