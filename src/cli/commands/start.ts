/** `kontor start`: runs the hub until SIGTERM/SIGINT, then shuts down cleanly. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { startKontor } from '../../main.ts';
import { action } from '../run.ts';

/** Registers `kontor start`. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the hub (embedded database and sandbox Odoo unless configured otherwise)')
    .option(
      '-c, --config <file>',
      'configuration file (default: $KONTOR_CONFIG, ./kontor.yaml, or the demo defaults)',
    )
    .action(
      action(async (opts: { config?: string }) => {
        const { config, file } = loadConfig(opts.config ?? program.opts<{ config?: string }>().config);
        const kontor = await startKontor({ config });
        kontor.services.logger.info(
          { config: file ?? '(demo defaults)', url: kontor.url },
          'Kontor is running',
        );
        process.stdout.write(
          `Kontor ${kontor.services.version} listening on ${kontor.url} (config: ${file ?? 'demo defaults'})\n`,
        );
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            kontor.services.logger.info({ signal }, 'shutting down: finishing in-flight requests');
            process.once(signal, () => process.exit(1)); // a second signal forces the exit
            kontor
              .stop()
              .then(() => resolve())
              .catch((e: unknown) => {
                kontor.services.logger.error({ err: e }, 'shutdown failed');
                process.exitCode = 1;
                resolve();
              });
          };
          process.once('SIGTERM', onSignal);
          process.once('SIGINT', onSignal);
        });
        kontor.services.logger.info('stopped');
      }),
    );
}
