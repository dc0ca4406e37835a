/**
 * Pure rules about identities and their API keys: kinds, expiry, rotation overlap, durations.
 * Persistence lives in `src/identity`; these functions only decide.
 */
import { ValidationError } from '../../domain/index.ts';

/** Services are systems (bank adapter, PSP, planning tool); humans are approvers and operators. */
export const IDENTITY_KINDS = ['service', 'human'] as const;

export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** The state of one API key as stored (never the key itself). */
export interface ApiKeyState {
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** Why a key cannot be used, or 'valid'. */
export type KeyStatus = 'valid' | 'expired' | 'revoked' | 'not-yet-valid';

/** Decides whether a key may authenticate a request at `now`. */
export function evaluateKey(key: ApiKeyState, now: Date): KeyStatus {
  if (key.revokedAt !== null && key.revokedAt.getTime() <= now.getTime()) return 'revoked';
  if (key.createdAt.getTime() > now.getTime()) return 'not-yet-valid';
  if (key.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'valid';
}

/**
 * The expiry an old key gets when it is rotated: it stays valid for the overlap window (so
 * deployments can switch over), but never longer than it would have anyway.
 */
export function planRotationExpiry(oldExpiresAt: Date, now: Date, overlapMs: number): Date {
  return new Date(Math.min(oldExpiresAt.getTime(), now.getTime() + overlapMs));
}

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses `90d`, `12h`, `30m`, `45s` or `2w` into milliseconds; throws VALIDATION_FAILED otherwise. */
export function parseDuration(text: string, field = 'duration'): number {
  const m = DURATION.exec(text.trim());
  if (m === null || Number(m[1]) <= 0) {
    throw new ValidationError(`${field} "${text}" is not a duration such as 90d, 12h or 30m`, [
      { path: field, message: 'expected <number><s|m|h|d|w>' },
    ]);
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Longest lifetime of an API key: a key that never expires is a key nobody rotates. */
export const MAX_KEY_LIFETIME_MS = 366 * 86_400_000;

/** Default lifetime of a new API key. */
export const DEFAULT_KEY_LIFETIME_MS = 90 * 86_400_000;

/** Default time an old key stays valid after a rotation. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;
