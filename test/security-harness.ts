/**
 * A Kontor API with the security edge switched on, over a fresh test database, with a movable
 * clock and every log line captured (shared by the security, audit and log tests).
 */
import { buildServer, type App } from '../src/api/index.ts';
import { DEMO_CONFIG, parseConfig } from '../src/config/index.ts';
import { fixedClock } from '../src/domain/index.ts';
import { IdentityService, TokenService } from '../src/identity/index.ts';
import { createLogger } from '../src/observability/index.ts';
import type { Db } from '../src/store/index.ts';
import { createTestDb, type Backend } from './support/db.ts';

export const PEPPER = 'test-pepper-0123456789abcdefghijklmnopqrstuvwxyz';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export interface SecureApp {
  app: App;
  db: Db;
  identities: IdentityService;
  tokens: TokenService;
  clock: ReturnType<typeof fixedClock>;
  /** Every log line written so far. */
  logs: string[];
  close(): Promise<void>;
}

/** Builds the app with security on; `rateLimitMax` requests per minute per identity. */
export async function createSecureApp(
  backend: Backend,
  options: { rateLimitMax?: number; bodyLimitBytes?: number } = {},
): Promise<SecureApp> {
  const test = await createTestDb(backend);
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logs.push(line) },
  });
  const clock = fixedClock(Date.now());
  const identities = new IdentityService(test.db, PEPPER, clock);
  const tokens = new TokenService(identities, JWT_SECRET, { clock });
  const config = parseConfig(DEMO_CONFIG);
  config.server.bodyLimitBytes = options.bodyLimitBytes ?? 64 * 1024;
  const app = await buildServer({
    db: test.db,
    config,
    logger,
    version: 'test',
    readiness: [],
    security: {
      identities,
      tokens,
      rateLimit: { max: options.rateLimitMax ?? 10_000, timeWindowMs: 60_000 },
    },
  });
  return {
    app,
    db: test.db,
    identities,
    tokens,
    clock,
    logs,
    async close() {
      await app.close();
      await test.drop();
    },
  };
}

/** Counts rows of the tables an attack must not change. */
export async function countWrites(db: Db): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const t of ['kontor_identities', 'kontor_api_keys', 'kontor_audit', 'kontor_idempotency_keys']) {
    const r = await db.query<{ n: bigint }>(`SELECT count(*)::bigint AS n FROM ${t}`);
    out[t] = r.rows[0]!.n;
  }
  return out;
}

/** An Authorization header for a bearer credential. */
export const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
