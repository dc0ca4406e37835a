/**
 * Idempotency-Key on POST (Stripe-style): the first response to a key is stored with a hash of
 * the request; the same key with the same request replays it (status and body), with a
 * different request answers 422. A duplicate that arrives while the first is still running
 * answers 409 at once (the client retries) rather than holding a connection. Keys are per
 * identity and kept for at least 24 hours.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../audit/index.ts';
import { AppError, ConflictError, ErrorCodes, ValidationError } from '../../domain/index.ts';
import type { Db } from '../../store/index.ts';
import type { App } from '../routes/types.ts';

/** Minimum retention of idempotency keys. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

const KEY = /^[\x21-\x7e]{1,255}$/;

interface Claim {
  identityId: string;
  key: string;
  finished: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: Claim | null;
  }
  interface FastifyContextConfig {
    /** Top-level response fields never stored for a replay (one-time secrets). */
    idempotencyRedact?: string[];
  }
}

/** Deletes keys older than the retention; returns how many were removed. */
export async function purgeIdempotencyKeys(
  db: Db,
  retentionMs: number = IDEMPOTENCY_RETENTION_MS,
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - Math.max(retentionMs, IDEMPOTENCY_RETENTION_MS));
  const r = await db.query('DELETE FROM kontor_idempotency_keys WHERE created_at < $1', [
    cutoff.toISOString(),
  ]);
  return r.rowCount;
}

function redact(payload: string, fields: string[] | undefined): string {
  if (fields === undefined || fields.length === 0) return payload;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    for (const f of fields) if (f in body) body[f] = '[shown once; not replayable]';
    return JSON.stringify(body);
  } catch {
    return payload;
  }
}

/** Adds the idempotency hooks and the hourly purge; call before routes are added. */
export function installIdempotency(app: App, db: Db, retentionMs: number = IDEMPOTENCY_RETENTION_MS): void {
  app.decorateRequest('idempotencyClaim', null);

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const key = request.headers['idempotency-key'];
    if (key === undefined || request.identity === null) return;
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new ValidationError('Idempotency-Key must be 1–255 printable ASCII characters', [
        { path: 'headers.idempotency-key', message: 'invalid' },
      ]);
    }
    const identityId = request.identity.identityId;
    const requestHash = createHash('sha256')
      .update(
        `${request.method} ${request.routeOptions.url ?? ''} ${JSON.stringify(request.params)}\n${canonicalJson(request.body ?? null)}`,
      )
      .digest('hex');
    const claimed = await db.query(
      `INSERT INTO kontor_idempotency_keys (identity_id, key, request_hash, state) VALUES ($1, $2, $3, 'in_flight')
       ON CONFLICT (identity_id, key) DO NOTHING RETURNING key`,
      [identityId, key, requestHash],
    );
    if (claimed.rows.length === 1) {
      request.idempotencyClaim = { identityId, key, finished: false };
      return;
    }
    const existing = await db.query<{
      request_hash: string;
      state: string;
      response_status: number | null;
      response_body: string | null;
      response_content_type: string | null;
    }>(
      'SELECT request_hash, state, response_status, response_body, response_content_type FROM kontor_idempotency_keys WHERE identity_id = $1 AND key = $2',
      [identityId, key],
    );
    const row = existing.rows[0];
    if (row === undefined)
      throw new ConflictError('the Idempotency-Key was released while checking it; retry');
    if (row.request_hash !== requestHash) {
      throw new AppError(
        ErrorCodes.IDEMPOTENCY_KEY_REUSED,
        'this Idempotency-Key was used with a different request; use a new key for a new request',
      );
    }
    if (row.state !== 'done' || row.response_status === null) {
      throw new ConflictError(
        'a request with this Idempotency-Key is still in progress; retry after it completes',
        { details: { retryable: true } },
      );
    }
    void reply.header('idempotent-replayed', 'true');
    void reply.header('content-type', row.response_content_type ?? 'application/json; charset=utf-8');
    return reply.status(row.response_status).send(row.response_body ?? '');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (claim === null || claim.finished) return payload;
    claim.finished = true;
    if (reply.statusCode >= 500 || typeof payload !== 'string') {
      // A server failure is not an answer worth replaying: free the key so a retry runs again.
      await db.query('DELETE FROM kontor_idempotency_keys WHERE identity_id = $1 AND key = $2', [
        claim.identityId,
        claim.key,
      ]);
      return payload;
    }
    const contentType = reply.getHeader('content-type');
    await db.query(
      `UPDATE kontor_idempotency_keys SET state = 'done', response_status = $3, response_body = $4, response_content_type = $5
        WHERE identity_id = $1 AND key = $2`,
      [
        claim.identityId,
        claim.key,
        reply.statusCode,
        redact(payload, request.routeOptions.config.idempotencyRedact),
        typeof contentType === 'string' ? contentType : null,
      ],
    );
    return payload;
  });

  // A request that died before sending (client gone) must not hold its key for a day.
  app.addHook('onResponse', async (request) => {
    const claim = request.idempotencyClaim;
    if (claim === null || claim.finished) return;
    claim.finished = true;
    await db.query(
      `DELETE FROM kontor_idempotency_keys WHERE identity_id = $1 AND key = $2 AND state = 'in_flight'`,
      [claim.identityId, claim.key],
    );
  });

  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      purgeIdempotencyKeys(db, retentionMs).catch((e: unknown) =>
        app.log.warn({ err: e }, 'purging idempotency keys failed'),
      );
    }, 3_600_000);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer);
  });
}
