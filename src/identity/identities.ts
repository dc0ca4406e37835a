/**
 * Identities and their API keys in the store: create (the key is shown once, only its HMAC is
 * kept), rotate with an overlap window, revoke at once, list, and authenticate a key.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { recordAudit } from '../audit/index.ts';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  err,
  ok,
  type Clock,
  type Result,
} from '../domain/index.ts';
import {
  DEFAULT_KEY_LIFETIME_MS,
  DEFAULT_ROTATION_OVERLAP_MS,
  MAX_KEY_LIFETIME_MS,
  evaluateKey,
  findInvalidScopes,
  planRotationExpiry,
  type IdentityKind,
  type KeyStatus,
} from '../policy/index.ts';
import type { Db, Queryable } from '../store/index.ts';

/** An authenticated caller. */
export interface Principal {
  identityId: string;
  name: string;
  kind: IdentityKind;
  scopes: string[];
  roles: string[];
  /** How the caller proved who it is. */
  via: 'api-key' | 'jwt';
  /** The API key used (directly, or to obtain the token). */
  keyId: string;
}

/** An identity as listed (never with key material). */
export interface IdentitySummary {
  id: string;
  name: string;
  kind: IdentityKind;
  scopes: string[];
  roles: string[];
  createdAt: Date;
  createdBy: string;
  disabledAt: Date | null;
  keys: {
    id: string;
    prefix: string;
    createdAt: Date;
    expiresAt: Date;
    revokedAt: Date | null;
    status: KeyStatus;
  }[];
}

/** Why authentication failed; safe to tell the caller. */
export type AuthFailure = 'unknown-key' | 'expired' | 'revoked' | 'not-yet-valid' | 'identity-disabled';

export interface CreateIdentityInput {
  name: string;
  kind: IdentityKind;
  scopes: string[];
  roles?: string[] | undefined;
  /** Lifetime of the first key; default 90 days, at most 366. */
  expiresInMs?: number | undefined;
  /** Who creates it (identity id, or `cli`). */
  actor: string;
}

/** A new key: the plain text is returned exactly once. */
export interface IssuedKey {
  identityId: string;
  keyId: string;
  apiKey: string;
  expiresAt: Date;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const KEY_PREFIX = 'kontor_';

interface IdentityRow {
  id: string;
  name: string;
  kind: IdentityKind;
  scopes: string[] | string;
  roles: string[] | string;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

const json = (v: string[] | string): string[] => (typeof v === 'string' ? (JSON.parse(v) as string[]) : v);

/** Identity management over one store, with the server pepper and an injected clock. */
export class IdentityService {
  readonly #db: Db;
  readonly #pepper: string;
  readonly #clock: Clock;

  constructor(db: Db, pepper: string, clock: Clock = { now: () => new Date() }) {
    if (pepper.length < 32)
      throw new ValidationError('the API-key pepper must be at least 32 characters', [
        { path: 'KONTOR_API_KEY_PEPPER', message: 'too short' },
      ]);
    this.#db = db;
    this.#pepper = pepper;
    this.#clock = clock;
  }

  /** HMAC-SHA256 of a key with the pepper: what the store keeps instead of the key. */
  hashKey(apiKey: string): string {
    return createHmac('sha256', this.#pepper).update(apiKey, 'utf8').digest('hex');
  }

  async #issueKey(q: Queryable, identityId: string, expiresInMs: number | undefined): Promise<IssuedKey> {
    const lifetime = expiresInMs ?? DEFAULT_KEY_LIFETIME_MS;
    if (lifetime <= 0 || lifetime > MAX_KEY_LIFETIME_MS) {
      throw new ValidationError('an API key must expire within 366 days', [
        { path: 'expiresIn', message: 'at most 366d' },
      ]);
    }
    // 256 random bits: a hash lookup cannot be brute-forced, so a fast HMAC is enough (ADR 0007).
    const apiKey = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + lifetime);
    const keyId = `key_${randomUUID()}`;
    await q.query(
      'INSERT INTO kontor_api_keys (id, identity_id, key_hash, prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        keyId,
        identityId,
        this.hashKey(apiKey),
        apiKey.slice(0, KEY_PREFIX.length + 6),
        now.toISOString(),
        expiresAt.toISOString(),
      ],
    );
    return { identityId, keyId, apiKey, expiresAt };
  }

  /** Creates an identity with its first API key. */
  async create(input: CreateIdentityInput): Promise<{ identity: IdentitySummary; key: IssuedKey }> {
    if (!NAME.test(input.name)) {
      throw new ValidationError(
        `identity name "${input.name}" must be 1–64 lower-case letters, digits, ".", "_" or "-"`,
        [{ path: 'name', message: 'invalid name' }],
      );
    }
    const invalid = findInvalidScopes(input.scopes);
    if (invalid.length > 0) {
      throw new ValidationError(
        `unknown scope(s): ${invalid.join(', ')}`,
        invalid.map((s) => ({ path: 'scopes', message: `unknown scope ${s}` })),
      );
    }
    const id = `idn_${randomUUID()}`;
    const now = this.#clock.now();
    const key = await this.#db.transaction(async (tx) => {
      const exists = await tx.query('SELECT 1 FROM kontor_identities WHERE name = $1', [input.name]);
      if (exists.rows.length > 0) throw new ConflictError(`an identity named "${input.name}" already exists`);
      await tx.query(
        'INSERT INTO kontor_identities (id, name, kind, scopes, roles, created_at, created_by) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7)',
        [
          id,
          input.name,
          input.kind,
          JSON.stringify([...new Set(input.scopes)]),
          JSON.stringify(input.roles ?? []),
          now.toISOString(),
          input.actor,
        ],
      );
      const issued = await this.#issueKey(tx, id, input.expiresInMs);
      await recordAudit(tx, {
        actor: input.actor,
        action: 'identity.created',
        resourceType: 'identity',
        resourceId: id,
        after: { name: input.name, kind: input.kind, scopes: input.scopes, roles: input.roles ?? [] },
        details: { name: input.name, kind: input.kind, keyId: issued.keyId },
        time: now,
      });
      return issued;
    });
    return { identity: await this.get(input.name), key };
  }

  async #find(q: Queryable, nameOrId: string): Promise<IdentityRow> {
    const r = await q.query<IdentityRow>(
      'SELECT id, name, kind, scopes, roles, created_at, created_by, disabled_at FROM kontor_identities WHERE name = $1 OR id = $1',
      [nameOrId],
    );
    const row = r.rows[0];
    if (row === undefined) throw new NotFoundError(`no identity "${nameOrId}"`);
    return row;
  }

  /** Issues a new key and lets the identity's current keys expire after the overlap window. */
  async rotate(input: {
    nameOrId: string;
    overlapMs?: number | undefined;
    expiresInMs?: number | undefined;
    actor: string;
  }): Promise<IssuedKey> {
    const overlap = input.overlapMs ?? DEFAULT_ROTATION_OVERLAP_MS;
    return this.#db.transaction(async (tx) => {
      const identity = await this.#find(tx, input.nameOrId);
      if (identity.disabled_at !== null)
        throw new ConflictError(`identity "${identity.name}" is revoked; create a new one`);
      const now = this.#clock.now();
      const old = await tx.query<{ id: string; expires_at: Date }>(
        'SELECT id, expires_at FROM kontor_api_keys WHERE identity_id = $1 AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE',
        [identity.id, now.toISOString()],
      );
      for (const k of old.rows) {
        await tx.query('UPDATE kontor_api_keys SET expires_at = $2 WHERE id = $1', [
          k.id,
          planRotationExpiry(k.expires_at, now, overlap).toISOString(),
        ]);
      }
      const issued = await this.#issueKey(tx, identity.id, input.expiresInMs);
      await recordAudit(tx, {
        actor: input.actor,
        action: 'identity.key-rotated',
        resourceType: 'identity',
        resourceId: identity.id,
        details: { newKeyId: issued.keyId, retiredKeyIds: old.rows.map((k) => k.id), overlapMs: overlap },
        time: now,
      });
      return issued;
    });
  }

  /** Revokes one key, or the whole identity (every key and token) when no key id is given; effective at once. */
  async revoke(input: {
    nameOrId: string;
    keyId?: string | undefined;
    actor: string;
  }): Promise<{ revokedKeys: string[] }> {
    return this.#db.transaction(async (tx) => {
      const identity = await this.#find(tx, input.nameOrId);
      const now = this.#clock.now().toISOString();
      const r = await tx.query<{ id: string }>(
        input.keyId === undefined
          ? 'UPDATE kontor_api_keys SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL RETURNING id'
          : 'UPDATE kontor_api_keys SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL AND id = $3 RETURNING id',
        input.keyId === undefined ? [identity.id, now] : [identity.id, now, input.keyId],
      );
      if (input.keyId !== undefined && r.rows.length === 0)
        throw new NotFoundError(`identity "${identity.name}" has no active key ${input.keyId}`);
      if (input.keyId === undefined)
        await tx.query(
          'UPDATE kontor_identities SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL',
          [identity.id, now],
        );
      await recordAudit(tx, {
        actor: input.actor,
        action: input.keyId === undefined ? 'identity.revoked' : 'identity.key-revoked',
        resourceType: 'identity',
        resourceId: identity.id,
        details: { keyIds: r.rows.map((k) => k.id) },
      });
      return { revokedKeys: r.rows.map((k) => k.id) };
    });
  }

  /** One identity with its keys. */
  async get(nameOrId: string): Promise<IdentitySummary> {
    const row = await this.#find(this.#db, nameOrId);
    return (await this.#summarise([row]))[0]!;
  }

  /** Every identity with its keys, by name. */
  async list(): Promise<IdentitySummary[]> {
    const r = await this.#db.query<IdentityRow>(
      'SELECT id, name, kind, scopes, roles, created_at, created_by, disabled_at FROM kontor_identities ORDER BY name',
    );
    return this.#summarise(r.rows);
  }

  async #summarise(rows: IdentityRow[]): Promise<IdentitySummary[]> {
    if (rows.length === 0) return [];
    const keys = await this.#db.query<{
      id: string;
      identity_id: string;
      prefix: string;
      created_at: Date;
      expires_at: Date;
      revoked_at: Date | null;
    }>(
      'SELECT id, identity_id, prefix, created_at, expires_at, revoked_at FROM kontor_api_keys WHERE identity_id = ANY($1::text[]) ORDER BY created_at',
      [rows.map((r) => r.id)],
    );
    const now = this.#clock.now();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      scopes: json(r.scopes),
      roles: json(r.roles),
      createdAt: r.created_at,
      createdBy: r.created_by,
      disabledAt: r.disabled_at,
      keys: keys.rows
        .filter((k) => k.identity_id === r.id)
        .map((k) => ({
          id: k.id,
          prefix: k.prefix,
          createdAt: k.created_at,
          expiresAt: k.expires_at,
          revokedAt: k.revoked_at,
          status: evaluateKey(
            { createdAt: k.created_at, expiresAt: k.expires_at, revokedAt: k.revoked_at },
            now,
          ),
        })),
    }));
  }

  /** Authenticates a presented API key; every call reads the store, so revocation is immediate. */
  async authenticateKey(apiKey: string): Promise<Result<Principal, AuthFailure>> {
    if (!apiKey.startsWith(KEY_PREFIX)) return err('unknown-key');
    const hash = this.hashKey(apiKey);
    const r = await this.#db.query<
      {
        key_id: string;
        key_hash: string;
        created_at: Date;
        expires_at: Date;
        revoked_at: Date | null;
      } & IdentityRow
    >(
      `SELECT k.id AS key_id, k.key_hash, k.created_at, k.expires_at, k.revoked_at,
              i.id, i.name, i.kind, i.scopes, i.roles, i.created_by, i.disabled_at
         FROM kontor_api_keys k JOIN kontor_identities i ON i.id = k.identity_id
        WHERE k.key_hash = $1`,
      [hash],
    );
    const row = r.rows[0];
    // The lookup is by hash; compare again in constant time so no timing difference leaks.
    if (row === undefined || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex')))
      return err('unknown-key');
    return this.#principalFrom(
      row,
      row.key_id,
      { createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at },
      'api-key',
    );
  }

  /** Re-checks an identity and key named in a token; revoked keys or identities fail at once. */
  async authenticateKeyId(identityId: string, keyId: string): Promise<Result<Principal, AuthFailure>> {
    const r = await this.#db.query<
      { key_id: string; created_at: Date; expires_at: Date; revoked_at: Date | null } & IdentityRow
    >(
      `SELECT k.id AS key_id, k.created_at, k.expires_at, k.revoked_at,
              i.id, i.name, i.kind, i.scopes, i.roles, i.created_by, i.disabled_at
         FROM kontor_api_keys k JOIN kontor_identities i ON i.id = k.identity_id
        WHERE k.id = $1 AND i.id = $2`,
      [keyId, identityId],
    );
    const row = r.rows[0];
    if (row === undefined) return err('unknown-key');
    return this.#principalFrom(
      row,
      row.key_id,
      { createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at },
      'jwt',
    );
  }

  #principalFrom(
    identity: Pick<IdentityRow, 'id' | 'name' | 'kind' | 'scopes' | 'roles' | 'disabled_at'>,
    keyId: string,
    key: { createdAt: Date; expiresAt: Date; revokedAt: Date | null },
    via: Principal['via'],
  ): Result<Principal, AuthFailure> {
    if (identity.disabled_at !== null) return err('identity-disabled');
    const status = evaluateKey(key, this.#clock.now());
    if (status !== 'valid') return err(status);
    return ok({
      identityId: identity.id,
      name: identity.name,
      kind: identity.kind,
      scopes: json(identity.scopes),
      roles: json(identity.roles),
      via,
      keyId,
    });
  }
}
