/**
 * The wire to Odoo: JSON-RPC (`/jsonrpc`, Odoo 16–18) or JSON-2 (`/json/2/<model>/<method>`, Odoo 19+),
 * behind one call shape, with timeouts, throttling, bounded concurrency, retries and a circuit breaker.
 */
import { type AppError, ErrorCodes, NonRetryableError } from '../../domain/index.ts';
import { createProtocolError, createUnavailableError, mapOdooFault, type OdooFault } from './errors.ts';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  computeBackoffMs,
  ConcurrencyLimiter,
  type RetryOptions,
  systemTimer,
  type Timer,
  TokenBucket,
  type TokenBucketOptions,
} from './resilience.ts';

/** The wire protocol: JSON-RPC for Odoo 16–18, JSON-2 for 19+. */
export type OdooProtocol = 'jsonrpc' | 'json2';

/** Where and as whom to connect; `apiKey` is preferred, `password` works with JSON-RPC only. */
export interface OdooCredentials {
  url: string;
  db: string;
  login: string;
  apiKey?: string;
  password?: string;
}

/** Protocol choice, timeouts, throttle, retries, breaker and injected time. */
export interface OdooTransportOptions {
  /** `auto` (default) picks JSON-2 for Odoo 19+ when an API key is given, JSON-RPC otherwise. */
  protocol?: OdooProtocol | 'auto';
  timeoutMs?: number;
  concurrency?: number;
  throttle?: TokenBucketOptions;
  retry?: RetryOptions;
  breaker?: CircuitBreakerOptions;
  timer?: Timer;
  fetch?: typeof fetch;
}

/** One model method call; `ids` is the recordset for record methods, `params` are passed by name. */
export interface OdooCall {
  model: string;
  method: string;
  ids?: number[];
  params?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** What `common.version` reports. */
export interface OdooVersion {
  serverVersion: string;
  major: number;
  info: unknown[];
}

/** Counters a metrics endpoint or `/readyz` can read. */
export interface OdooTransportStats {
  protocol: OdooProtocol;
  circuit: CircuitState;
  roundTrips: number;
  retries: number;
}

// Odoo's JSON-RPC `create` reads its first positional argument after running (`args[0]`), so kwargs alone fail
// with "tuple index out of range" after the rows were built and rolled back (verified on 18.0).
const positionalParams: Record<string, string[]> = { create: ['vals_list'] };

const defaults = {
  timeoutMs: 120_000,
  concurrency: 4,
  throttle: { ratePerSecond: 50, burst: 20 },
  retry: { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 8_000 },
  breaker: { failureThreshold: 5, openMs: 30_000 },
} as const;

/** A connected, authenticated transport to one Odoo database. */
export class OdooTransport {
  readonly version: OdooVersion;
  readonly uid: number;
  readonly protocol: OdooProtocol;
  private readonly base: string;
  private readonly secret: string;
  private readonly timer: Timer;
  private readonly doFetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly bucket: TokenBucket;
  private readonly limiter: ConcurrencyLimiter;
  private readonly breaker: CircuitBreaker;
  private roundTrips = 0;
  private retries = 0;
  private nextId = 1;

  private constructor(
    private readonly credentials: OdooCredentials,
    parts: {
      version: OdooVersion;
      uid: number;
      protocol: OdooProtocol;
      secret: string;
      timer: Timer;
      doFetch: typeof fetch;
      options: OdooTransportOptions;
      breaker: CircuitBreaker;
      bucket: TokenBucket;
      limiter: ConcurrencyLimiter;
    },
  ) {
    this.base = credentials.url.replace(/\/+$/, '');
    this.version = parts.version;
    this.uid = parts.uid;
    this.protocol = parts.protocol;
    this.secret = parts.secret;
    this.timer = parts.timer;
    this.doFetch = parts.doFetch;
    this.timeoutMs = parts.options.timeoutMs ?? defaults.timeoutMs;
    this.retry = parts.options.retry ?? defaults.retry;
    this.breaker = parts.breaker;
    this.bucket = parts.bucket;
    this.limiter = parts.limiter;
  }

  /** Asks the server's version, picks the protocol and authenticates; throws ODOO_ACCESS_DENIED on bad credentials. */
  static async connect(
    credentials: OdooCredentials,
    options: OdooTransportOptions = {},
  ): Promise<OdooTransport> {
    const secret = credentials.apiKey ?? credentials.password;
    if (!secret)
      throw new NonRetryableError(ErrorCodes.ODOO_ACCESS_DENIED, 'Odoo needs an API key or a password');
    const timer = options.timer ?? systemTimer;
    const shared = {
      secret,
      timer,
      doFetch: options.fetch ?? fetch,
      options,
      breaker: new CircuitBreaker(options.breaker ?? defaults.breaker, timer),
      bucket: new TokenBucket(options.throttle ?? defaults.throttle, timer),
      limiter: new ConcurrencyLimiter(options.concurrency ?? defaults.concurrency),
    };
    // A half-built transport runs the version and login calls through the same resilience path.
    const probe = new OdooTransport(credentials, {
      ...shared,
      version: { serverVersion: 'unknown', major: 0, info: [] },
      uid: 0,
      protocol: 'jsonrpc',
    });
    const raw = (await probe.callService('common', 'version', [])) as Record<string, unknown> | null;
    const info = Array.isArray(raw?.server_version_info) ? raw.server_version_info : [];
    const version: OdooVersion = {
      serverVersion: typeof raw?.server_version === 'string' ? raw.server_version : 'unknown',
      major:
        typeof info[0] === 'number'
          ? info[0]
          : Number.parseInt(typeof raw?.server_version === 'string' ? raw.server_version : '0', 10) || 0,
      info,
    };
    const wanted = options.protocol ?? 'auto';
    const protocol: OdooProtocol =
      wanted === 'auto' ? (version.major >= 19 && credentials.apiKey ? 'json2' : 'jsonrpc') : wanted;
    if (protocol === 'json2' && !credentials.apiKey) {
      throw new NonRetryableError(ErrorCodes.ODOO_ACCESS_DENIED, 'the JSON-2 API needs an API key');
    }
    let uid: number;
    if (protocol === 'jsonrpc') {
      const result = await probe.callService('common', 'authenticate', [
        credentials.db,
        credentials.login,
        secret,
        {},
      ]);
      if (typeof result !== 'number' || result <= 0) {
        throw new NonRetryableError(
          ErrorCodes.ODOO_ACCESS_DENIED,
          `Odoo refused the credentials of "${credentials.login}"`,
          {
            details: { db: credentials.db },
          },
        );
      }
      uid = result;
    } else {
      const json2 = new OdooTransport(credentials, { ...shared, version, uid: 0, protocol });
      const rows = (await json2.call({
        model: 'res.users',
        method: 'search_read',
        params: { domain: [['login', '=', credentials.login]], fields: ['id'], limit: 1 },
      })) as Array<{ id: number }>;
      const first = rows[0];
      if (!first)
        throw new NonRetryableError(
          ErrorCodes.ODOO_ACCESS_DENIED,
          `Odoo user "${credentials.login}" not found`,
        );
      uid = first.id;
    }
    return new OdooTransport(credentials, { ...shared, version, uid, protocol });
  }

  /** Circuit state and counters, for metrics and readiness. */
  stats(): OdooTransportStats {
    return {
      protocol: this.protocol,
      circuit: this.breaker.state,
      roundTrips: this.roundTrips,
      retries: this.retries,
    };
  }

  /** Calls a model method and returns its result (null when Odoo returned None). */
  call(call: OdooCall): Promise<unknown> {
    const label = `${call.model}.${call.method}`;
    if (this.protocol === 'json2') {
      const body = {
        ...(call.ids ? { ids: call.ids } : {}),
        ...call.params,
        ...(call.context ? { context: call.context } : {}),
      };
      return this.withResilience(() => this.postJson2(`/json/2/${call.model}/${call.method}`, body, label));
    }
    const named: Record<string, unknown> = { ...call.params };
    const positional: unknown[] = call.ids ? [call.ids] : [];
    for (const name of positionalParams[call.method] ?? []) {
      if (!(name in named)) break;
      positional.push(named[name]);
      delete named[name];
    }
    const kwargs = { ...named, ...(call.context ? { context: call.context } : {}) };
    const args = [this.credentials.db, this.uid, this.secret, call.model, call.method, positional, kwargs];
    return this.callService('object', 'execute_kw', args, label);
  }

  private callService(
    service: string,
    method: string,
    args: unknown[],
    label = `${service}.${method}`,
  ): Promise<unknown> {
    const body = { jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: this.nextId++ };
    return this.withResilience(() => this.postJsonRpc(body, label));
  }

  private async withResilience(send: () => Promise<unknown>): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      this.breaker.admit();
      await this.bucket.acquire();
      try {
        const result = await this.limiter.run(send);
        this.breaker.recordSuccess();
        return result;
      } catch (error) {
        const appError = error as AppError;
        const transport = appError.details?.transport === true;
        // Only a missing or failing server trips the breaker; an Odoo fault is a healthy answer.
        if (transport) this.breaker.recordFailure();
        else this.breaker.recordSuccess();
        if (!appError.retryable || attempt >= this.retry.maxAttempts) throw error;
        this.retries += 1;
        await this.timer.sleep(computeBackoffMs(attempt, this.retry, () => this.timer.random()));
      }
    }
  }

  private async post(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    label: string,
  ): Promise<{ status: number; text: string }> {
    this.roundTrips += 1;
    let response: Response;
    try {
      response = await this.doFetch(`${this.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw markTransport(createUnavailableError(`Odoo ${label}: ${(cause as Error).message}`, cause));
    }
    const text = await response.text().catch((cause: unknown) => {
      throw markTransport(createUnavailableError(`Odoo ${label}: reading the answer failed`, cause));
    });
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      const retryAfter = Number(response.headers.get('retry-after'));
      const at =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? new Date(this.timer.now() + retryAfter * 1000)
          : undefined;
      throw markTransport(createUnavailableError(`Odoo ${label}: HTTP ${response.status}`, undefined, at));
    }
    return { status: response.status, text };
  }

  private async postJsonRpc(body: unknown, label: string): Promise<unknown> {
    const { status, text } = await this.post('/jsonrpc', body, {}, label);
    const parsed = parseJson(text, label, status);
    if (parsed.error !== undefined) {
      const error = parsed.error as { message?: string; data?: Partial<OdooFault> };
      throw mapOdooFault(
        {
          name: error.data?.name ?? 'unknown',
          message: error.data?.message ?? error.message ?? 'Odoo error',
        },
        label,
      );
    }
    // Odoo drops the `result` key entirely when a method returns None (verified on 18.0).
    return 'result' in parsed ? parsed.result : null;
  }

  private async postJson2(path: string, body: unknown, label: string): Promise<unknown> {
    const headers = {
      authorization: `bearer ${this.credentials.apiKey ?? ''}`,
      'x-odoo-database': this.credentials.db,
    };
    const { status, text } = await this.post(path, body, headers, label);
    if (status >= 200 && status < 300) return text.length === 0 ? null : JSON.parse(text);
    const parsed = parseJson(text, label, status);
    // A refused bearer key comes back as werkzeug's 401, which means the same as AccessDenied.
    const name =
      status === 401
        ? 'odoo.exceptions.AccessDenied'
        : typeof parsed.name === 'string'
          ? parsed.name
          : 'unknown';
    throw mapOdooFault(
      { name, message: typeof parsed.message === 'string' ? parsed.message : `HTTP ${status}` },
      label,
    );
  }
}

function markTransport(error: AppError): AppError {
  (error as { details: Record<string, unknown> | undefined }).details = { ...error.details, transport: true };
  return error;
}

function parseJson(text: string, label: string, status: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch (cause) {
    throw createProtocolError(`Odoo ${label}: HTTP ${status}, not JSON: ${text.slice(0, 120)}`, cause);
  }
  throw createProtocolError(`Odoo ${label}: HTTP ${status}, unexpected answer`);
}
