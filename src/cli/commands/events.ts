/** `kontor events catalog|replay|consumers|retire` and `kontor dlq list|show|replay`: the event backbone from the shell. */
import type { Command } from 'commander';
import { loadConfig, loadSecrets } from '../../config/index.ts';
import { ValidationError } from '../../domain/index.ts';
import {
  defaultCatalog,
  formatCatalog,
  getDeadLetter,
  listConsumers,
  listDeadLetters,
  replayDeadLetter,
  requestConsumerReplay,
  retireConsumer,
  type DeadLetterStatus,
} from '../../events/index.ts';
import { openStore, type Db } from '../../store/index.ts';
import { action } from '../run.ts';

const json = (value: unknown) =>
  `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;

/** Opens the configured database for one command and closes it afterwards. */
async function withDb<T>(configPath: string | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
  const { config } = loadConfig(configPath);
  const secrets = loadSecrets(config.secretsFile);
  const { db } = await openStore({
    databaseUrl: secrets.KONTOR_DATABASE_URL,
    dataDir: process.env.KONTOR_DATA_DIR || config.dataDir,
  });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Reads `--from`: a sequence number or an ISO 8601 time. */
function parseFrom(value: string): { fromSequence: bigint } | { fromTime: Date } {
  if (/^\d{1,19}$/.test(value)) return { fromSequence: BigInt(value) };
  const t = new Date(value);
  if (Number.isNaN(t.getTime()))
    throw new ValidationError(`--from "${value}" is neither a sequence number nor an ISO 8601 time`, [
      { path: '--from', message: 'invalid' },
    ]);
  return { fromTime: t };
}

/** Registers `kontor events …` and `kontor dlq …`. */
export function registerEvents(program: Command): void {
  const configOf = (opts: { config?: string }) => opts.config ?? program.opts<{ config?: string }>().config;
  const events = program
    .command('events')
    .description('the event backbone: catalog, consumers and their replay');

  events
    .command('catalog')
    .description('print every event type with its version, owner flow and description')
    .option('--json', 'print the catalog with the JSON Schema of each type')
    .action(
      action(async (opts: { json?: boolean }) => {
        process.stdout.write(opts.json === true ? json(defaultCatalog.describe()) : formatCatalog());
      }),
    );

  events
    .command('replay')
    .description(
      'ask the running consumer to re-deliver its events from a sequence or time; recorded effects are skipped, so they stay exactly once',
    )
    .requiredOption('--consumer <name>', 'consumer name')
    .requiredOption('--from <sequence|time>', 'first event sequence, or an ISO 8601 time')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { consumer: string; from: string; config?: string }) => {
        const from = parseFrom(opts.from);
        await withDb(configOf(opts), async (db) => {
          const r = await requestConsumerReplay(db, { consumer: opts.consumer, ...from });
          process.stdout.write(
            `replay of ${r.consumer} from sequence ${r.fromSequence} requested; the running consumer picks it up\n`,
          );
        });
      }),
    );

  events
    .command('consumers')
    .description(
      'list the consumers known to the database: position, events after it, pending replay ($relay is the NATS relay)',
    )
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { json?: boolean; config?: string }) => {
        await withDb(configOf(opts), async (db) => {
          const rows = await listConsumers(db);
          if (opts.json === true) return void process.stdout.write(json(rows));
          for (const c of rows) {
            const replay = c.replayFromSequence === null ? '' : `\treplay from ${c.replayFromSequence}`;
            process.stdout.write(
              `${c.name}\tposition ${c.position}\t${c.behind} event(s) after it\t${c.updatedAt.toISOString()}${replay}\n`,
            );
          }
          if (rows.length === 0) process.stdout.write('no consumers\n');
        });
      }),
    );

  events
    .command('retire')
    .description(
      'forget a consumer that no longer runs, so event retention stops keeping the log for it (its idempotency records and dead letters stay)',
    )
    .requiredOption('--consumer <name>', 'consumer name')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { consumer: string; config?: string }) => {
        await withDb(configOf(opts), async (db) => {
          await retireConsumer(db, opts.consumer);
          process.stdout.write(`consumer ${opts.consumer} retired\n`);
        });
      }),
    );

  const dlq = program.command('dlq').description('dead letters: events a consumer gave up on');

  dlq
    .command('list')
    .description('list dead letters, oldest first')
    .option('--consumer <name>', 'only this consumer')
    .option('--status <status>', 'dead | replaying | replayed', 'dead')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(
        async (opts: {
          consumer?: string;
          status: string;
          limit: string;
          json?: boolean;
          config?: string;
        }) => {
          if (!['dead', 'replaying', 'replayed'].includes(opts.status)) {
            throw new ValidationError(`--status must be dead, replaying or replayed (got "${opts.status}")`, [
              { path: '--status', message: 'invalid' },
            ]);
          }
          await withDb(configOf(opts), async (db) => {
            const rows = await listDeadLetters(db, {
              ...(opts.consumer === undefined ? {} : { consumer: opts.consumer }),
              status: opts.status as DeadLetterStatus,
              limit: Number(opts.limit),
            });
            if (opts.json === true) return void process.stdout.write(json(rows));
            for (const d of rows) {
              process.stdout.write(
                `${d.id}\t${d.consumer}\t${d.eventType}\t${d.eventId}\t${d.attempts} attempt(s)\t${d.updatedAt.toISOString()}\t${d.lastError}\n`,
              );
            }
            if (rows.length === 0) process.stdout.write('no dead letters\n');
          });
        },
      ),
    );

  dlq
    .command('show <id>')
    .description('show one dead letter with its attempts, error, stack and event')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (id: string, opts: { config?: string }) => {
        await withDb(
          configOf(opts),
          async (db) => void process.stdout.write(json(await getDeadLetter(db, id))),
        );
      }),
    );

  dlq
    .command('replay <id>')
    .description('hand a dead letter back to its running consumer with fresh attempts')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (id: string, opts: { config?: string }) => {
        await withDb(configOf(opts), async (db) => {
          const d = await replayDeadLetter(db, id);
          process.stdout.write(
            `dead letter ${d.id} (${d.consumer}, ${d.eventType}) handed back for replay\n`,
          );
        });
      }),
    );
}
