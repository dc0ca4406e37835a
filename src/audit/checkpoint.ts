/**
 * Signed checkpoints: an Ed25519 signature over (seq, hash) of the chain head. Whoever holds
 * the public key can prove the log up to that record existed exactly so when it was signed.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { AppError, ErrorCodes } from '../domain/index.ts';
import type { Db } from '../store/index.ts';
import { readAuditHead } from './record.ts';

/** A signing key and the id checkpoints name it by. */
export interface AuditSigner {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** One stored checkpoint. */
export interface AuditCheckpoint {
  seq: bigint;
  hash: string;
  signedAt: Date;
  keyId: string;
  signature: string;
}

/** The exact bytes a checkpoint signs. */
export function checkpointMessage(seq: bigint, hash: string): Buffer {
  return Buffer.from(`kontor-audit-checkpoint:v1:${seq.toString()}:${hash}`, 'utf8');
}

/** Id of a public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Parses KONTOR_AUDIT_SIGNING_KEY (PEM, or base64 PKCS#8 DER) into a signer; throws CONFIG_INVALID. */
export function parseAuditSigningKey(text: string): AuditSigner {
  let privateKey: KeyObject;
  try {
    privateKey = text.includes('-----BEGIN')
      ? createPrivateKey(text.replace(/\\n/g, '\n'))
      : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      'KONTOR_AUDIT_SIGNING_KEY is not a PEM or base64 PKCS#8 private key',
      { cause: e },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `KONTOR_AUDIT_SIGNING_KEY must be an Ed25519 key (got ${privateKey.asymmetricKeyType ?? 'unknown'})`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Makes a new Ed25519 key, as base64 PKCS#8 DER (the form KONTOR_AUDIT_SIGNING_KEY takes). */
export function generateAuditSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
}

/** Signs the current head unless it is already signed; returns the new checkpoint or undefined. */
export async function createAuditCheckpoint(
  db: Db,
  signer: AuditSigner,
  now: Date = new Date(),
): Promise<AuditCheckpoint | undefined> {
  return db.transaction(async (tx) => {
    const head = await readAuditHead(tx);
    if (head.seq === 0n) return undefined;
    const existing = await tx.query('SELECT 1 FROM kontor_audit_checkpoints WHERE seq = $1', [
      head.seq.toString(),
    ]);
    if (existing.rows.length > 0) return undefined;
    const signature = sign(null, checkpointMessage(head.seq, head.hash), signer.privateKey).toString(
      'base64',
    );
    const checkpoint: AuditCheckpoint = {
      seq: head.seq,
      hash: head.hash,
      signedAt: now,
      keyId: signer.keyId,
      signature,
    };
    await tx.query(
      'INSERT INTO kontor_audit_checkpoints (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)',
      [head.seq.toString(), head.hash, now.toISOString(), signer.keyId, signature],
    );
    return checkpoint;
  });
}

/** True when the signature of a checkpoint is valid for the given public key. */
export function verifyCheckpointSignature(
  checkpoint: Pick<AuditCheckpoint, 'seq' | 'hash' | 'signature'>,
  publicKey: KeyObject,
): boolean {
  try {
    return verify(
      null,
      checkpointMessage(checkpoint.seq, checkpoint.hash),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
