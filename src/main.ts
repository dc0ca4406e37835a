/**
 * The composition root: the only module that knows the concrete adapters. It opens the store,
 * wires the capabilities and starts the HTTP server.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer, type ApiServices, type App, type ReadinessCheck } from './api/index.ts';
import { ConfigError, loadSecrets, type KontorConfig } from './config/index.ts';
import { startSecurity } from './identity/index.ts';
import { recordAudit } from './audit/index.ts';
import { startFolderInbox } from './connectors/banks/index.ts';
import {
  checkOdooConnection,
  createOdooReconciliationLedger,
  createOdooStatementPoster,
  createOdooVendorPayables,
  formatOdooCheckReport,
  OdooClient,
  readOdooCredentials,
  startSandboxOdoo,
  type ConfiguredBankAccount,
  type SandboxOdoo,
} from './connectors/odoo/index.ts';
import { type Clock, type IdGenerator } from './domain/index.ts';
import { publish, startEventBus } from './events/index.ts';
import {
  getImport,
  importStatementFile,
  listImports,
  postPendingLines,
  readPostingBacklog,
  startPostingLoop,
  type StatementImportDeps,
  type StatementPostingDeps,
} from './flows/statement-import/index.ts';
import {
  createReconciliationServices,
  startReconciliationLoop,
  type ReconciliationDeps,
} from './flows/reconciliation/index.ts';
import * as paymentRun from './flows/payment-run/index.ts';
import { pain001XsdFileNames } from './formats/iso20022/xsd/index.ts';
import { createLogger, type Logger } from './observability/index.ts';
import { openStore, recordStart, type Db } from './store/index.ts';

/** The package version, shown by `kontor version` and /healthz. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

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
  const port =
    env.KONTOR_PORT === undefined || env.KONTOR_PORT === '' ? config.server.port : Number(env.KONTOR_PORT);
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
  const odooUrl = secrets.ODOO_URL || config.odoo.url;
  logger.info(
    { version: VERSION, odoo: odooUrl || 'sandbox' },
    odooUrl
      ? `starting Kontor ${VERSION} against Odoo at ${odooUrl}`
      : `starting Kontor ${VERSION} with the built-in sandbox Odoo (no ODOO_URL configured; demo data in memory)`,
  );

  const { db, applied } = await openStore({ databaseUrl, dataDir });
  const stack: (() => Promise<void>)[] = [() => db.close()];
  const stopAll = async () => {
    while (stack.length > 0) await stack.pop()!();
  };
  try {
    const instance = await recordStart(db);
    logger.info(
      {
        store: db.description,
        migrationsApplied: applied.map((m) => m.version),
        instanceId: instance.instanceId,
        starts: instance.startedCount,
      },
      db.kind === 'pglite'
        ? 'store: embedded PGlite (not power-loss durable; use KONTOR_DATABASE_URL=postgres://… in production)'
        : 'store: PostgreSQL',
    );

    const security = startSecurity({ db, secrets, dataDir, logger });
    stack.push(() => security.stop());

    const readiness: ReadinessCheck[] = [];
    const odoo = await connectOdoo(config, secrets, logger);
    stack.push(() => odoo.close());
    readiness.push({
      name: 'odoo',
      check: async () => {
        const stats = odoo.client.transport.stats();
        return { ok: stats.circuit !== 'open', detail: `${odoo.description}, circuit ${stats.circuit}` };
      },
    });

    const bus = await startEventBus(db, {
      url: secrets.KONTOR_BUS,
      // Old events leave the log once every consumer passed them (default 30 days; 0 = never).
      // CLI commands run no background loops: the serving hub prunes.
      retention:
        options.listen === false || env.KONTOR_EVENT_RETENTION_DAYS === '0'
          ? false
          : env.KONTOR_EVENT_RETENTION_DAYS
            ? { maxAgeMs: Number(env.KONTOR_EVENT_RETENTION_DAYS) * 86_400_000 }
            : {},
      onError: (error, where) => logger.error({ err: error, where }, 'event bus error'),
    });
    stack.push(() => bus.close());

    const statements = await wireStatements({
      db,
      config,
      logger,
      odoo: odoo.client,
      bus,
      background: options.listen !== false,
    });
    stack.push(() => statements.stop());
    const reconciliation = await wireReconciliation({
      db,
      config,
      logger,
      odoo: odoo.client,
      bus,
      background: options.listen !== false,
    });
    stack.push(() => reconciliation.stop());
    const payments = wirePaymentRun({
      db,
      config,
      odoo: odoo.client,
      dataDir,
      env,
      secrets,
      logger,
      background: options.listen !== false,
    });
    stack.push(() => payments.stop());
    const paymentOrders = payments.services;

    const services: ApiServices = {
      db,
      config,
      logger,
      version: VERSION,
      readiness,
      security,
      statements: statements.services,
      reconciliation: reconciliation.services,
      paymentOrders,
    };
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

const systemClock: Clock = { now: () => new Date() };
const uuidIds: IdGenerator = { next: () => randomUUID().replace(/-/g, '').slice(0, 20) };

interface ConnectedOdoo {
  client: OdooClient;
  description: string;
  sandbox: SandboxOdoo | undefined;
  close(): Promise<void>;
}

/** Connects to the configured Odoo, or starts the in-memory sandbox when none is configured. */
async function connectOdoo(
  config: KontorConfig,
  secrets: Record<string, string>,
  logger: Logger,
): Promise<ConnectedOdoo> {
  const url = secrets.ODOO_URL || config.odoo.url;
  const transport = {
    protocol: config.odoo.protocol,
    timeoutMs: config.odoo.timeoutMs,
    throttle: { ratePerSecond: config.odoo.requestsPerSecond, burst: config.odoo.burst },
  };
  if (url === undefined || url === '') {
    const sandbox = await startSandboxOdoo();
    logger.warn(
      { odoo: sandbox.url },
      'odoo: no ODOO_URL configured, using the built-in sandbox Odoo (in memory, demo data; it starts fresh on every start)',
    );
    const client = await OdooClient.connect(
      { url: sandbox.url, db: sandbox.db, login: sandbox.login, apiKey: sandbox.apiKey },
      transport,
    );
    return { client, description: `sandbox ${sandbox.url}`, sandbox, close: () => sandbox.close() };
  }
  const db = secrets.ODOO_DB || config.odoo.database;
  const login = secrets.ODOO_USER || config.odoo.user;
  const apiKey = secrets.ODOO_API_KEY;
  const password = secrets.ODOO_PASSWORD;
  if (!db || !login || (!apiKey && !password)) {
    throw new ConfigError(undefined, [
      {
        path: 'odoo',
        message:
          'a real Odoo needs ODOO_DB (or odoo.database), ODOO_USER (or odoo.user) and ODOO_API_KEY or ODOO_PASSWORD in the environment or the secrets file',
      },
    ]);
  }
  const client = await OdooClient.connect(
    { url, db, login, ...(apiKey ? { apiKey } : { password: password! }) },
    transport,
  );
  logger.info({ odoo: url, version: client.version.serverVersion }, 'odoo: connected');
  return {
    client,
    description: `${url} (Odoo ${client.version.serverVersion})`,
    sandbox: undefined,
    close: async () => undefined,
  };
}

/** Wires the statement-import flow: the API's services, the posting consumer and loop, and the inbox folders. */
async function wireStatements(input: {
  db: Db;
  config: KontorConfig;
  logger: Logger;
  odoo: OdooClient;
  bus: Awaited<ReturnType<typeof startEventBus>>;
  /** Run the posting loop, its consumer and the inbox folders (the hub); a CLI command runs none of them. */
  background: boolean;
}): Promise<{ services: NonNullable<ApiServices['statements']>; stop(): Promise<void> }> {
  const { db, config, logger } = input;
  const maxBytes = 200 * 1024 * 1024;
  const accounts = config.bankAccounts;
  const entities = config.entities;
  const audit: StatementImportDeps['audit'] = (tx, entry) => recordAudit(tx, entry);
  const importDeps: StatementImportDeps = {
    db,
    accounts,
    entities,
    clock: systemClock,
    ids: uuidIds,
    maxBytes,
    publish: (tx, event) => publish(tx, event),
    audit,
  };
  const postingDeps: StatementPostingDeps = {
    db,
    accounts,
    entities,
    clock: systemClock,
    poster: createOdooStatementPoster(input.odoo, { batchSize: config.odoo.batchSize }),
    publish: (tx, event) => publish(tx, event),
    audit,
    batchSize: config.odoo.batchSize,
  };
  if (!input.background) {
    return {
      services: statementServices(importDeps, postingDeps, maxBytes, db),
      stop: async () => undefined,
    };
  }
  const loop = startPostingLoop(postingDeps, {
    onResult: (r) => {
      if (r.posted + r.failed > 0)
        logger.info(
          { posted: r.posted, failed: r.failed, completedImports: r.completedImports },
          'statement lines posted to Odoo',
        );
    },
    onError: (e, retryInMs) =>
      logger.warn({ err: e, retryInMs }, 'posting to Odoo failed; lines stay pending and will be retried'),
  });
  // The consumer only wakes the loop: posting talks to Odoo and must not run inside the consumer's transaction.
  const consumer = await input.bus.startConsumer({
    name: 'statement-poster',
    types: ['kontor.bank.statement.received.v1'],
    handle: async () => loop.wake(),
  });
  const inboxes = input.background
    ? accounts
        .filter((a) => a.inbox !== undefined)
        .map((a) =>
          startFolderInbox({
            dir: a.inbox!,
            onFile: async (file) => {
              const r = await importStatementFile(importDeps, {
                content: file.content,
                fileName: file.name,
                source: 'folder',
                actor: `folder:${a.id}`,
                // The folder belongs to one account: its CSV profile reads CSV files, other files must name it.
                account: a.id,
              });
              logger.info(
                { file: file.name, importId: r.importId, duplicate: r.duplicate, newLines: r.newLines },
                'statement file imported from inbox',
              );
            },
          }),
        )
    : [];
  return {
    services: statementServices(importDeps, postingDeps, maxBytes, db),
    async stop() {
      for (const inbox of inboxes) await inbox.close();
      await consumer.stop();
      await loop.stop();
    },
  };
}

/**
 * Wires the payment-run flow: Odoo payables, one outbox folder per bank account (the durable
 * write of a release), the SFTP delivery channel and its retry loop where configured, the policy
 * and the pain.001 XSDs.
 */
function wirePaymentRun(input: {
  db: Db;
  config: KontorConfig;
  odoo: OdooClient;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  secrets: Record<string, string>;
  logger: Logger;
  /** Run the SFTP delivery loop (the hub); a CLI command delivers only when it releases. */
  background: boolean;
}): { services: NonNullable<ApiServices['paymentOrders']>; stop(): Promise<void> } {
  const { config, logger } = input;
  // The official XSDs are not shipped in the package: KONTOR_XSD_DIR, else the shared fixtures next to the checkout.
  const xsdDir = input.env.KONTOR_XSD_DIR || new URL('../../shared/fixtures/xsd/', import.meta.url).pathname;
  const xsdSource = input.env.KONTOR_XSD_DIR
    ? `${xsdDir} (KONTOR_XSD_DIR)`
    : `${xsdDir} (the default: KONTOR_XSD_DIR is not set)`;
  const xsd: paymentRun.PaymentRunDeps['xsd'] = {};
  for (const version of Object.keys(pain001XsdFileNames) as (keyof typeof pain001XsdFileNames)[]) {
    const file = pain001XsdFileNames[version].map((n) => join(xsdDir, n)).find((p) => existsSync(p));
    if (file !== undefined) xsd[version] = readFileSync(file, 'utf8');
  }
  const missing = [...new Set(config.bankAccounts.map((a) => a.painVersion))].filter(
    (v) => xsd[v] === undefined,
  );
  if (missing.length > 0)
    logger.warn(
      { xsdDir, missing: missing.map((v) => pain001XsdFileNames[v].join(' or ')) },
      `payments: no XSD for ${missing.join(', ')} in ${xsdSource}; releases of those orders are refused until KONTOR_XSD_DIR points at a folder with the official XSDs`,
    );
  const outboxes = new Map(
    config.bankAccounts.map((a) => [a.id, a.outbox ?? join(input.dataDir, 'outbox', a.id)]),
  );
  const deliveries = new Map(
    config.bankAccounts
      .filter((a) => a.sftp !== undefined)
      .map((a) => {
        const sftp = a.sftp!;
        const passwordVar = `KONTOR_SFTP_PASSWORD_${a.id.toUpperCase().replace(/-/g, '_')}`;
        const password = input.secrets[passwordVar];
        if (sftp.privateKeyFile === undefined && !password)
          throw new ConfigError(undefined, [
            {
              path: `bankAccounts.${a.id}.sftp`,
              message: `set privateKeyFile or the password in ${passwordVar}`,
            },
          ]);
        return [
          a.id,
          paymentRun.createSftpChannel({
            host: sftp.host,
            port: sftp.port,
            username: sftp.username,
            path: sftp.path,
            hostKeySha256: sftp.hostKeySha256,
            privateKey: sftp.privateKeyFile === undefined ? undefined : readFileSync(sftp.privateKeyFile),
            password: password || undefined,
          }),
        ] as const;
      }),
  );
  const deps: paymentRun.PaymentRunDeps = {
    db: input.db,
    accounts: config.bankAccounts.map((a) => ({
      id: a.id,
      entity: a.entity,
      iban: a.iban,
      bic: a.bic,
      currency: a.currency,
      odooJournal: a.odooJournal,
      painVersion: a.painVersion,
    })),
    entities: config.entities,
    payables: createOdooVendorPayables(input.odoo),
    policy: config.approvalPolicy,
    channelFor: (id) => paymentRun.createFolderChannel(outboxes.get(id) ?? join(input.dataDir, 'outbox', id)),
    deliveryFor: (id) => deliveries.get(id),
    xsd,
    xsdSource,
    publish: (tx, event) => publish(tx, event),
    audit: (tx, entry) => recordAudit(tx, entry),
    clock: systemClock,
    ids: uuidIds,
  };
  const loop =
    input.background && deliveries.size > 0
      ? paymentRun.startPaymentDeliveryLoop(deps, {
          onResult: (r) => {
            if (r.delivered.length > 0)
              logger.info({ orders: r.delivered }, 'payment files delivered to the bank');
            for (const f of r.failed)
              logger[f.error.retryable ? 'warn' : 'error'](
                { orderId: f.orderId, code: f.error.code },
                `payment file delivery failed: ${f.error.message}${f.error.retryable ? '; the order waits and is retried' : '; the order waits for a person'}`,
              );
          },
          onError: (e, retryInMs) => logger.warn({ err: e, retryInMs }, 'payment delivery pass failed'),
        })
      : undefined;
  const services: NonNullable<ApiServices['paymentOrders']> = {
    propose: (i) => paymentRun.proposePaymentOrder(deps, i),
    list: (o) => paymentRun.listPaymentOrders(deps, o),
    get: (id) => paymentRun.getPaymentOrder(deps, id),
    explain: (id) => paymentRun.explainPaymentOrder(deps, id),
    submit: (i) => paymentRun.submitPaymentOrder(deps, i),
    approve: (i) => paymentRun.approvePaymentOrder(deps, i),
    release: (i) => paymentRun.releasePaymentOrder(deps, i),
    cancel: (i) => paymentRun.cancelPaymentOrder(deps, i),
    file: (id) => paymentRun.readPaymentFile(deps, id),
    applyStatusReport: (i) => paymentRun.applyStatusReport(deps, i),
  };
  return { services, stop: async () => loop?.stop() };
}

/** The statement-import functions the API and the CLI call. */
function statementServices(
  importDeps: StatementImportDeps,
  postingDeps: StatementPostingDeps,
  maxBytes: number,
  db: Db,
): NonNullable<ApiServices['statements']> {
  return {
    maxBytes,
    importFile: (i) => importStatementFile(importDeps, i),
    list: (o) => listImports(db, o),
    get: (id) => getImport(db, id),
    backlog: () => readPostingBacklog(db),
    postPending: () => postPendingLines(postingDeps),
  };
}

/** Wires reconciliation: the Odoo ledger adapter, the loop woken by posted statements, and the API's services. */
async function wireReconciliation(input: {
  db: Db;
  config: KontorConfig;
  logger: Logger;
  odoo: OdooClient;
  bus: Awaited<ReturnType<typeof startEventBus>>;
  /** Run the loop and its consumer (the hub); a CLI command runs neither. */
  background: boolean;
}): Promise<{ services: NonNullable<ApiServices['reconciliation']>; stop(): Promise<void> }> {
  const { db, config, logger } = input;
  const deps: ReconciliationDeps = {
    db,
    accounts: config.bankAccounts,
    entities: config.entities,
    ledger: createOdooReconciliationLedger(input.odoo),
    rules: config.reconciliation.rules,
    publish: (tx, event) => publish(tx, event),
    audit: (tx, entry) => recordAudit(tx, entry),
    clock: systemClock,
  };
  if (!input.background) return { services: createReconciliationServices(deps), stop: async () => undefined };
  const loop = startReconciliationLoop(deps, {
    onResult: (r) => {
      if (r.autoMatched + r.proposed + r.exceptions + r.failedInOdoo > 0)
        logger.info(r, 'bank lines reconciled against Odoo open items');
    },
    onRematch: (r) => {
      if (r.autoMatched + r.proposed + r.failedInOdoo > 0)
        logger.info(r, 'exception lines re-matched against new Odoo open items');
    },
    onError: (e, retryInMs) =>
      logger.warn({ err: e, retryInMs }, 'reconciliation failed; it will be retried'),
  });
  // The consumer only wakes the loop: reconciling talks to Odoo and must not run inside the consumer's transaction.
  const consumer = await input.bus.startConsumer({
    name: 'reconciliation',
    types: ['kontor.bank.statement.posted.v1'],
    handle: async () => loop.wake(),
  });
  return {
    services: createReconciliationServices(deps),
    async stop() {
      await consumer.stop();
      await loop.stop();
    },
  };
}

/** `kontor odoo check`: connects with the configured settings (or the sandbox) and maps every configured bank account to a journal. */
export async function checkOdoo(
  config: KontorConfig,
  extraAccounts: readonly ConfiguredBankAccount[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ text: string; ok: boolean }> {
  const secrets = loadSecrets(config.secretsFile, env);
  const credentials = readOdooCredentials({
    ODOO_URL: secrets.ODOO_URL || config.odoo.url,
    ODOO_DB: secrets.ODOO_DB || config.odoo.database,
    ODOO_USER: secrets.ODOO_USER || config.odoo.user,
    ODOO_API_KEY: secrets.ODOO_API_KEY,
    ODOO_PASSWORD: secrets.ODOO_PASSWORD,
  });
  const accounts: ConfiguredBankAccount[] = [
    ...config.bankAccounts
      .filter((a) => a.iban !== undefined)
      .map((a) => ({ iban: a.iban!, currency: a.currency })),
    ...extraAccounts,
  ];
  const report = await checkOdooConnection(credentials, accounts);
  return { text: formatOdooCheckReport(report), ok: report.mappings.every((m) => m.problem === undefined) };
}
