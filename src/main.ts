/**
 * The composition root: the only module that knows the concrete adapters. It opens the store,
 * wires the capabilities and starts the HTTP server.
 */
import { readFileSync } from 'node:fs';
import { buildServer, type ApiServices, type App, type ReadinessCheck } from './api/index.ts';
import { loadSecrets, type KontorConfig } from './config/index.ts';
import { startSecurity } from './identity/index.ts';
import { createLogger, type Logger } from './observability/index.ts';
import { openStore, recordStart, type Db } from './store/index.ts';

/** The package version, shown by `kontor version` and /healthz. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface StartOptions {
  config: KontorConfig;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Listen on a port (default true); false builds the app for `inject()` only. */
  listen?: boolean;
}

export interface RunningKontor {
  /** Base URL when listening, e.g. http://127.0.0.1:8420. */
  url: string | undefined;
  app: App;
  db: Db;
  services: ApiServices;
  /** Stops taking requests, lets in-flight ones finish, then closes the store. Idempotent. */
  stop(): Promise<void>;
}

/** Where the hub listens: KONTOR_HOST/KONTOR_PORT override the configuration. */
export function listenAddress(config: KontorConfig, env: NodeJS.ProcessEnv): { host: string; port: number } {
  const port = env.KONTOR_PORT === undefined || env.KONTOR_PORT === '' ? config.server.port : Number(env.KONTOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`KONTOR_PORT "${env.KONTOR_PORT}" is not a port number (0–65535)`);
  }
  return { host: env.KONTOR_HOST || config.server.host, port };
}

/** Starts Kontor with the given configuration. */
export async function startKontor(options: StartOptions): Promise<RunningKontor> {
  const env = options.env ?? process.env;
  const config = options.config;
  const logger = options.logger ?? createLogger({ level: env.KONTOR_LOG_LEVEL ?? config.logLevel });
  const secrets = loadSecrets(config.secretsFile, env);
  const databaseUrl = secrets.KONTOR_DATABASE_URL;
  const dataDir = env.KONTOR_DATA_DIR || config.dataDir;

  const { db, applied } = await openStore({ databaseUrl, dataDir });
  const stack: (() => Promise<void>)[] = [() => db.close()];
  const stopAll = async () => {
    while (stack.length > 0) await stack.pop()!();
  };
  try {
    const instance = await recordStart(db);
    logger.info(
      { store: db.description, migrationsApplied: applied.map((m) => m.version), instanceId: instance.instanceId, starts: instance.startedCount },
      db.kind === 'pglite'
        ? 'store: embedded PGlite (not power-loss durable; use KONTOR_DATABASE_URL=postgres://… in production)'
        : 'store: PostgreSQL',
    );

    const security = startSecurity({ db, secrets, dataDir, logger });
    stack.push(() => security.stop());

    const readiness: ReadinessCheck[] = [];
    const services: ApiServices = { db, config, logger, version: VERSION, readiness, security };
    const app = await buildServer(services);
    stack.push(() => app.close());

    let url: string | undefined;
    if (options.listen !== false) {
      const { host, port } = listenAddress(config, env);
      await app.listen({ host, port });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address !== null ? address.port : port;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    }
    let stopping: Promise<void> | undefined;
    return {
      url,
      app,
      db,
      services,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
