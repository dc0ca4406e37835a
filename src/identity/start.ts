/** Wires the security services for the composition root: secrets, identities, tokens and audit checkpoints. */
import { createAuditCheckpoint, parseAuditSigningKey, type AuditSigner } from '../audit/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from '../store/index.ts';
import { IdentityService } from './identities.ts';
import { resolveSecuritySecrets } from './secrets.ts';
import { TokenService } from './tokens.ts';

/** Default interval between signed audit checkpoints. */
export const AUDIT_CHECKPOINT_INTERVAL_MS = 15 * 60_000;

export interface RunningSecurity {
  identities: IdentityService;
  tokens: TokenService;
  auditSigner: AuditSigner;
  /** Signs a final checkpoint and stops the timer. */
  stop(): Promise<void>;
}

/** Resolves the secrets and starts periodic audit checkpoints. */
export function startSecurity(options: {
  db: Db;
  secrets: Record<string, string>;
  dataDir: string;
  logger: Logger;
  checkpointIntervalMs?: number | undefined;
}): RunningSecurity {
  const { db, logger } = options;
  const secrets = resolveSecuritySecrets({ secrets: options.secrets, dataDir: options.dataDir, logger });
  const identities = new IdentityService(db, secrets.apiKeyPepper);
  const tokens = new TokenService(identities, secrets.jwtSecret);
  const auditSigner = parseAuditSigningKey(secrets.auditSigningKey);
  const checkpoint = async () => {
    try {
      const c = await createAuditCheckpoint(db, auditSigner);
      if (c !== undefined) logger.info({ seq: c.seq.toString(), keyId: c.keyId }, 'audit checkpoint signed');
    } catch (e) {
      logger.warn({ err: e }, 'signing an audit checkpoint failed');
    }
  };
  const timer = setInterval(
    () => void checkpoint(),
    options.checkpointIntervalMs ?? AUDIT_CHECKPOINT_INTERVAL_MS,
  );
  timer.unref();
  return {
    identities,
    tokens,
    auditSigner,
    async stop() {
      clearInterval(timer);
      await checkpoint();
    },
  };
}
