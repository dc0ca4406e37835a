/** The sandbox's HTTP face: Odoo's `/jsonrpc` and `/json/2/<model>/<method>` endpoints over node:http. */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callMethod, createSandboxDb, methodParams, recordMethods } from './models.ts';
import { type SandboxSeed, seedSandbox } from './seed.ts';
import { OdooFaultError, raiseFault, type SandboxDb, type SandboxEnv } from './store.ts';

/** Where the sandbox listens and what it reports. */
export interface SandboxOdooOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  db?: string;
  apiKey?: string;
  /** Reported by `common.version`; the sandbox serves JSON-RPC and JSON-2 whatever it says. */
  serverVersion?: string;
  /** The date new records get by default, YYYY-MM-DD. */
  today?: () => string;
}

/** A running sandbox and how to connect to it. */
export interface SandboxOdoo {
  url: string;
  db: string;
  login: string;
  password: string;
  apiKey: string;
  /** A user without accounting rights, for access-error tests. */
  restricted: { login: string; password: string; apiKey: string };
  seed: SandboxSeed;
  /** Makes the next `count` HTTP requests answer with `status` (e.g. 503) to exercise retries. */
  injectFailures(count: number, status?: number): void;
  close(): Promise<void>;
}

interface SandboxUser {
  uid: number;
  login: string;
  password: string;
  apiKey: string;
  accounting: boolean;
}

/** Starts an in-memory Odoo emulation on 127.0.0.1 and resolves once it listens. */
export async function startSandboxOdoo(options: SandboxOdooOptions = {}): Promise<SandboxOdoo> {
  const today = options.today ?? (() => new Date().toISOString().slice(0, 10));
  const dbName = options.db ?? 'kontor-sandbox';
  const serverVersion = options.serverVersion ?? '18.0';
  const store = createSandboxDb(today);
  const seed = seedSandbox(store, today().slice(0, 4));
  const users: SandboxUser[] = [
    {
      uid: seed.adminUid,
      login: 'admin',
      password: 'admin',
      apiKey: options.apiKey ?? randomBytes(20).toString('hex'),
      accounting: true,
    },
    {
      uid: seed.restrictedUid,
      login: 'demo',
      password: 'demo',
      apiKey: randomBytes(20).toString('hex'),
      accounting: false,
    },
  ];
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  const context = { store, users, dbName, serverVersion };

  const server = createServer((req, res) => {
    if (failures.count > 0) {
      failures.count -= 1;
      res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('injected failure');
      return;
    }
    handle(context, req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  const [admin, restricted] = users as [SandboxUser, SandboxUser];
  return {
    url: `http://${address.address}:${address.port}`,
    db: dbName,
    login: admin.login,
    password: admin.password,
    apiKey: admin.apiKey,
    restricted: { login: restricted.login, password: restricted.password, apiKey: restricted.apiKey },
    seed,
    injectFailures(count, status = 503) {
      failures = { count, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface HandlerContext {
  store: SandboxDb;
  users: SandboxUser[];
  dbName: string;
  serverVersion: string;
}

async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  if (req.method !== 'POST') {
    res.writeHead(405, { 'content-type': 'text/plain' }).end('POST only');
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid JSON');
    return;
  }
  if (url.pathname === '/jsonrpc') {
    sendJsonRpc(res, body.id ?? null, () =>
      dispatchJsonRpc(ctx, (body.params ?? {}) as Record<string, unknown>),
    );
    return;
  }
  const json2 = /^\/json\/2\/([\w.]+)\/(\w+)$/.exec(url.pathname);
  if (json2) {
    handleJson2(ctx, req, res, json2[1]!, json2[2]!, body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

function sendJsonRpc(res: ServerResponse, id: unknown, run: () => unknown): void {
  let payload: Record<string, unknown>;
  try {
    const result = run();
    // Odoo omits `result` entirely when the Python method returned None; clients must cope.
    payload =
      result === null || result === undefined ? { jsonrpc: '2.0', id } : { jsonrpc: '2.0', id, result };
  } catch (error) {
    const fault = toFault(error);
    payload = {
      jsonrpc: '2.0',
      id,
      error: {
        code: 200,
        message: 'Odoo Server Error',
        data: {
          name: fault.odooName,
          message: fault.message,
          arguments: [fault.message],
          context: {},
          debug: '',
        },
      },
    };
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
}

function dispatchJsonRpc(ctx: HandlerContext, params: Record<string, unknown>): unknown {
  const args = Array.isArray(params.args) ? (params.args as unknown[]) : [];
  const service = params.service;
  const method = params.method;
  if (service === 'common' && method === 'version') {
    const [major = 0, minor = 0] = ctx.serverVersion.split('.').map((n) => Number.parseInt(n, 10));
    return {
      server_version: ctx.serverVersion,
      server_version_info: [major, minor, 0, 'final', 0, ''],
      server_serie: ctx.serverVersion,
      protocol_version: 1,
    };
  }
  if (service === 'common' && (method === 'authenticate' || method === 'login')) {
    const [db, login, secret] = args as [string, string, string];
    checkDb(ctx, db);
    const user = ctx.users.find((u) => u.login === login && (u.password === secret || u.apiKey === secret));
    return user ? user.uid : false;
  }
  if (service === 'object' && method === 'execute_kw') {
    const [db, uid, secret, model, methodName, positional = [], kwargs = {}] = args as [
      string,
      number,
      string,
      string,
      string,
      unknown[],
      Record<string, unknown>,
    ];
    checkDb(ctx, db);
    const user = ctx.users.find((u) => u.uid === uid && (u.password === secret || u.apiKey === secret));
    if (!user) raiseFault('AccessDenied', 'Access Denied');
    const { context, ...named } = kwargs;
    const isRecordMethod = recordMethods.has(methodName);
    const ids = isRecordMethod ? toIds(positional[0]) : undefined;
    const rest = isRecordMethod ? positional.slice(1) : positional;
    // Real Odoo runs `create` and then reads args[0]; without a positional argument the call fails and rolls back.
    if (methodName === 'create' && rest.length === 0)
      throw new OdooFaultError('builtins.IndexError', 'tuple index out of range');
    const names = methodParams[methodName] ?? [];
    const byName: Record<string, unknown> = {};
    rest.forEach((value, i) => {
      const name = names[i];
      if (name) byName[name] = value;
    });
    return callMethod(ctx.store, createEnv(ctx, user, context), model, methodName, ids, {
      ...byName,
      ...named,
    });
  }
  throw new OdooFaultError(
    'builtins.NameError',
    `service ${String(service)}.${String(method)} is not emulated`,
  );
}

function handleJson2(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  method: string,
  body: Record<string, unknown>,
): void {
  const auth = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const user = auth ? ctx.users.find((u) => u.apiKey === auth[1]) : undefined;
  const database = req.headers['x-odoo-database'];
  const send = (status: number, payload: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  };
  if (!user) {
    send(401, {
      name: 'werkzeug.exceptions.Unauthorized',
      message: 'Invalid apikey',
      arguments: ['Invalid apikey'],
      context: {},
      debug: '',
    });
    return;
  }
  try {
    if (typeof database === 'string') checkDb(ctx, database);
    const { ids, context, ...named } = body;
    const result = callMethod(
      ctx.store,
      createEnv(ctx, user, context),
      model,
      method,
      ids === undefined ? undefined : toIds(ids),
      named,
    );
    send(200, result ?? null);
  } catch (error) {
    const fault = toFault(error);
    const short = fault.odooName.split('.').pop();
    const status =
      short === 'AccessError' || short === 'AccessDenied'
        ? 403
        : short === 'MissingError'
          ? 404
          : short === 'UserError' || short === 'ValidationError'
            ? 422
            : 500;
    send(status, {
      name: fault.odooName,
      message: fault.message,
      arguments: [fault.message],
      context: {},
      debug: '',
    });
  }
}

function createEnv(ctx: HandlerContext, user: SandboxUser, context: unknown): SandboxEnv {
  const record = ctx.store.get('res.users', user.uid);
  const userCompanies = (record?.company_ids as number[] | undefined) ?? [];
  const requested = (context as { allowed_company_ids?: unknown } | undefined)?.allowed_company_ids;
  const allowed = Array.isArray(requested) && requested.length > 0 ? (requested as number[]) : userCompanies;
  if (allowed.some((c) => !userCompanies.includes(c)))
    raiseFault('AccessError', 'Access to unauthorized or invalid companies.');
  return { uid: user.uid, allowedCompanyIds: allowed, accounting: user.accounting };
}

function checkDb(ctx: HandlerContext, db: string): void {
  if (db !== ctx.dbName)
    throw new OdooFaultError(
      'psycopg2.OperationalError',
      `connection to server failed: FATAL:  database "${db}" does not exist`,
    );
}

function toIds(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value;
  throw new OdooFaultError('builtins.TypeError', `expected a list of ids, got ${JSON.stringify(value)}`);
}

function toFault(error: unknown): OdooFaultError {
  if (error instanceof OdooFaultError) return error;
  return new OdooFaultError('builtins.Exception', error instanceof Error ? error.message : String(error));
}
