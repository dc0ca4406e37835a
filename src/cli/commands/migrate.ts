/** `kontor migrate`: brings the database schema up to date (start does this too). */
import type { Command } from 'commander';
import { loadConfig, loadSecrets } from '../../config/index.ts';
import { migrationStatus, openStore } from '../../store/index.ts';
import { action } from '../run.ts';

/** Registers `kontor migrate`. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (forward-only)')
    .option('-c, --config <file>', 'configuration file')
    .option('--status', 'only show where the database stands')
    .action(
      action(async (opts: { config?: string; status?: boolean }) => {
        const { config } = loadConfig(opts.config ?? program.opts<{ config?: string }>().config);
        const secrets = loadSecrets(config.secretsFile);
        const dataDir = process.env.KONTOR_DATA_DIR || config.dataDir;
        if (opts.status === true) {
          const { openDb } = await import('../../store/index.ts');
          const db = await openDb({ databaseUrl: secrets.KONTOR_DATABASE_URL, dataDir });
          try {
            const s = await migrationStatus(db);
            process.stdout.write(
              `${db.description}: schema version ${s.databaseVersion} of ${s.codeVersion}, ${s.pending.length} pending\n`,
            );
          } finally {
            await db.close();
          }
          return;
        }
        const { db, applied } = await openStore({ databaseUrl: secrets.KONTOR_DATABASE_URL, dataDir });
        try {
          const s = await migrationStatus(db);
          process.stdout.write(
            applied.length === 0
              ? `${db.description}: up to date (schema version ${s.databaseVersion})\n`
              : `${db.description}: applied ${applied.map((m) => `${String(m.version).padStart(4, '0')}-${m.name}`).join(', ')}\n`,
          );
        } finally {
          await db.close();
        }
      }),
    );
}
