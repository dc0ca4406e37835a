/**
 * Identities of people and systems, their hashed API keys, short-lived access tokens, and the
 * security secrets they depend on. Decisions come from `policy`; this folder persists them.
 */
export {
  IdentityService,
  type Principal,
  type IdentitySummary,
  type AuthFailure,
  type CreateIdentityInput,
  type IssuedKey,
} from './identities.ts';
export { TokenService, ACCESS_TOKEN_TTL_SECONDS, type IssuedToken, type TokenFailure } from './tokens.ts';
export { resolveSecuritySecrets, generatedSecretsFile, type SecuritySecrets } from './secrets.ts';
export { startSecurity, AUDIT_CHECKPOINT_INTERVAL_MS, type RunningSecurity } from './start.ts';
