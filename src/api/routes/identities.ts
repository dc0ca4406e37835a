/**
 * Identities over the API: list them (identities:read), create one (identities:admin), and
 * POST /oauth/token, the OAuth 2.0 client-credentials grant (RFC 6749 §4.4): the client id is
 * the identity's id or name, the secret its API key, sent as HTTP Basic or in the form body.
 * Token errors use Kontor's one error body rather than RFC 6749 §5.2's.
 */
import { z } from 'zod';
import { AppError, ErrorCodes } from '../../domain/index.ts';
import type { IdentitySummary } from '../../identity/index.ts';
import { IDENTITY_KINDS, hasScope, isScope, parseDuration } from '../../policy/index.ts';
import { authenticationError } from '../plugins/auth.ts';
import type { RouteModule } from './types.ts';

const keyDto = z.object({
  id: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  status: z.enum(['valid', 'expired', 'revoked', 'not-yet-valid']),
});

const identityDto = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(IDENTITY_KINDS),
  scopes: z.array(z.string()),
  roles: z.array(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  disabledAt: z.string().nullable(),
  keys: z.array(keyDto),
});

/** The JSON form of an identity (no key material). */
export function toIdentityDto(i: IdentitySummary): z.infer<typeof identityDto> {
  return {
    ...i,
    createdAt: i.createdAt.toISOString(),
    disabledAt: i.disabledAt?.toISOString() ?? null,
    keys: i.keys.map((k) => ({
      ...k,
      createdAt: k.createdAt.toISOString(),
      expiresAt: k.expiresAt.toISOString(),
      revokedAt: k.revokedAt?.toISOString() ?? null,
    })),
  };
}

/** GET and POST /v1/identities. */
export const identityRoutes: RouteModule = async (app, services) => {
  const identities = () => {
    if (services.security === undefined)
      throw new AppError(ErrorCodes.UNAUTHENTICATED, 'authentication is not configured on this server');
    return services.security.identities;
  };

  app.get(
    '/v1/identities',
    {
      config: { scope: 'identities:read' },
      schema: {
        tags: ['identities'],
        summary: 'List identities and their keys (never the keys themselves)',
        security: [{ apiKey: [] }],
        response: { 200: z.object({ data: z.array(identityDto) }) },
      },
    },
    async () => ({ data: (await identities().list()).map(toIdentityDto) }),
  );

  app.post(
    '/v1/identities',
    {
      // The key is shown once: an Idempotency-Key replay returns the response without it.
      config: { scope: 'identities:admin', idempotencyRedact: ['apiKey'] },
      schema: {
        tags: ['identities'],
        summary: 'Create an identity; the response carries its API key, shown this once',
        security: [{ apiKey: [] }],
        body: z.strictObject({
          name: z
            .string()
            .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-"'),
          kind: z.enum(IDENTITY_KINDS),
          scopes: z.array(z.string().refine(isScope, 'unknown scope')).min(1),
          roles: z.array(z.string().min(1).max(64)).max(32).optional(),
          expiresIn: z
            .string()
            .regex(/^\d+[smhdw]$/, 'a duration such as 90d')
            .optional(),
        }),
        response: {
          201: z.object({
            identity: identityDto,
            apiKey: z.string(),
            keyId: z.string(),
            expiresAt: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = request.identity;
      if (caller === null) throw authenticationError('unknown-key');
      // Least privilege: nobody hands out more than they hold themselves.
      const beyond = request.body.scopes.filter((s) => !hasScope(caller.scopes, s));
      if (beyond.length > 0) {
        throw new AppError(
          ErrorCodes.FORBIDDEN,
          `you cannot grant scopes you do not hold: ${beyond.join(', ')}`,
          { details: { scopes: beyond } },
        );
      }
      const { identity, key } = await identities().create({
        name: request.body.name,
        kind: request.body.kind,
        scopes: request.body.scopes,
        roles: request.body.roles,
        expiresInMs:
          request.body.expiresIn === undefined
            ? undefined
            : parseDuration(request.body.expiresIn, 'expiresIn'),
        actor: caller.identityId,
      });
      return reply.status(201).send({
        identity: toIdentityDto(identity),
        apiKey: key.apiKey,
        keyId: key.keyId,
        expiresAt: key.expiresAt.toISOString(),
      });
    },
  );
};

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

/** POST /oauth/token. */
export const oauthRoutes: RouteModule = async (app, services) => {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.post(
    '/oauth/token',
    {
      // Public: the request itself carries the client credentials, checked in the handler.
      config: { scope: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Exchange client credentials (identity + API key) for a short-lived access token',
        body: z
          .object({
            grant_type: z.string().optional(),
            client_id: z.string().max(200).optional(),
            client_secret: z.string().max(200).optional(),
            scope: z.string().max(2000).optional(),
          })
          .optional(),
        response: {
          200: z.object({
            access_token: z.string(),
            token_type: z.literal('Bearer'),
            expires_in: z.number(),
            scope: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const basic = basicCredentials(request.headers.authorization);
      const id = basic?.id ?? body.client_id;
      const secret = basic?.secret ?? body.client_secret;
      if (id === undefined || secret === undefined || services.security === undefined) {
        throw new AppError(
          ErrorCodes.UNAUTHENTICATED,
          'client credentials required (HTTP Basic or client_id + client_secret)',
          { details: { reason: 'invalid-client' } },
        );
      }
      if (body.grant_type !== 'client_credentials') {
        throw new AppError(ErrorCodes.VALIDATION_FAILED, 'grant_type must be client_credentials', {
          details: { issues: [{ path: 'body.grant_type', message: 'expected client_credentials' }] },
        });
      }
      const issued = await services.security.tokens.issue(id, secret, body.scope);
      if (!issued.ok) {
        if (issued.error === 'invalid-scope')
          throw new AppError(ErrorCodes.FORBIDDEN, 'a requested scope is not granted to this identity');
        throw authenticationError(issued.error);
      }
      void reply.header('cache-control', 'no-store');
      return {
        access_token: issued.value.accessToken,
        token_type: issued.value.tokenType,
        expires_in: issued.value.expiresIn,
        scope: issued.value.scope,
      };
    },
  );
};
