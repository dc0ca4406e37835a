/**
 * Short-lived access tokens (OAuth 2.0 client credentials, RFC 6749 §4.4): an identity trades
 * its API key for an HS256 JWT. Every use re-checks the identity and the key in the store, so
 * revoking either stops its tokens at once.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { err, ok, type Clock, type Result } from '../domain/index.ts';
import { hasScope, isScope } from '../policy/index.ts';
import type { AuthFailure, IdentityService, Principal } from './identities.ts';

const ISSUER = 'kontor';
const AUDIENCE = 'kontor-api';

/** Default lifetime of an access token. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  scope: string;
}

/** Why a token or a token request is refused. */
export type TokenFailure = AuthFailure | 'invalid-token' | 'invalid-client' | 'invalid-scope';

/** Issues and verifies access tokens for one server secret. */
export class TokenService {
  readonly #secret: Uint8Array;
  readonly #identities: IdentityService;
  readonly #clock: Clock;
  readonly #ttl: number;

  constructor(
    identities: IdentityService,
    secret: string,
    options: { clock?: Clock; ttlSeconds?: number } = {},
  ) {
    if (secret.length < 32) throw new Error('KONTOR_JWT_SECRET must be at least 32 characters');
    this.#secret = new TextEncoder().encode(secret);
    this.#identities = identities;
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#ttl = options.ttlSeconds ?? ACCESS_TOKEN_TTL_SECONDS;
  }

  /** Client credentials grant: `clientId` is the identity's id or name, `clientSecret` its API key. */
  async issue(
    clientId: string,
    clientSecret: string,
    requestedScope?: string,
  ): Promise<Result<IssuedToken, TokenFailure>> {
    const auth = await this.#identities.authenticateKey(clientSecret);
    if (!auth.ok) return err(auth.error === 'unknown-key' ? 'invalid-client' : auth.error);
    const p = auth.value;
    if (clientId !== p.identityId && clientId !== p.name) return err('invalid-client');
    let scopes = p.scopes;
    if (requestedScope !== undefined && requestedScope.trim() !== '') {
      const wanted = requestedScope.trim().split(/\s+/);
      if (wanted.some((s) => !isScope(s) || !hasScope(p.scopes, s))) return err('invalid-scope');
      scopes = wanted;
    }
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    const accessToken = await new SignJWT({ scope: scopes.join(' '), key: p.keyId, kind: p.kind })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(p.identityId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.#ttl)
      .sign(this.#secret);
    return ok({ accessToken, tokenType: 'Bearer', expiresIn: this.#ttl, scope: scopes.join(' ') });
  }

  /** Verifies a token and returns its principal, with scopes limited to what the identity still holds. */
  async verify(token: string): Promise<Result<Principal, TokenFailure>> {
    let payload: { sub?: string; scope?: unknown; key?: unknown };
    try {
      ({ payload } = await jwtVerify(token, this.#secret, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: this.#clock.now(),
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch {
      return err('invalid-token');
    }
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.key !== 'string' ||
      typeof payload.scope !== 'string'
    )
      return err('invalid-token');
    const current = await this.#identities.authenticateKeyId(payload.sub, payload.key);
    if (!current.ok) return err(current.error);
    const granted = payload.scope.split(' ').filter((s) => isScope(s) && hasScope(current.value.scopes, s));
    return ok({ ...current.value, scopes: granted, via: 'jwt' });
  }
}
