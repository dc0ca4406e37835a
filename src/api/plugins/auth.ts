/**
 * Authentication and scopes: every route must declare `config.scope` (the server refuses to
 * start otherwise); non-public routes need a Bearer API key or access token whose identity
 * holds that scope. Credentials are checked against the store on every request.
 */
import { AppError, ErrorCodes } from '../../domain/index.ts';
import type { AuditSigner } from '../../audit/index.ts';
import type { IdentityService, Principal, TokenFailure, TokenService } from '../../identity/index.ts';
import { hasScope, isScope } from '../../policy/index.ts';
import type { App } from '../routes/types.ts';

/** What the security edge needs from the composition root. */
export interface SecurityServices {
  identities: IdentityService;
  tokens: TokenService;
  /** Signs audit checkpoints; absent = no periodic checkpoints. */
  auditSigner?: AuditSigner | undefined;
  /** Requests per identity (or per IP when anonymous) and window; default 600 per minute. */
  rateLimit?: { max: number; timeWindowMs: number } | undefined;
  /** How long Idempotency-Keys are kept; default and minimum 24 h. */
  idempotencyRetentionMs?: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null on public routes. */
    identity: Principal | null;
  }
}

const FAILURE_MESSAGES: Record<TokenFailure, string> = {
  'unknown-key': 'the API key is not valid',
  expired: 'the API key has expired',
  revoked: 'the API key has been revoked',
  'not-yet-valid': 'the API key is not valid yet',
  'identity-disabled': 'the identity has been revoked',
  'invalid-token': 'the access token is invalid or expired',
  'invalid-client': 'the client credentials are not valid',
  'invalid-scope': 'a requested scope is not granted to this identity',
};

/** The error for a failed authentication (401), safe to show the caller. */
export function authenticationError(failure: TokenFailure): AppError {
  return new AppError(ErrorCodes.UNAUTHENTICATED, FAILURE_MESSAGES[failure], {
    details: { reason: failure },
  });
}

/** Adds the scope-declaration check and the authentication hook; call before routes are added. */
export function installAuth(app: App, security: SecurityServices | undefined): void {
  app.decorateRequest('identity', null);
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (scope === undefined) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no config.scope: every route must say who may call it ('<resource>:<action>' or 'public')`,
      );
    }
    if (scope !== 'public' && !isScope(scope)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares unknown scope "${scope}"`);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const scope = request.routeOptions.config.scope;
    if (scope === 'public') return;
    if (scope === undefined || !isScope(scope))
      throw new AppError(ErrorCodes.FORBIDDEN, 'this route declares no scope');
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      throw new AppError(
        ErrorCodes.UNAUTHENTICATED,
        'authentication required: send "Authorization: Bearer <API key or access token>"',
        {
          details: { reason: 'missing-credentials' },
        },
      );
    }
    if (security === undefined)
      throw new AppError(ErrorCodes.UNAUTHENTICATED, 'authentication is not configured on this server');
    const credential = match[1]!;
    const result = credential.startsWith('kontor_')
      ? await security.identities.authenticateKey(credential)
      : await security.tokens.verify(credential);
    if (!result.ok) {
      request.log.warn({ reason: result.error, scope }, 'authentication failed');
      throw authenticationError(result.error);
    }
    const principal = result.value;
    request.identity = principal;
    request.correlation.identityId = principal.identityId;
    request.log = request.log.child({ identityId: principal.identityId });
    reply.log = request.log;
    if (!hasScope(principal.scopes, scope)) {
      request.log.warn({ scope }, 'scope missing');
      throw new AppError(ErrorCodes.FORBIDDEN, `this request needs the scope ${scope}`, {
        details: { requiredScope: scope },
      });
    }
  });
}
