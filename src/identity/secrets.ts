/**
 * The security secrets: the API-key pepper, the JWT signing secret and the audit signing key.
 * They come from the environment or the secrets file; a missing one is generated once into
 * `<dataDir>/secrets.generated.env` (mode 0600) with a warning, so a demo works and keeps its
 * keys across restarts. Production sets them explicitly (see docs/security.md).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAuditSigningKey } from '../audit/index.ts';
import type { Logger } from '../observability/index.ts';

/** The secrets the security edge and the audit log need. */
export interface SecuritySecrets {
  /** HMAC key for API-key hashes (≥ 32 bytes). */
  apiKeyPepper: string;
  /** HS256 secret for access tokens from /oauth/token (≥ 32 bytes). */
  jwtSecret: string;
  /** Ed25519 private key for audit checkpoints (PEM or base64 PKCS#8). */
  auditSigningKey: string;
  /** Names of the secrets generated on this call (never their values). */
  generated: string[];
}

const GENERATORS = {
  KONTOR_API_KEY_PEPPER: () => randomBytes(32).toString('base64url'),
  KONTOR_JWT_SECRET: () => randomBytes(32).toString('base64url'),
  KONTOR_AUDIT_SIGNING_KEY: generateAuditSigningKey,
} as const;

type SecretName = keyof typeof GENERATORS;

/** The file generated secrets are kept in. */
export function generatedSecretsFile(dataDir: string): string {
  return join(dataDir, 'secrets.generated.env');
}

function readGenerated(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Resolves the security secrets: given ones first, then the generated file in `dataDir`, then
 * new ones (written to that file, or kept in memory when `dataDir` is `:memory:`).
 */
export function resolveSecuritySecrets(options: {
  secrets: Record<string, string>;
  dataDir: string;
  logger?: Logger | undefined;
}): SecuritySecrets {
  const persistent = options.dataDir !== ':memory:';
  const file = persistent ? generatedSecretsFile(options.dataDir) : undefined;
  const stored = file === undefined ? {} : readGenerated(file);
  const generated: string[] = [];
  const value = (name: SecretName): string => {
    const given = options.secrets[name];
    if (given !== undefined && given !== '') return given;
    const kept = stored[name];
    if (kept !== undefined && kept !== '') return kept;
    const made = GENERATORS[name]();
    generated.push(name);
    if (file !== undefined) {
      mkdirSync(options.dataDir, { recursive: true });
      appendFileSync(file, `${name}=${made}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    return made;
  };
  const result: SecuritySecrets = {
    apiKeyPepper: value('KONTOR_API_KEY_PEPPER'),
    jwtSecret: value('KONTOR_JWT_SECRET'),
    auditSigningKey: value('KONTOR_AUDIT_SIGNING_KEY'),
    generated,
  };
  if (generated.length > 0) {
    options.logger?.warn(
      { generated, file: file ?? '(memory only)' },
      persistent
        ? 'security secrets were generated and stored in the data directory; set them in the environment or the secrets file for production'
        : 'security secrets were generated in memory only: API keys and tokens stop working at restart',
    );
  }
  return result;
}
