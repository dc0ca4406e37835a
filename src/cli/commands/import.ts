/**
 * `kontor import [--account ID] FILE…`: imports statement files through the same flow as the API
 * and the inbox folders. `--account` names the bank account the files are for; a CSV needs it
 * (that account's csvProfile reads it).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig } from '../../config/index.ts';
import { startKontor } from '../../main.ts';
import { createLogger } from '../../observability/index.ts';
import { action } from '../run.ts';

/** Registers `kontor import`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'import bank statement files (camt.052/053/054, MT940/942, CSV with --account) and post their lines to Odoo',
    )
    .argument('<files...>', 'statement files')
    .option('-c, --config <file>', 'configuration file')
    .option('--account <id>', 'bank account the files are for (needed for CSV: its csvProfile reads them)')
    .option('--no-post', 'only store the lines; the running hub posts them')
    .action(
      action(async (files: string[], opts: { config?: string; post: boolean; account?: string }) => {
        const { config } = loadConfig(opts.config ?? program.opts<{ config?: string }>().config);
        const kontor = await startKontor({
          config,
          listen: false,
          logger: createLogger({ level: process.env.KONTOR_LOG_LEVEL ?? 'warn' }),
        });
        const statements = kontor.services.statements!;
        const totalBytes = files.reduce((a, f) => a + statSync(f).size, 0);
        const bar = process.stderr.isTTY
          ? new cliProgress.SingleBar(
              {
                format: 'importing [{bar}] {percentage}% {value}/{total} bytes {file}',
                stream: process.stderr,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        bar?.start(totalBytes, 0, { file: '' });
        let failed = 0;
        try {
          let done = 0;
          for (const file of files) {
            bar?.update(done, { file: basename(file) });
            try {
              const r = await statements.importFile({
                content: readFileSync(file),
                fileName: basename(file),
                source: 'cli',
                actor: `cli:${userInfo().username}`,
                account: opts.account,
              });
              const line = `${file}: ${r.duplicate ? 'already imported as' : 'imported as'} ${r.importId} — ${r.statements.length} statement(s), ${r.newLines} new line(s), ${r.duplicateLines} already known`;
              if (bar) bar.update(done, { file: basename(file) });
              process.stdout.write(`${line}\n`);
            } catch (e) {
              failed++;
              process.stderr.write(
                `${file}: rejected: ${(e as Error).message}${(e as { code?: string }).code ? ` [${(e as { code?: string }).code}]` : ''}\n`,
              );
            }
            done += statSync(file).size;
            bar?.update(done);
          }
          bar?.stop();
          if (opts.post) {
            const posted = await statements.postPending();
            process.stdout.write(
              `posted ${posted.posted} line(s) to Odoo${posted.failed > 0 ? `, ${posted.failed} rejected by Odoo (see GET /v1/statements/{id})` : ''}\n`,
            );
          }
        } finally {
          bar?.stop();
          await kontor.stop();
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
}
